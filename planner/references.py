"""Reference images in words: which image a prompt means, and what it becomes in the Plan.

A prompt that comes with reference images names them in many ways: "reference 2", "the
bottle from image 1", "image 1's bottle", "the second photo", "these products", "both",
"图1中的杯子", "画像1のカップ", "이미지 1의 컵". ``read`` finds each mention and its role:

- ``object``: the image stands for a thing in the picture (``ObjectElement.reference``);
- ``backdrop``: "on the background from image 2", "以图2为背景" (``Background.reference``);
- ``style``: "in the style of image 3", "图3的风格" (``Style.reference``: its palette).

It also returns the prompt with the mentions replaced by plain nouns, so any planner can
plan it ("the bottle from image 1 on a beach" → "the bottle on a beach"). ``bind`` then
points the planned elements at their images, and adds (through the layout solver of
``planner.revise``) every image the planner left out: a reference given is always used.

Words only: no PIL, no torch. Indexes in the Plan are 0-based; people count from 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from planner import lexicon as lx
from planner.schema import Plan, PlanError

ROLES = ("object", "backdrop", "style")
#: The label of a reference the prompt names without a noun ("put both on a table").
GENERIC = "product"

_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
             "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11,
             "twelfth": 12, "last": -1}
_CJK_NUM = {"一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
            "八": 8, "九": 9, "十": 10}

# --- English ---------------------------------------------------------------------------
_EN_IMG = r"(?:reference|ref|image|img|picture|pic|photo|photograph|upload)"
_EN_IDX = re.compile(
    rf"\b(?:the\s+)?(?:{_EN_IMG}\s*(?:#|no\.?\s*|number\s+)?(?P<num>\d+)\b"
    rf"|(?P<ord>{'|'.join(_ORDINALS)})\s+{_EN_IMG}\b)", re.IGNORECASE)
_EN_BACKDROP_BEFORE = re.compile(
    r"(?:\b(?:on|against|over|in\s+front\s+of|in|with|onto|into|using)\s+)?(?:the\s+|a\s+)?"
    r"(?:background|backdrop|setting|scene|room|place)\s+(?:from|of|in|shown\s+in)\s+$",
    re.IGNORECASE)
_EN_BACKDROP_AFTER = re.compile(
    r"^\s*(?:as|for)\s+(?:the\s+|a\s+)?(?:background|backdrop|setting|scene)\b", re.IGNORECASE)
_EN_USE_BEFORE = re.compile(r"\b(?:use|using|with|take|taking)\s+$", re.IGNORECASE)
_EN_STYLE_BEFORE = re.compile(
    r"(?:\b(?:in|with|using|after)\s+)?(?:the\s+)?(?:style|colou?rs?|palette|look|texture|"
    r"mood|tones?)\s+(?:of|from)\s+$|\bstyled\s+(?:like|after)\s+$|\b(?:in\s+the\s+style\s+of"
    r"|(?:looking|painted|drawn)\s+like)\s+$", re.IGNORECASE)
_EN_STYLE_AFTER = re.compile(r"^(?:'s|’s)\s+(?:style|palette|colou?rs?|look)\b", re.IGNORECASE)
_DETERMINERS = r"the|a|an|this|that|my|our|his|her|its|their"
_EN_NOUN_BEFORE = re.compile(
    rf"(?:\b(?P<det>{_DETERMINERS})\s+)(?P<np>(?:[a-z][\w-]*\s+){{0,2}}[a-z][\w-]*)\s+"
    r"(?:from|in|of|shown\s+in|seen\s+in|pictured\s+in|out\s+of)\s+$", re.IGNORECASE)
_EN_NOUN_AFTER = re.compile(r"^(?:'s|’s)\s+(?P<np>[a-z][\w-]*)", re.IGNORECASE)
_EN_GROUP = re.compile(
    r"\b(?:(?P<both>both(?:\s+of\s+them|\s+(?:images|pictures|photos|references|things|"
    r"items|objects))?|all\s+of\s+them|them\s+all|all\s+(?:the\s+|these\s+|of\s+the\s+)?"
    r"(?:images|pictures|photos|references))"
    r"|(?:these|those|the\s+(?=\d))\s+(?:(?P<n>\d+|two|three|four|five|six|seven|eight|nine|"
    r"ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen)\s+)?(?P<noun>[a-z][\w-]*s)\b"
    r"|(?P<these>these|them)\b)", re.IGNORECASE)
_EN_PLAIN = {"images", "pictures", "photos", "references", "things", "items", "objects",
             "ones", "refs", "uploads"}
_EN_STOP = {"next", "to", "and", "with", "on", "in", "at", "of", "from", "put", "place", "set",
            "is", "are", "it", "them", "one"}
_LEADING_VERB = re.compile(
    r"^\s*(?:please\s+)?(?:put|place|set|arrange|show|combine|compose|blend|merge|make|"
    r"draw|create|generate)\s+", re.IGNORECASE)

# --- Chinese, Japanese, Korean ---------------------------------------------------------------
_CJK_IMG = (r"(?:参考图片|參考圖片|参考图|參考圖|参照画像|参考画像|參考|参考|图片|圖片|图像|圖像|"
            r"照片|画像|写真|图|圖|참조\s*이미지|참고\s*이미지|이미지|사진|그림|참조)")
_CJK_IDX = re.compile(
    rf"(?:{_CJK_IMG}\s*(?:#|第)?\s*(?P<num>\d+|[一二两兩三四五六七八九十])"
    rf"|第\s*(?P<ord>\d+|[一二三四五六七八九十])\s*(?:张|張|个|個|幅|枚)?\s*{_CJK_IMG}"
    rf"|(?P<ko>\d+)\s*번(?:째)?\s*{_CJK_IMG}"
    rf"|(?P<ja>\d+)\s*枚目の?\s*{_CJK_IMG})")
_CJK_BACKDROP_AFTER = re.compile(
    r"^\s*(?:(?:为|為|作为|作為|当作|當作|做|を|을|를|의|的|の)\s*)?(?:背景|배경|背景画像)"
    r"(?:として|に|으로|로|上|前)?")
_CJK_BACKDROP_BEFORE = re.compile(r"(?:以|用|把|将|將|拿)\s*$")
_CJK_STYLE_AFTER = re.compile(
    r"^\s*(?:的|の|의)?\s*(?:风格|風格|画风|畫風|色调|色調|配色|スタイル|風|画風|스타일|화풍|"
    r"색감)(?:で|로|으로|的)?")
_CJK_OBJECT_LINK = re.compile(
    r"^\s*(?:中的|里的|裡的|裏的|上的|里面的|裡面的|的|の中の|に写っている|に写る|にある|の|"
    r"의|에\s*있는|속의|속|에\s*나온)\s*")
_CJK_GROUP = re.compile(
    r"(?:这些|這些|那些)(?:产品|產品|商品|东西|東西|物品|图片|圖片|照片)?|两个都|兩個都|两者|兩者|"
    r"它们|它們|全部图片|所有图片|所有圖片"
    r"|これら(?:の(?:商品|製品|もの|画像|写真))?|両方(?:とも)?|すべての画像|全部の画像"
    r"|이\s*(?:제품|상품|물건|이미지|사진)들|(?:이|그)것들|둘\s*다|모두")
_CJK_PARTICLE_AFTER = re.compile(r"^\s*(?:を|は|が|も|을|를|이|가|은|는|도|都)?")
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]{1,4}")
_CJK_STOPS = set("把在放和与與及、，。的をにがはへでと와과에을를이가은는도")


@dataclass(frozen=True)
class Mention:
    """One place a prompt names reference images.

    role: object | backdrop | style. indices: the images meant (0-based; a group names
    several). noun: the word used for the thing ("bottle", "杯子"; "" when none).
    label: the English label to match planned elements by. span: (start, end) in the prompt.
    """

    role: str
    indices: tuple[int, ...]
    noun: str = ""
    label: str = ""
    span: tuple[int, int] = (0, 0)
    replacement: str = ""


@dataclass(frozen=True)
class Reading:
    """``cleaned``: the prompt with mentions replaced by nouns. ``mentions``: in order."""

    prompt: str
    cleaned: str
    mentions: tuple[Mention, ...] = field(default_factory=tuple)
    count: int = 0

    def used(self) -> set[int]:
        return {i for m in self.mentions for i in m.indices}


def _index(n: int, count: int, words: str) -> int:
    idx = count - 1 if n == -1 else n - 1
    if not 0 <= idx < count:
        have = f"{count} reference image{'s' if count != 1 else ''}"
        raise PlanError(f"{words.strip()!r}: there {'is' if count == 1 else 'are'} {have}"
                        + (f" (1 to {count})" if count else ""))
    return idx


def _cjk_int(text: str) -> int:
    return int(text) if text.isdecimal() else _CJK_NUM.get(text, 0)


def label_of(noun: str) -> str:
    """The English label planned elements carry for a noun in any supported script."""
    noun = noun.strip()
    if not noun:
        return ""
    got = lx.CJK_NOUNS.get(noun) or lx.KO_NOUNS.get(noun)
    if got:
        return got
    if re.search(r"[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]", noun):
        for key in sorted(lx.CJK_NOUNS, key=len, reverse=True):
            if key in noun:
                return lx.CJK_NOUNS[key]
        for key in sorted(lx.KO_NOUNS, key=len, reverse=True):
            if len(key) > 1 and key in noun:
                return lx.KO_NOUNS[key]
        return noun
    from planner.revise import lemma

    words = noun.lower().split()
    return " ".join(words[:-1] + [lemma(words[-1])])


def _cjk_noun(text: str) -> str:
    """The noun at the start of ``text``: the longest lexicon word, else a short run of
    CJK letters up to a particle."""
    for table in (lx.CJK_NOUNS, lx.KO_NOUNS):
        for key in sorted(table, key=len, reverse=True):
            if text.startswith(key):
                return key
    m = _CJK_RUN.match(text)
    if not m:
        return ""
    run = m.group(0)
    for i, ch in enumerate(run):
        if ch in _CJK_STOPS:
            return run[:i]
    return run


def _en_mention(prompt: str, m: re.Match, count: int) -> Mention:
    n = int(m["num"]) if m["num"] else _ORDINALS[m["ord"].lower()]
    idx = _index(n, count, m.group(0))
    start, end = m.start(), m.end()
    before, after = prompt[:start], prompt[end:]
    b = _EN_BACKDROP_BEFORE.search(before)
    if b:
        return Mention("backdrop", (idx,), span=(b.start(), end))
    a = _EN_BACKDROP_AFTER.match(after)
    if a:
        u = _EN_USE_BEFORE.search(before)
        return Mention("backdrop", (idx,), span=(u.start() if u else start, end + a.end()))
    s = _EN_STYLE_BEFORE.search(before)
    if s:
        return Mention("style", (idx,), span=(s.start(), end))
    s = _EN_STYLE_AFTER.match(after)
    if s:
        u = re.search(r"\b(?:in|with|using)\s+$", before, re.IGNORECASE)
        return Mention("style", (idx,), span=(u.start() if u else start, end + s.end()))
    nb = _EN_NOUN_BEFORE.search(before)
    if nb and nb["np"].split()[-1].lower() not in _EN_STOP:
        np = nb["np"]
        return Mention("object", (idx,), np, label_of(np), (nb.start(), end),
                       f"{nb['det']} {np}")
    na = _EN_NOUN_AFTER.match(after)
    if na and na["np"].lower() not in _EN_STOP:
        return Mention("object", (idx,), na["np"], label_of(na["np"]), (start, end + na.end()),
                       f"the {na['np']}")
    return Mention("object", (idx,), "", GENERIC, (start, end), f"a {GENERIC}")


def _cjk_mention(prompt: str, m: re.Match, count: int) -> Mention:
    raw = m["num"] or m["ord"] or m["ko"] or m["ja"]
    idx = _index(_cjk_int(raw), count, m.group(0))
    start, end = m.start(), m.end()
    after = prompt[end:]
    a = _CJK_BACKDROP_AFTER.match(after)
    if a:
        b = _CJK_BACKDROP_BEFORE.search(prompt[:start])
        return Mention("backdrop", (idx,), span=(b.start() if b else start, end + a.end()))
    s = _CJK_STYLE_AFTER.match(after)
    if s:
        return Mention("style", (idx,), span=(start, end + s.end()))
    link = _CJK_OBJECT_LINK.match(after)
    if link:
        noun = _cjk_noun(after[link.end():])
        if noun:
            stop = end + link.end() + len(noun)
            return Mention("object", (idx,), noun, label_of(noun), (start, stop), noun)
    return Mention("object", (idx,), "", GENERIC, (start, end), "")


def _groups(prompt: str, taken: list[tuple[int, int]], free: list[int]) -> list[Mention]:
    """ "these three products", "both", "这些产品": every image no index names."""
    out = []
    for rx, cjk in ((_EN_GROUP, False), (_CJK_GROUP, True)):
        for m in rx.finditer(prompt):
            if not free or any(s < m.end() and m.start() < e for s, e in taken):
                continue
            if not cjk and m["these"] and len(free) < 2:
                continue
            want = len(free)
            if not cjk and m["n"]:
                n = m["n"].lower()
                want = int(n) if n.isdecimal() else lx.NUMBER_WORDS.get(n, want)
            elif not cjk and m["both"]:
                want = 2
            idx, free[:] = tuple(free[:want]), free[want:]
            if not idx:
                continue
            noun = "" if cjk else (m["noun"] or "")
            if noun.lower() in _EN_PLAIN:
                noun = ""
            label = label_of(noun) if noun else GENERIC
            end = m.end()
            if cjk:
                end += _CJK_PARTICLE_AFTER.match(prompt[end:]).end()
                replacement = ""
            else:
                replacement = f"{len(idx)} {noun or GENERIC + 's'}" if len(idx) > 1 \
                    else f"a {label}"
            out.append(Mention("object", idx, noun, label, (m.start(), end), replacement))
            taken.append((m.start(), end))
    return out


def read(prompt: str, count: int) -> Reading:
    """Find the reference images a prompt names and what each becomes.

    Args:
        prompt: a prompt or an edit instruction, in any supported language.
        count: how many reference images come with it (0-16).
    Returns:
        A Reading: the mentions in prompt order and the prompt with them replaced by plain
        nouns. With ``count == 0`` nothing is read (the words are ordinary words).
    Raises:
        PlanError: a mention of an image that is not there ("reference 3" of two), or two
            images named as the background (or as the style).
    """
    if count <= 0:
        return Reading(prompt, prompt, (), 0)
    found: list[Mention] = []
    for m in _EN_IDX.finditer(prompt):
        found.append(_en_mention(prompt, m, count))
    for m in _CJK_IDX.finditer(prompt):
        found.append(_cjk_mention(prompt, m, count))
    found.sort(key=lambda x: x.span[0])
    kept: list[Mention] = []
    for mention in found:   # a wider span (backdrop phrase) swallows what lies inside it
        if kept and mention.span[0] < kept[-1].span[1]:
            continue
        kept.append(mention)
    for role, what in (("backdrop", "the background"), ("style", "the style")):
        named = sorted({i for x in kept if x.role == role for i in x.indices})
        if len(named) > 1:   # one Background.reference / Style.reference: never drop one
            which = " and ".join(str(i + 1) for i in named)
            raise PlanError(f"the prompt names reference images {which} as {what}; a picture "
                            f"has one: name one of them, and say what the other is (e.g. "
                            f"'the cup from image {named[-1] + 1}')")
    used = {i for x in kept for i in x.indices}
    free = [i for i in range(count) if i not in used]
    kept += _groups(prompt, [x.span for x in kept], free)
    kept.sort(key=lambda x: x.span[0])
    cleaned, pos = [], 0
    for x in kept:
        cleaned.append(prompt[pos:x.span[0]])
        cleaned.append(x.replacement)
        pos = x.span[1]
    cleaned.append(prompt[pos:])
    text = re.sub(r"\s{2,}", " ", "".join(cleaned)).strip(" ,;")
    text = re.sub(r"\s+([,.;!?])", r"\1", text)
    return Reading(prompt, text, tuple(kept), count)


def for_planning(reading: Reading) -> str:
    """The cleaned prompt as a planner reads it best: without a leading "put"/"place"
    (which the rules planner would take for part of a name)."""
    text = _LEADING_VERB.sub("", reading.cleaned)
    return text or reading.cleaned


# --- binding: planned Plan + mentions → elements that point at their images ------------------

def _used(plan: Plan) -> set[int]:
    out = {e.reference for e in plan.objects if e.reference is not None}
    for r in (plan.canvas.background.reference, plan.style.reference):
        if r is not None:
            out.add(r)
    return out


def _matches(label: str, wanted: str) -> bool:
    from planner.revise import _label_matches

    if not wanted:
        return False
    if label == wanted or _label_matches(label, wanted):
        return True
    return wanted.split()[-1] in label.lower().split()


def bind(plan: Plan, reading: Reading, *, add_unmentioned: bool = True,
         near: Any = None) -> Plan:
    """Point a planned Plan at its reference images.

    Each object mention takes the first planned element with its label that no image
    holds yet; one the planner did not draw is added by the layout solver. Backdrop and
    style mentions set ``Background.reference`` / ``Style.reference``. With
    ``add_unmentioned``, images the prompt never names become objects too.

    Args:
        plan: the Plan planned from ``reading.cleaned`` (or revised by it).
        near: an element id the added objects go next to (a photo's subject).
    Returns:
        The Plan with every reference image used once.
    """
    from planner.revise import AddObject, Selector, apply_ops

    used = _used(plan)
    els = {e.id: e for e in plan.elements}
    bound: set[str] = {e.id for e in plan.objects if e.reference is not None}
    adds: list[tuple[str, int]] = []
    canvas, style = plan.canvas, plan.style
    for m in reading.mentions:
        for idx in m.indices:
            if idx in used:
                continue
            used.add(idx)
            if m.role == "backdrop":
                bg = canvas.background.model_copy(update={"reference": idx})
                if canvas.background.kind == "transparent":
                    bg = bg.model_copy(update={"kind": "color"})
                canvas = canvas.model_copy(update={"background": bg})
            elif m.role == "style":
                style = style.model_copy(update={"reference": idx})
            else:
                hit = next((e for e in plan.objects if e.id not in bound
                            and _matches(e.label, m.label)), None)
                if hit is None:
                    adds.append((m.label or GENERIC, idx))
                else:
                    bound.add(hit.id)
                    els[hit.id] = hit.model_copy(update={"reference": idx})
    if add_unmentioned:
        adds += [("object", i) for i in range(reading.count) if i not in used]
    plan = plan.model_copy(update={"canvas": canvas, "style": style,
                                   "elements": tuple(els[e.id] for e in plan.elements)})
    if not adds:
        return Plan.model_validate(plan.model_dump())
    anchor = Selector(ids=(near,)) if near else None
    ops = [AddObject(label=label, reference=idx, relation="next to" if anchor else None,
                     anchor=anchor, position=None if anchor else "bottom")
           for label, idx in adds]
    return apply_ops(plan, ops)


def plan_with_references(planner: Any, prompt: str, count: int, **kwargs: Any) -> Plan:
    """Plan a prompt that comes with ``count`` reference images.

    The planner plans the prompt with its mentions replaced by nouns; ``bind`` then ties
    the planned elements (or new ones) to the images. ``kwargs`` go to ``planner.plan``.
    """
    reading = read(prompt, count)
    plan = planner.plan(for_planning(reading), **kwargs)
    plan = bind(plan, reading)
    return plan.model_copy(update={"prompt": prompt})


# --- a photo's subject: what new elements keep clear of ---------------------------------------
_WHERE = re.compile(
    r"\b(?:left|right|top|bottom|corner|centre|center|middle|over\s+(?:it|him|her|them)|"
    r"on\s+(?:it|him|her|them|top\s+of)|in\s+front\s+of\s+(?:it|him|her|them)|holding|wearing)\b"
    r"|左|右|上面|下面|上方|下方|中间|中央|真ん中|左側|右側|왼쪽|오른쪽|위쪽|아래쪽|가운데",
    re.IGNORECASE)


def says_where(instruction: str) -> bool:
    """Whether an instruction says where what it adds goes on the frame ("in the top left",
    "on it", "左边"); "next to the lamp" does not put it over a photo's subject."""
    return bool(_WHERE.search(instruction))


def keep_clear(plan: Plan, box: tuple[float, float, float, float], ids: set[str],
               most: float = 0.1) -> Plan:
    """Move the elements ``ids`` whose box covers more than ``most`` of their area inside
    ``box`` (a photo's subject) to the free place nearest the canvas centre; shrink them
    when there is no such place at their size."""
    from planner.revise import _overlap, place_in_region

    others = [box] + [e.box for e in plan.elements if e.id not in ids]
    changed = {}
    for el in plan.elements:
        if el.id not in ids:
            continue
        x0, y0, x1, y1 = el.box
        area = (x1 - x0) * (y1 - y0)
        if _overlap(el.box, box) <= most * area:
            others.append(el.box)
            continue
        w, h = x1 - x0, y1 - y0
        for _ in range(4):
            # Beside the subject, standing on the same line (its bottom edge).
            new = place_in_region(others, w, h, None, prefer=(None, box[3] - h / 2))
            if _overlap(new, box) <= most * w * h:
                break
            w, h = w * 0.75, h * 0.75
        changed[el.id] = el.model_copy(update={"box": new})
        others.append(new)
    if not changed:
        return plan
    return plan.model_copy(update={"elements": tuple(changed.get(e.id, e)
                                                     for e in plan.elements)})
