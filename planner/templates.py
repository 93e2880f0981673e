"""Design templates: the prompt's kind words pick one; the template decides regions and roles.

One mechanism for every kind. ``pick`` reads the kind words (English, Chinese, Japanese,
Korean) in a fixed order of precedence (a "menu poster" is a menu, a "bar chart banner" a
chart). ``prepare`` gives the texts their roles in that kind (a poster's second line is its
subtitle, a product image's price is a price on a badge). Kinds with a structure of their own
are laid out here, region by region, instead of by the free solver:

- chart: a title band, then bars (heights in the ratio of the stated values, or seeded when
  none are given) on an axis with their labels under them, or a pie of slices with a legend;
  "four bars" is four bars, values and labels from the prompt ('"Q1" 10, "Q2" 15').
- menu / price list: each quoted line with a price ('"Latte $4.50"') stays one exact text,
  set in two columns: the name flush left, the price flush right, rows evenly spaced.
- infographic: numbered markers, the points as evenly spaced bullets, the prompt's objects
  as the points' icons.
- ui: a nav bar with the title, body texts on cards, objects in a hero card, buttons.

Free kinds (poster, banner, thumbnail, card, product, logo) keep the free solver; a greeting
card gets a frame. Objects in a structured kind go in a column of their own.
"""

from __future__ import annotations

import math
import random
import re

from planner.scene import Scene, TextItem
from planner.schema import Background, ObjectElement, ShapeElement

Rect = tuple[float, float, float, float]

# (template, kind words), first match wins.
_KINDS = (
    ("chart", r"\b(bar|column|pie|donut|doughnut)[ -]?(chart|graph)s?\b|柱状图|条形图|柱形图|"
              r"饼图|饼状图|圆饼图|棒グラフ|円グラフ|막대\s*(그래프|차트)|원\s*(그래프|차트)|"
              r"파이\s*차트"),
    ("menu", r"\bmenus?\b|\bprice[ -]?lists?\b|\bpricelists?\b|菜单|菜單|价目表|价格表|"
             r"メニュー|料金表|価格表|메뉴|가격표"),
    ("infographic", r"\binfographics?\b|信息图|資訊圖|インフォグラフィック|인포그래픽"),
    ("ui", r"\b(ui|ux|app|mobile app|website|web page|webpage|login|sign-?in|settings|"
           r"dashboard|checkout|screen)\b(?!\s+icons?\b)[\w\s-]{0,20}\b(mock-?ups?|"
           r"wireframes?|designs?|screens?)\b"
           r"|\bmock-?ups? of (a|an|the)?\s*(ui|app|mobile app|website|web page|login|settings|"
           r"dashboard|checkout)|\b(ui|wireframe|landing page|app screen|login screen)\b|"
           r"界面|ui设计|アプリ画面|画面デザイン|앱 화면|목업"),
    ("product", r"e-?commerce|\bproduct (listing|main image|hero image|page image)|"
                r"\bmain (product )?image\b|\bamazon listing|主图|商品主图|商品画像|상품 이미지"),
    ("card", r"\b(greeting|birthday|thank[- ]you|holiday|christmas|wedding|anniversary|"
             r"get[- ]well|valentine'?s?) cards?\b|\binvitation\b|贺卡|生日卡|"
             r"グリーティングカード|誕生日カード|축하 카드|생일 카드|초대장"),
    ("thumbnail", r"\bthumbnails?\b|缩略图|封面图|サムネイル|썸네일"),
    ("banner", r"\bbanners?\b|\bheaders?\b|横幅|バナー|배너"),
    ("poster", r"\bposters?\b|\bflyers?\b|\bfliers?\b|海报|海報|ポスター|チラシ|포스터|전단지"),
    ("logo", r"\blogos?\b|\bwordmarks?\b|标志|商标|ロゴ|로고"),
)
_KIND_RES = tuple((k, re.compile(rx, re.IGNORECASE)) for k, rx in _KINDS)
STRUCTURED = ("chart", "menu", "infographic", "ui", "product")
SELF_DRAWING = ("chart", "ui")     # drawn from the kind word alone ("a bar chart with four bars")

_CURRENCY = r"[$€£¥₩]"
# A price: currency before or after a number ("$4.50", "4.50€", "12元", "20").
_PRICE = (rf"(?:{_CURRENCY}\s?\d+(?:[.,]\d{{1,2}})?|\d+(?:[.,]\d{{1,2}})?\s?"
          rf"(?:{_CURRENCY}|元|円|원|yuan|yen|usd|eur|dollars?)?)")
_PRICE_IN = re.compile(rf"^(?P<name>.*?\S)\s*(?:[-–—:…·|]+|\.{{2,}}|\s|"
                       rf"(?<=[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]))\s*"
                       rf"(?P<price>{_PRICE})$", re.IGNORECASE)
_AFTER_QUOTE = re.compile(rf"^\s*(?:[:=\-–—]|for|at|costs?|is)?\s*(?P<v>{_PRICE}%?)"
                          rf"(?![\w.])", re.IGNORECASE)
_NUM = re.compile(r"\d+(?:[.,]\d+)?")
_COUNT_EN = re.compile(r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
                       r"twelve)\s+(?:[a-z-]+\s+)?(bars|columns|slices|segments|wedges|sections|"
                       r"parts|categories|buttons|points|tips|steps)\b", re.IGNORECASE)
_COUNT_CJK = re.compile(r"(\d+|[一二两三四五六七八九十]+)\s*(?:个|根|条|本の|つの|개의?)?\s*"
                        r"(柱(?![状形])子?|条形|扇区|部分|块|棒|スライス|要素|막대|조각|항목|按钮|ボタン|버튼|"
                        r"要点|ポイント|포인트)")
_COUNT_KO = re.compile(r"(막대|조각|버튼|포인트)\s*(\d+|[한두세네]|다섯|여섯)\s*개")
# A list in any kind of design: its points are bullets, evenly spaced and aligned.
_LIST_WORDS = re.compile(r"\bbullet(ed|s)?\b|\bnumbered\b|\bchecklist\b|\b(to-?do|packing|"
                         r"shopping|check) list\b|\blist of\b|\ba list\b|要点|列表|清单|"
                         r"箇条書き|リスト|목록|체크리스트", re.IGNORECASE)
_NUMBERED = re.compile(r"\bnumbered\b|\bsteps?\b|编号|番号|번호", re.IGNORECASE)
_BUTTON_WORDS = re.compile(r"\bbuttons?\b|按钮|ボタン|버튼", re.IGNORECASE)
_CHART_ENTITIES = {"bar", "column", "slice", "segment", "wedge", "section", "chart", "graph"}
_UI_ENTITIES = {"button", "card", "toggle", "switch", "tab", "navbar", "icon"}


def pick(prompt: str) -> str | None:
    """The template the prompt's kind words name, or None (a free picture)."""
    for kind, rx in _KIND_RES:
        if rx.search(prompt):
            return kind
    return None


def _number_word(w: str) -> int:
    from planner.lexicon import CJK_DIGITS, KO_NATIVE_NUMBERS, NUMBER_WORDS

    if w.isdecimal():
        return int(w)
    if w.lower() in NUMBER_WORDS:
        return NUMBER_WORDS[w.lower()]
    if w in KO_NATIVE_NUMBERS:
        return KO_NATIVE_NUMBERS[w]
    total = 0
    for ch in w:
        v = CJK_DIGITS.get(ch, 0)
        total = total * 10 if v == 10 and total else total
        total += v if v != 10 else (0 if total else 10)
    return total


def stated_count(prompt: str, nouns: tuple[str, ...]) -> int | None:
    """'four bars', '4 slices', '三个柱子', '막대 4개': the stated count of chart parts,
    buttons or points (``nouns``: English plural nouns that qualify)."""
    for m in _COUNT_EN.finditer(prompt):
        if m.group(2).lower() in nouns:
            return _number_word(m.group(1))
    m = _COUNT_CJK.search(prompt)
    if m:
        return _number_word(m.group(1)) or None
    m = _COUNT_KO.search(prompt)
    if m:
        return _number_word(m.group(2)) or None
    return None


def _quote_ends(prompt: str, texts: tuple[TextItem, ...]) -> list[int | None]:
    """Where in the prompt each text's quote ends (texts come from quotes, in order)."""
    from planner.rules import find_quotes

    quotes = find_quotes(prompt)
    ends: list[int | None] = []
    k = 0
    for t in texts:
        while k < len(quotes) and quotes[k][2] != t.content:
            k += 1
        ends.append(quotes[k][1] if k < len(quotes) else None)
        k += 1 if k < len(quotes) else 0
    return ends


def _value(text: str) -> float:
    m = _NUM.search(text)
    return float(m.group(0).replace(",", ".")) if m else 0.0


def listed(scene: Scene, template: str | None) -> bool:
    """Does the prompt ask for a (bulleted or numbered) list of its quoted lines?"""
    return template not in ("chart", "menu", "ui") and bool(_LIST_WORDS.search(scene.prompt)) \
        and sum(t.role in ("body", "bullet", "heading") for t in scene.texts) >= 2


def prepare(scene: Scene, template: str | None) -> Scene:
    """Roles in this kind of design: a poster's, banner's, thumbnail's or card's second line is
    a subtitle; a product image's price is a price on a badge; a menu's lines that carry a
    price are two-column items; an infographic's points are bullets."""
    texts = list(scene.texts)
    if listed(scene, template):
        first = next((i for i, t in enumerate(texts) if t.role == "title"), None)
        texts = [t.model_copy(update={"role": "bullet"})
                 if i != first and t.role in ("body", "heading", "title") else t
                 for i, t in enumerate(texts)]
        return scene.model_copy(update={"texts": tuple(texts)})
    if template is None:
        return scene
    titled = any(t.role == "title" for t in texts)
    if template in ("poster", "banner", "thumbnail", "card", "product", "logo") and titled:
        texts = [t.model_copy(update={"role": "subtitle"}) if t.role == "heading" else t
                 for t in texts]
    if template == "logo" and not scene.entities:
        scene = _logo_mark(scene)
    if template == "product":
        texts = [t.model_copy(update={"role": "price", "frame": t.frame or "badge"})
                 if re.fullmatch(rf"\s*{_PRICE}\s*", t.content) and _CURRENCY_RE.search(t.content)
                 else t for t in texts]
    if template == "menu":
        texts = _menu_items(texts)
    if template == "infographic":
        texts = [t.model_copy(update={"role": "bullet"}) if t.role not in ("title", "caption")
                 else t for t in texts]
    return scene.model_copy(update={"texts": tuple(texts)})


_CURRENCY_RE = re.compile(rf"{_CURRENCY}|元|円|원")


_LOGO_FOR = re.compile(r"\blogos?\b[^\"“”«「]*?\bfor (?:a|an|the|my|our)?\s*"
                       r"((?:[a-z-]+\s+){0,3}?[a-z-]+)\b", re.IGNORECASE)


def _logo_mark(scene: Scene) -> Scene:
    """A logo's picture is its topic: 'a logo for a coffee shop called "Bean There"' draws a
    coffee mark above the name (the first word of the topic that names a drawable thing)."""
    from planner.lexicon import COMMON_NOUNS, NON_OBJECTS
    from planner.scene import Entity, SceneRelation

    m = _LOGO_FOR.search(scene.prompt)
    words = m.group(1).lower().split() if m else []
    noun = next((w for w in words if w in COMMON_NOUNS and w not in NON_OBJECTS), None)
    if noun is None:
        return scene
    rel = ()
    if len(scene.texts) == 1 and not scene.texts[0].position:
        rel = (SceneRelation(subject="text:0", relation="below", target="entity:0"),)
    return scene.model_copy(update={
        "entities": (Entity(label=noun, description="logo mark"),),
        "relations": scene.relations + rel})


def _menu_items(texts: list[TextItem]) -> list[TextItem]:
    """'"Latte $4.50"' -> one menu line "Latte $4.50" (its exact text) set in two columns:
    the name flush left, the price flush right (``split`` is where the price starts).
    Lines without a price keep their role."""
    out: list[TextItem] = []
    for t in texts:
        m = _PRICE_IN.match(t.content)       # a line with a price is an item, whatever its cue
        if m:
            out.append(t.model_copy(update={"role": "item", "split": m.start("price")}))
        else:
            out.append(t)
    return out


# --- structured layouts --------------------------------------------------------------------
class _Canvas:
    """Pixel helpers over one canvas: margins, text bands, element ids."""

    def __init__(self, scene: Scene, canvas: tuple[int, int], bg: Background, seed: int):
        self.scene, self.size, self.bg = scene, canvas, bg
        self.rng = random.Random(seed)
        W, H = canvas
        m = 0.06 * min(W, H)
        self.mx, self.my = m / W, m / H
        self.out: list = []
        self.n_text = 0

    def text(self, t: TextItem, box: Rect, align: str = "center", z: int = 10) -> None:
        from planner.layout import text_elements

        self.n_text += 1
        self.out += text_elements(t, box, f"text-{self.n_text}", self.bg, self.size, align, z)

    def shape(self, sid: str, shape: str, box: Rect, **kw) -> None:
        from planner.layout import _safe_box

        self.out.append(ShapeElement(id=sid, shape=shape, box=_safe_box(box), **kw))

    def band(self, t: TextItem, top: float, x0: float, x1: float,
             align: str = "center") -> float:
        """Set ``t`` in a band from ``top`` across [x0, x1]; returns the band's bottom."""
        from planner.layout import fit_text

        W, H = self.size
        fit = fit_text(t.content, t.script, t.role, (x1 - x0) * W, None, self.size, t.size)
        w, h = fit.width / W, fit.height / H
        left = {"left": x0, "right": x1 - w}.get(align, (x0 + x1 - w) / 2)
        self.text(t, (left, top, left + w, top + h), align)
        return top + h

    def objects(self, region: Rect, skip: set[str] = frozenset()) -> None:
        """Every instance of every entity (except ``skip`` labels) in ``region``."""
        from planner.layout import _label_aspect, _slug, place_instances

        ents = [e for e in self.scene.entities if e.label.split()[-1] not in skip]
        n = sum(e.count for e in ents)
        if not n:
            return
        aspect = _label_aspect(ents[0].label) if len(ents) == 1 else 1.0
        boxes = place_instances(region, n, aspect, self.size, self.rng)
        k = 0
        seen: dict[str, int] = {}
        for e in ents:
            slug = _slug(e.label)
            for _ in range(e.count):
                seen[slug] = seen.get(slug, 0) + 1
                self.out.append(_object(e, f"{slug}-{seen[slug]}", boxes[k]))
                k += 1

    def has_objects(self, skip: set[str] = frozenset()) -> bool:
        return any(e.label.split()[-1] not in skip for e in self.scene.entities)


def _object(e, eid: str, box: Rect) -> ObjectElement:
    from planner.layout import _safe_box

    return ObjectElement(id=eid, box=_safe_box(box), z=2, label=e.label, color=e.color,
                         description=e.description,
                         subject_id=e.subject_id if e.subject_id and e.count == 1 else eid,
                         reference=e.reference)


def layout(scene: Scene, template: str, canvas: tuple[int, int], bg: Background,
           seed: int) -> tuple[list, str] | None:
    """Elements of a structured template, and a note for the Plan's reasoning; None when
    the prompt gives the template nothing to structure (a menu without prices)."""
    c = _Canvas(scene, canvas, bg, seed)
    if listed(scene, template):
        return _infographic(c, numbered=template == "infographic"
                            or bool(_NUMBERED.search(scene.prompt)))
    fn = {"chart": _chart, "menu": _menu, "infographic": _infographic, "ui": _ui,
          "product": _product}.get(template)
    return fn(c) if fn else None


def _title_top(c: _Canvas, titles: list[TextItem], x1: float = None) -> float:
    """Titles stacked at the top; returns where the content starts."""
    y = c.my
    for t in titles:
        y = c.band(t, y, c.mx, x1 if x1 is not None else 1 - c.mx) + c.my * 0.4
    return y + c.my * 0.3


def _side(c: _Canvas, skip: set[str], top: float) -> float:
    """Objects in a right-hand column; returns the content's right edge."""
    if not c.has_objects(skip):
        return 1 - c.mx
    split = 0.7
    c.objects((split + c.mx * 0.5, top, 1 - c.mx, 1 - c.my), skip)
    return split - c.mx * 0.5


def _chart(c: _Canvas) -> tuple[list, str]:
    s = c.scene
    pie = bool(re.search(r"pie|donut|doughnut|饼|円グラフ|원\s*(그래프|차트)|파이", s.prompt,
                         re.IGNORECASE))
    ends = _quote_ends(s.prompt, s.texts)
    labels: list[tuple[TextItem, float | None]] = []
    titles: list[TextItem] = []
    for t, end in zip(s.texts, ends):
        after = _AFTER_QUOTE.match(s.prompt[end:]) if end is not None else None
        if after:
            labels.append((t, _value(after.group("v"))))
        elif t.role in ("title", "heading") and not labels and not titles:
            titles.append(t)
        else:
            labels.append((t, None))
    parts = [e for e in s.entities if e.label.split()[-1] in _CHART_ENTITIES]
    stated = stated_count(s.prompt, ("bars", "columns", "slices", "segments", "wedges",
                                     "sections", "parts", "categories"))
    counted = next((e.count for e in parts if e.label.split()[-1] not in ("chart", "graph")
                    and e.count > 1), None)
    values = [v for _, v in labels if v is not None] or _free_values(s.prompt, ends)
    n = stated or counted or len(labels) or len(values) or (3 if pie else 4)
    vals = [values[i] if i < len(values) and values[i] > 0 else c.rng.uniform(0.35, 1.0)
            * (max(values) if values else 1.0) for i in range(n)]
    color = next((e.color for e in parts if e.color), None)
    top = _title_top(c, [t.model_copy(update={"role": "title"}) if t.role != "title" else t
                         for t in titles])
    right = _side(c, _CHART_ENTITIES, top)
    region = (c.mx, top, right, 1 - c.my)
    named = [t.model_copy(update={"role": "label"}) for t, _ in labels[:n]]
    if pie:
        _pie(c, region, vals, named, color)
    else:
        _bars(c, region, vals, named, color)
    what = "pie" if pie else "bar"
    return c.out, f"template chart: {n} {what}s" + (f", values {vals}" if values else "")


def _free_values(prompt: str, ends: list[int | None]) -> list[float]:
    """Numbers after the chart word that no quote owns ("slices of 50%, 30% and 20%")."""
    m = re.search(r"chart|graph|图|グラフ|그래프|차트", prompt, re.IGNORECASE)
    if not m:
        return []
    rest = prompt[m.end():]
    rest = _COUNT_EN.sub(" ", rest)
    return [float(v.replace(",", ".")) for v in re.findall(r"(\d+(?:[.,]\d+)?)\s*%", rest)]


def _bars(c: _Canvas, region: Rect, vals: list[float], labels: list[TextItem],
          color: str | None) -> None:
    from planner.layout import fit_text

    W, H = c.size
    x0, y0, x1, y1 = region
    n = len(vals)
    label_h = 0.0
    if labels:
        label_h = max(fit_text(t.content, t.script, "label", (x1 - x0) / n * W * 0.95, None,
                               c.size).height for t in labels) / H
    base = y1 - label_h - c.my * 0.3
    slot = (x1 - x0) / n
    top = max(vals)
    for i, v in enumerate(vals):
        h = (base - y0) * v / top
        bx0 = x0 + slot * (i + 0.19)
        c.shape(f"bar-{i + 1}", "bar", (bx0, base - h, bx0 + slot * 0.62, base),
                color=color or CHART_COLORS[i % len(CHART_COLORS)], value=round(v, 4),
                label=labels[i].content if i < len(labels) else "")
        if i < len(labels):
            c.text(labels[i], (x0 + slot * i + slot * 0.025, base + c.my * 0.3,
                               x0 + slot * (i + 1) - slot * 0.025, base + c.my * 0.3 + label_h))
    c.shape("axis-1", "axis", (x0, base - 0.006, x1, base + 0.004))


def _pie(c: _Canvas, region: Rect, vals: list[float], labels: list[TextItem],
         color: str | None) -> None:
    W, H = c.size
    x0, y0, x1, y1 = region
    rw, rh = (x1 - x0) * W, (y1 - y0) * H
    legend = bool(labels)
    side = min(rh, rw * (0.58 if legend else 1.0))
    px0 = x0 + ((rw * 0.58 if legend else rw) - side) / 2 / W
    py0 = y0 + (rh - side) / 2 / H
    box = (px0, py0, px0 + side / W, py0 + side / H)
    total = sum(vals)
    a = 0.0
    for i, v in enumerate(vals):
        sweep = 360.0 * v / total
        c.shape(f"slice-{i + 1}", "slice", box, z=1, value=round(v, 4),
                angles=(round(a, 3), round(a + sweep, 3)),
                color=CHART_COLORS[i % len(CHART_COLORS)] if not color or i else color,
                label=labels[i].content if i < len(labels) else "")
        a += sweep
    if not legend:
        return
    lx0 = x0 + rw * 0.62 / W
    row = min((y1 - y0) / len(labels), 0.12)
    ly = y0 + ((y1 - y0) - row * len(labels)) / 2
    for i, t in enumerate(labels):
        d = row * 0.45 * H
        cy = ly + row * (i + 0.5)
        c.shape(f"key-{i + 1}", "circle", (lx0, cy - d / 2 / H, lx0 + d / W, cy + d / 2 / H),
                color=CHART_COLORS[i % len(CHART_COLORS)] if not color or i else color)
        c.text(t, (lx0 + d / W * 1.6, cy - row * 0.4, x1, cy + row * 0.4), align="left")


# Chart colours (render/shapes.py draws the same ones when a shape names none).
CHART_COLORS = ("#3b6fd8", "#e4572e", "#2a9d8f", "#f2a541", "#8e5cc9", "#d64f8c", "#5a8f29",
                "#4bb3d6")


def _rows(c: _Canvas, top: float, bottom: float, n: int, em_px: float) -> list[Rect]:
    """``n`` evenly spaced rows from ``top``: each as tall as the type wants, up to an equal
    share of the room."""
    H = c.size[1]
    want = em_px * 2.3 / H
    h = min(want, (bottom - top) / max(n, 1))
    start = top + ((bottom - top) - h * n) / 2 * 0.35
    return [(0.0, start + i * h, 1.0, start + (i + 1) * h) for i in range(n)]


def _menu(c: _Canvas) -> tuple[list, str] | None:
    s = c.scene
    items = [t for t in s.texts if t.role == "item" and t.split]
    if len(items) < 2:
        return None
    from planner.layout import TEXT_EM, fit_text

    W, H = c.size
    others = [t for t in s.texts if t not in items]
    titles = [t for t in others if t.role in ("title", "heading")]
    rest = [t for t in others if t not in titles]
    top = _title_top(c, titles)
    right = _side(c, set(), top)
    bottom = 1 - c.my
    if rest:          # a footer line under the list
        foot = fit_text(rest[0].content, rest[0].script, "caption", (right - c.mx) * W, None,
                        c.size)
        bottom -= foot.height / H + c.my * 0.3
        c.band(rest[0].model_copy(update={"role": "caption"}), bottom + c.my * 0.3, c.mx,
               right)
    em = TEXT_EM["item"] * math.sqrt(W * H)
    for t, (_, y0, _, y1) in zip(items, _rows(c, top, bottom, len(items), em)):
        pad = (y1 - y0) * 0.12
        c.text(t, (c.mx, y0 + pad, right, y1 - pad), align="left")
    return c.out, f"template menu: {len(items)} lines, prices flush right in one column"


def _infographic(c: _Canvas, numbered: bool = True) -> tuple[list, str] | None:
    s = c.scene
    points = [t for t in s.texts if t.role == "bullet"]
    if len(points) < 2:
        return None
    from planner.layout import TEXT_EM, _slug

    W, H = c.size
    titles = [t for t in s.texts if t.role in ("title", "heading")]
    top = _title_top(c, titles)
    n = len(points)
    instances = [e for e in s.entities for _ in range(e.count)]
    icons = instances if len(instances) == n else []
    right = 1 - c.mx if icons or not instances else _side(c, set(), top)
    em = TEXT_EM["bullet"] * math.sqrt(W * H)
    rows = _rows(c, top, 1 - c.my, n, em * 1.3)
    seen: dict[str, int] = {}
    for k, (t, (_, y0, _, y1)) in enumerate(zip(points, rows)):
        h = y1 - y0
        d = min(h * 0.7 * H, 0.12 * W) * (1.0 if numbered else 0.4)
        x = c.mx
        cy = (y0 + y1) / 2
        c.shape(f"marker-{k + 1}", "marker", (x, cy - d / 2 / H, x + d / W, cy + d / 2 / H),
                label=str(k + 1) if numbered else "",
                color=CHART_COLORS[k % len(CHART_COLORS)] if numbered else _ACCENT_DARK)
        x += d / W * (1.35 if numbered else 2.2)
        if icons:
            e = icons[k]
            slug = _slug(e.label)
            seen[slug] = seen.get(slug, 0) + 1
            c.out.append(_object(e, f"{slug}-{seen[slug]}",
                                 (x, cy - d / 2 / H, x + d / W, cy + d / 2 / H)))
            x += d / W * 1.3
        c.text(t, (x, y0 + h * 0.12, right, y1 - h * 0.12), align="left")
    kind = "numbered points" if numbered else "bullets"
    return c.out, f"list: {n} {kind}" + (" with icons" if icons else "")


def _product(c: _Canvas) -> tuple[list, str] | None:
    """An e-commerce main image: the product large in the middle, the price on a badge in
    the top-right corner, a title at the top and other lines at the bottom."""
    s = c.scene
    prices = [t for t in s.texts if t.role == "price"]
    if not prices or not s.entities:
        return None
    W, H = c.size
    titles = [t for t in s.texts if t.role in ("title", "heading", "subtitle")]
    rest = [t for t in s.texts if t not in prices and t not in titles]
    d = 0.24 * min(W, H)
    top = _title_top(c, titles, x1=1 - c.mx - d / W) if titles else c.my
    bottom = 1 - c.my
    for t in reversed(rest):
        from planner.layout import fit_text

        h = fit_text(t.content, t.script, t.role, (1 - 2 * c.mx) * W, None, c.size).height / H
        bottom -= h
        c.band(t, bottom, c.mx, 1 - c.mx)
        bottom -= c.my * 0.4
    c.objects((c.mx * 2, max(top, c.my + d / H * 0.6), 1 - c.mx * 2, bottom))
    for k, t in enumerate(prices):
        x1 = 1 - c.mx
        y0 = c.my + k * d / H * 1.05
        c.text(t, (x1 - d / W, y0, x1, y0 + d / H), z=12)
    return c.out, f"template product: {sum(e.count for e in s.entities)} product(s), " \
                  f"{len(prices)} price badge(s)"


def _ui(c: _Canvas) -> tuple[list, str]:
    s = c.scene
    W, H = c.size
    buttons = [t for t in s.texts if t.role == "label"] if _BUTTON_WORDS.search(s.prompt) \
        else []
    titles = [t for t in s.texts if t.role in ("title", "heading") and t not in buttons][:1]
    body = [t for t in s.texts if t not in buttons and t not in titles]
    n_buttons = len(buttons) or next((e.count for e in s.entities
                                      if e.label.split()[-1] == "button"), 0)
    nav_h = 0.1 * min(W, H) / H
    c.shape("navbar-1", "navbar", (0.0, 0.0, 1.0, nav_h), z=1,
            color=_ACCENT_DARK)
    if titles:
        t = titles[0]
        c.text(t.model_copy(update={"color": t.color or "#ffffff"}),
               (c.mx, nav_h * 0.18, 0.75, nav_h * 0.82), align="left")
    y = nav_h + c.my
    btn_h = 0.085 * min(W, H) / H
    bottom = 1 - c.my - (btn_h * 1.3 if n_buttons else 0)
    has_objects = c.has_objects(_UI_ENTITIES)
    blocks = len(body) + (1 if has_objects else 0)
    if blocks:
        gap = c.my * 0.5
        each = (bottom - y - gap * (blocks - 1)) / blocks
        for k in range(blocks):
            box = (c.mx, y, 1 - c.mx, y + each)
            c.shape(f"card-{k + 1}", "card", box, z=1)
            inner = (box[0] + c.mx * 0.5, box[1] + each * 0.12, box[2] - c.mx * 0.5,
                     box[3] - each * 0.12)
            if has_objects and k == 0:
                c.objects(inner, _UI_ENTITIES)
            else:
                t = body[k - (1 if has_objects else 0)]
                c.text(t.model_copy(update={"role": "body"}) if t.role == "title" else t,
                       inner, align="left")
            y += each + gap
    if n_buttons:
        width = (1 - 2 * c.mx - c.mx * 0.5 * (n_buttons - 1)) / n_buttons
        width = min(width, 0.42)
        total = width * n_buttons + c.mx * 0.5 * (n_buttons - 1)
        x = (1 - total) / 2
        by = 1 - c.my - btn_h
        for k in range(n_buttons):
            box = (x, by, x + width, by + btn_h)
            c.shape(f"button-{k + 1}", "button", box, z=1,
                    color=CHART_COLORS[0] if k == 0 else _ACCENT_DARK,
                    label=buttons[k].content if k < len(buttons) else "")
            if k < len(buttons):
                t = buttons[k]
                c.text(t.model_copy(update={"color": t.color or "#ffffff", "role": "body",
                                            "weight": "bold"}),
                       (box[0] + width * 0.1, by + btn_h * 0.2, box[2] - width * 0.1,
                        by + btn_h * 0.8))
            x += width + c.mx * 0.5
    return c.out, f"template ui: nav bar, {blocks} cards, {n_buttons} buttons"


_ACCENT_DARK = "#2b3245"


def card_frame(canvas: tuple[int, int], bg: Background) -> ShapeElement:
    """A greeting card's border, inset from the edges."""
    from planner.layout import _accent

    W, H = canvas
    m = 0.025 * min(W, H)
    return ShapeElement(id="frame-1", shape="frame", z=0, color=_accent(bg),
                        box=(round(m / W, 4), round(m / H, 4), round(1 - m / W, 4),
                             round(1 - m / H, 4)))
