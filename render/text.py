"""The text engine: every TextElement drawn exactly, in any installed script, inside its box.

Shaping is Pillow's raqm layout (HarfBuzz + FriBiDi), so Arabic joins and runs right to left
and CJK/Hangul use the language's glyph forms. The font size is the largest one (binary
search) whose wrapped lines fit the box; lines break at spaces for spaced scripts (Korean
too) and between words for Chinese (jieba) and Japanese (fugashi + UniDic, particles and
endings kept with their word: 京都へ / ようこそ, never 京都へよう / こそ); a word wider than
the line breaks between characters. Ink is measured, not estimated, and each element is drawn into a layer
the size of its box, so text never leaves its box. Colour comes from the Plan or from the
sampled background (WCAG contrast); an outline or a backing plate is added when the contrast
or a busy background calls for one.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from planner.schema import Plan, TextElement, box_to_pixels
from render.color import (INK_DARK, INK_LIGHT, RGB, contrast_ratio, mix, parse_color,
                          readable_on, relative_luminance, shade)
from render.base import RenderError
from render.fonts import (FontSpec, detect_script, font_for, load_font, resolve_script,
                          script_info)

if TYPE_CHECKING:
    from PIL import Image

_LANG = {"Hans": "zh-Hans", "Hant": "zh-Hant", "Jpan": "ja", "Kore": "ko", "Arab": "ar",
         "Hebr": "he", "Cyrl": "ru", "Grek": "el", "Thai": "th", "Deva": "hi", "Latn": "en"}
# CJK punctuation that must not start a line (kinsoku): it sticks to the previous character.
_NO_LINE_START = set("、。，．,.!?！？：；:;)]}）」』】〉》”’ー々ゃゅょっャュョッぁぃぅぇぉァィゥェォ")
_LINE_PITCH = 1.18          # baseline-to-baseline distance, in font sizes
_SINGLE_LINE_BONUS = 1.25   # keep one line unless wrapping lets the text grow by more than this
_WORD_BREAK_FLOOR = 0.45    # see fit_text: break a CJK phrase or word only below this
BUSY = 0.3                  # luminance spread (p90 - p10) above which a backdrop needs a plate


@dataclass(frozen=True)
class Shaping:
    """How a string is shaped: face, direction and language, shared by measure and draw."""

    spec: FontSpec
    direction: str | None
    language: str | None
    cjk: bool
    # Mixed scripts no one face covers ("Sale 特价 세일 تخفيض"): the faces, best first; each
    # run of characters is shaped with the first face that draws it (see MixedFont).
    chain: tuple[FontSpec, ...] = ()


@dataclass(frozen=True)
class TextLayout:
    """A fitted block: ``lines`` at font ``size``; ``origins`` are each line's baseline-left
    anchor ("ls") inside the block, whose ink is ``width`` x ``height``."""

    shaping: Shaping
    size: int
    stroke: int
    lines: tuple[str, ...]
    origins: tuple[tuple[float, float], ...]
    width: int
    height: int


def shaping_for(content: str, script: str, weight: str = "bold",
                font: str | None = None) -> Shaping:
    """Pick the face and shaping parameters for ``content`` (raises RenderError if no
    installed font covers it)."""
    effective = resolve_script(content, script, weight)
    info = script_info(effective)
    try:
        spec = font_for(content, script, weight, override=font)
    except RenderError:
        chain = None if font else _font_chain(content, effective, weight)
        if not chain:
            raise
        return Shaping(chain[0], None, None, info.cjk, chain=chain)
    return Shaping(spec, "rtl" if info.rtl else None, _LANG.get(effective), info.cjk)


def _font_chain(content: str, script: str, weight: str) -> tuple[FontSpec, ...] | None:
    """A fallback chain for text that mixes scripts: the face for the text's own script
    first, then one face per other script in order of appearance, each found by font_for for
    that script's characters (so a missing font names that script's package). None for text
    of one script, whose error font_for already gave."""
    groups: dict[str, list[str]] = {}
    for ch in content:
        if ch.isspace():
            continue
        groups.setdefault(detect_script(ch), []).append(ch)
    if len(groups) < 2:
        return None
    order = [script] + [code for code in groups if code != script]
    chain: list[FontSpec] = []
    for code in order:
        chars = "".join(groups.get(code, ()))
        if chars:
            face = font_for(chars, code, weight)
            if face not in chain:
                chain.append(face)
    return tuple(chain)


class MixedFont:
    """A Pillow-font look-alike over a fallback chain: text is cut into runs drawn by one
    face each (spaces and punctuation stay with the run they sit in), each run shaped in its
    own script's direction and language; runs are laid out left to right, or right to left
    when the text starts in a right-to-left script. Measures as ``getlength``/``getbbox``
    do; ``_draw_text`` draws it."""

    def __init__(self, chain: tuple[FontSpec, ...], size: int):
        from render.fonts import cmap

        self.chain = chain
        self.fonts = [load_font(spec, size) for spec in chain]
        self.maps = [cmap(spec) for spec in chain]

    def _face(self, ch: str, current: int | None) -> int | None:
        if current is not None and (ch.isspace() or ord(ch) in self.maps[current]
                                    and not ch.isalpha()):
            return current              # neutral characters stay in the run they sit in
        for i, have in enumerate(self.maps):
            if ord(ch) in have:
                return i
        return current if current is not None else 0

    def runs(self, text: str) -> list[tuple[str, object, str | None, str | None]]:
        """(run, Pillow font, direction, language) in visual order."""
        pieces: list[list] = []
        current = None
        for ch in text:
            face = self._face(ch, current)
            if pieces and face == current:
                pieces[-1][0] += ch
            else:
                pieces.append([ch, face])
            current = face
        out = []
        for run, face in pieces:
            info_code = detect_script(run)
            info = script_info(info_code)
            out.append((run, self.fonts[face], "rtl" if info.rtl else "ltr",
                        _LANG.get(info_code)))
        if out and out[0][2] == "rtl":
            out.reverse()
        return out

    def getlength(self, text: str, direction: str | None = None,
                  language: str | None = None) -> float:
        return sum(f.getlength(run, direction=d, language=lang)
                   for run, f, d, lang in self.runs(text))

    def getbbox(self, text: str, anchor: str = "ls", direction: str | None = None,
                language: str | None = None, stroke_width: int = 0):
        x, box = 0.0, None
        for run, f, d, lang in self.runs(text):
            l, t, r, b = f.getbbox(run, anchor=anchor, direction=d, language=lang,
                                   stroke_width=stroke_width)
            box = (l + x, t, r + x, b) if box is None else \
                (min(box[0], l + x), min(box[1], t), max(box[2], r + x), max(box[3], b))
            x += f.getlength(run, direction=d, language=lang)
        return box or (0, 0, 0, 0)


def _font(sh: Shaping, size: int):
    """The font object a Shaping measures and draws with at ``size``."""
    return MixedFont(sh.chain, size) if sh.chain else load_font(sh.spec, size)


def _draw_text(draw, xy: tuple[float, float], text: str, font, **kw) -> None:
    """``draw.text`` for a Pillow font or a MixedFont (one call per run, on one baseline)."""
    if not isinstance(font, MixedFont):
        draw.text(xy, text, font=font, **kw)
        return
    kw = {k: v for k, v in kw.items() if k not in ("direction", "language")}
    x, y = xy
    for run, f, d, lang in font.runs(text):
        draw.text((x, y), run, font=f, direction=d, language=lang, **kw)
        x += f.getlength(run, direction=d, language=lang)


# Chinese function characters that stay with the word before them.
_ZH_ENCLITIC = set("的了吗呢吧着过们地得啊呀")


@lru_cache(maxsize=1)
def _ja_tagger():
    import fugashi

    return fugashi.Tagger()


def _ja_words(text: str, level: int = 0) -> list[str]:
    """Japanese phrases (bunsetsu-like) from fugashi's words: particles, auxiliaries,
    suffixes and punctuation join the word before them, prefixes the word after them; at
    level 0 dependent verbs and runs of nouns join too (商品入荷 / しました at level 1)."""
    out: list[str] = []
    glue_next = False
    prev_pos = ""
    for w in _ja_tagger()(text):
        pos1, pos2 = w.feature.pos1 or "", w.feature.pos2 or ""
        attach = bool(out) and (
            glue_next or pos1 in ("助詞", "助動詞", "接尾辞", "補助記号")
            or level == 0 and pos1 in ("動詞", "形容詞") and pos2 == "非自立可能"
            and prev_pos != "助詞" or level == 0 and pos1 == "名詞" and prev_pos == "名詞")
        if attach:
            out[-1] += w.surface
        else:
            out.append(w.surface)
        glue_next = pos1 == "接頭辞"
        prev_pos = pos1
    return out


def _jieba():
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


def _zh_parts(word: str) -> list[str]:
    """A long Chinese word as its longest dictionary sub-words, left to right
    (北京天安门广场 -> 北京 / 天安门 / 广场)."""
    subs = {w for w in _jieba().cut_for_search(word, HMM=False) if 1 < len(w) < len(word)}
    out, i = [], 0
    while i < len(word):
        best = max((w for w in subs if word.startswith(w, i)), key=len, default=word[i])
        out.append(best)
        i += len(best)
    return out


def _zh_words(text: str, level: int = 0) -> list[str]:
    """Chinese words (jieba), function characters kept with the word before; at level 1
    long words split into their dictionary sub-words."""
    out: list[str] = []
    words = _jieba().cut(text, HMM=False)
    if level == 1:
        words = [p for w in words for p in (_zh_parts(w) if len(w) > 2 else [w])]
    for w in words:
        if out and w in _ZH_ENCLITIC:
            out[-1] += w
        else:
            out.append(w)
    return out


@lru_cache(maxsize=4096)
def _words(text: str, language: str | None, level: int = 0) -> tuple[str, ...]:
    """A CJK run cut into break units: level 0 phrases (Japanese) or words (Chinese),
    level 1 words (Japanese) or sub-words (Chinese), level 2 (or any other language)
    characters."""
    if level < 2 and language == "ja":
        return tuple(_ja_words(text, level))
    if level < 2 and language in ("zh-Hans", "zh-Hant"):
        return tuple(_zh_words(text, level))
    return tuple(text)


def _units(text: str, cjk: bool, language: str | None = None,
           level: int = 0) -> list[tuple[str, str]]:
    """Break opportunities: (glue-before, unit) pairs. Spaced scripts: words glued by a
    space. CJK/Thai: words (Japanese, Chinese) or characters glued by nothing (Latin words
    and digits stay whole; closing punctuation and combining marks stick to the unit before
    them)."""
    if not cjk:
        return [(" ", w) for w in text.split()]
    units: list[str] = []
    pieces: list[str] = []
    for chunk in text.split(" "):
        if pieces:
            pieces.append(" ")
        pieces.extend(_words(chunk, language, level) if chunk else ())
    for ch in pieces:
        if ch.isspace():
            units.append(" ")
        elif units and units[-1] != " " and (
                ch[0] in _NO_LINE_START or unicodedata.category(ch[0]).startswith("M")
                or (ch.isascii() and ch.isalnum() and units[-1][-1].isascii()
                    and units[-1][-1].isalnum())):
            units[-1] += ch
        else:
            units.append(ch)
    out: list[tuple[str, str]] = []
    glue = ""
    for u in units:
        if u == " ":
            glue = " "
            continue
        out.append((glue, u))
        glue = ""
    return out


def _wrap(paragraph: str, font, sh: Shaping, max_width: float,
          level: int = 0) -> list[str] | None:
    """Greedy line fill; None when one unit alone is wider than ``max_width``."""
    lines: list[str] = []
    cur = ""
    for glue, unit in _units(paragraph, sh.cjk, sh.language, level):
        trial = cur + glue + unit if cur else unit
        if font.getlength(trial, direction=sh.direction, language=sh.language) <= max_width:
            cur = trial
            continue
        if not cur:
            return None
        lines.append(cur)
        cur = unit
        if font.getlength(cur, direction=sh.direction, language=sh.language) > max_width:
            return None
    if cur:
        lines.append(cur)
    return lines


def _measure(lines: list[str], font, sh: Shaping, size: int, stroke: int, align: str):
    """Place lines at baseline pitch; return origins and the block's ink size."""
    boxes = [font.getbbox(ln, anchor="ls", direction=sh.direction, language=sh.language,
                          stroke_width=stroke) for ln in lines]
    pitch = size * _LINE_PITCH
    widths = [b[2] - b[0] for b in boxes]
    block_w = max(widths)
    tops = [i * pitch + b[1] for i, b in enumerate(boxes)]
    bottoms = [i * pitch + b[3] for i, b in enumerate(boxes)]
    top = min(tops)
    origins = []
    for i, (b, w) in enumerate(zip(boxes, widths)):
        shift = {"left": 0.0, "right": block_w - w}.get(align, (block_w - w) / 2)
        origins.append((shift - b[0], i * pitch - top))
    return tuple(origins), int(block_w + 0.999), int(max(bottoms) - top + 0.999)


def _try(content: str, sh: Shaping, size: int, box: tuple[int, int], max_lines: int,
         stroke_frac: float, align: str, level: int = 0) -> TextLayout | None:
    font = _font(sh, size)
    stroke = int(round(size * stroke_frac))
    lines: list[str] = []
    for para in content.splitlines() or [content]:
        wrapped = _wrap(para, font, sh, box[0] - 2 * stroke, level) \
            if para.strip() else [""]
        if wrapped is None:
            return None
        lines.extend(wrapped)
    lines = [ln for ln in lines if ln] or [content.strip()]
    if len(lines) > max_lines:
        return None
    origins, w, h = _measure(lines, font, sh, size, stroke, align)
    if w > box[0] or h > box[1]:
        return None
    return TextLayout(sh, size, stroke, tuple(lines), origins, w, h)


def _largest(content: str, sh: Shaping, box: tuple[int, int], max_lines: int,
             stroke_frac: float, align: str, top: int | None = None,
             level: int = 0) -> TextLayout | None:
    """Binary search for the largest font size (up to ``top``) that fits (fit is close to
    monotonic in size; every returned layout was itself checked to fit)."""
    lo, hi, best = 1, max(2, int(box[1] * 1.2)), None
    if top is not None:
        hi = max(1, min(hi, top))
    while lo <= hi:
        mid = (lo + hi) // 2
        got = _try(content, sh, mid, box, max_lines, stroke_frac, align, level)
        if got is not None:
            best, lo = got, mid + 1
        else:
            hi = mid - 1
    return best


def fit_text(content: str, sh: Shaping, box: tuple[int, int], *, align: str = "center",
             stroke_frac: float = 0.0, max_size: int | None = None,
             exact_max: bool = False) -> TextLayout | None:
    """The largest layout of ``content`` whose ink fits ``box`` (w, h) pixels.

    Args:
        content: the exact string (explicit newlines are kept).
        sh: shaping from :func:`shaping_for`.
        box: available width and height in pixels.
        align: left | center | right, per line inside the block.
        stroke_frac: outline width as a share of the font size.
        max_size: an upper bound on the font size (e.g. for labels): it bounds the box's
            height to 1.4 x max_size, or the size itself when ``exact_max``.
        exact_max: max_size is the type size the layout chose (texts of one role then
            come out the same size whatever their letters).
    Returns:
        A TextLayout, or None when not even 1 px text fits.
    """
    if max_size is not None:
        box_h = min(box[1], int(max_size * 1.4))
        box = (box[0], max(box_h, 1))
    top = max_size if exact_max else None
    one = _largest(content, sh, box, 1, stroke_frac, align, top)
    many = _largest(content, sh, box, 1000, stroke_frac, align, top)
    if sh.cjk:
        # Chinese/Japanese break between phrases, else between words, else between
        # characters: the first level whose type reaches _WORD_BREAK_FLOOR of the size
        # that breaking between characters allows
        levels = [many] + [_largest(content, sh, box, 1000, stroke_frac, align, top, level=k)
                           for k in (1, 2)]
        best = max((lay.size for lay in levels if lay is not None), default=0)
        many = next((lay for lay in levels
                     if lay is not None and lay.size >= _WORD_BREAK_FLOOR * best), None)
    if one is not None and (many is None or many.size <= one.size * _SINGLE_LINE_BONUS):
        return one
    return many


@dataclass(frozen=True)
class Backdrop:
    """What lies under a text box: mean colour, how busy it is, whether it is transparent."""

    mean: RGB
    busy: float
    transparent: bool


def sample_backdrop(image: "Image.Image", rect: tuple[int, int, int, int]) -> Backdrop:
    """Mean colour and luminance spread (p90 - p10, 0..1) of ``image`` under ``rect``."""
    import numpy as np

    crop = image.crop(rect)
    if max(crop.size) > 96:  # statistics, not detail: a small copy is plenty
        crop = crop.resize((max(1, crop.width * 96 // max(crop.size)),
                            max(1, crop.height * 96 // max(crop.size))))
    arr = np.asarray(crop.convert("RGBA"), dtype=np.float32)
    alpha = arr[..., 3] / 255.0
    if alpha.mean() < 0.5:
        return Backdrop(INK_LIGHT, 0.0, True)
    rgb = arr[..., :3]
    mean = tuple(int(v) for v in rgb.reshape(-1, 3).mean(axis=0))
    lum = (rgb @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)) / 255.0
    # Spread between the 10th and 90th percentiles: sparse specks (stars, snow) are not
    # "busy", a cloud or an object half under the box is.
    lo, hi = np.percentile(lum, (10, 90))
    return Backdrop(mean, float(hi - lo), False)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Treatment:
    fill: RGB
    outline: RGB | None   # stroke colour, or None
    plate: RGB | None     # backing plate colour, or None


def choose_treatment(color: str | None, under: Backdrop) -> Treatment:
    """Text colour plus what keeps it legible: WCAG ≥ 4.5 on a calm backdrop is drawn
    plain; a requested colour at 3–4.5 gets an outline; anything else below 4.5, or a busy
    backdrop, gets a plate."""
    wanted = parse_color(color)
    if under.transparent:
        return Treatment(wanted or INK_DARK, None, None)
    fill = wanted or readable_on(under.mean)
    ratio = contrast_ratio(fill, under.mean)
    opposite = _plate_color(fill, under.mean)
    if under.busy > BUSY or ratio < 3.0 or (ratio < 4.5 and wanted is None):
        # A plate guarantees the contrast; an outline is kept for a colour the Plan asked
        # for (outlined letters read worse, for people and OCR alike).
        return Treatment(fill, None, opposite)
    if ratio < 4.5:
        return Treatment(fill, opposite, None)
    return Treatment(fill, None, None)


def _plate_color(fill: RGB, backdrop: RGB) -> RGB:
    """A plate colour from the backdrop's own hue (deep or pale), so the plate belongs to
    the picture; neutral ink when the tinted one would not reach WCAG 4.5 with ``fill``."""
    tinted = shade(backdrop, -0.72) if relative_luminance(fill) > 0.4 else shade(backdrop, 0.85)
    if contrast_ratio(fill, tinted) >= 4.5:
        return tinted
    return readable_on(fill, dark=(18, 20, 28), light=(252, 252, 250))


def legible_floor(width: int, height: int) -> int:
    """The smallest font size (px) text is drawn at: 8 px from 512 px canvases up, less on
    thumbnails (3 px at 192 and below) where everything is small."""
    return min(8, max(3, min(width, height) // 64))


def _role_cap(el: TextElement, canvas_h: int, canvas_w: int) -> int | None:
    """The type size the layout chose (``font_size``), else a cap from the role: body copy
    and captions stay modest even in a big box; titles may fill theirs."""
    if el.font_size is not None:
        return max(4, int(round(el.font_size * canvas_h)))
    share = {"title": None, "heading": 0.16, "subtitle": 0.1, "label": 0.09, "body": 0.06,
             "bullet": 0.06, "item": 0.06, "price": 0.06, "caption": 0.05}
    s = share.get(el.role)
    return None if s is None else max(8, int(min(canvas_h, canvas_w) * s))


def draw_text_element(image: "Image.Image", el: TextElement, font: str | None = None,
                      effects: bool = True) -> "Image.Image":
    """Draw one TextElement onto ``image`` (RGB or RGBA) in place and return it.

    Args:
        image: RGB or RGBA canvas. el: the element. font: a font file override.
        effects: allow a soft shadow under light titles (off for quality low).
    """
    from PIL import Image, ImageDraw

    x0, y0, x1, y1 = box_to_pixels(el.box, image.width, image.height)
    under = sample_backdrop(image, (x0, y0, x1, y1))
    treat = choose_treatment(el.color, under)
    pill = treat.plate is None and el.role == "label" and not under.transparent
    if pill:  # labels sit on a faint pill of their own ink: a diagram's chips, a UI control
        chip = mix(under.mean, treat.fill, 0.1)
        if contrast_ratio(treat.fill, chip) >= 4.5:
            treat = Treatment(treat.fill, treat.outline, chip)
    # --font (the caller's) outranks the Plan's own font choice.
    sh = shaping_for(el.content, el.script, el.weight, font=font or el.font)
    bw, bh = x1 - x0, y1 - y0
    # A plate needs room around the ink: fit into an inset of the box.
    pad = int(min(bw, bh) * 0.14) if treat.plate else int(min(bw, bh) * 0.03)
    inner = (max(1, bw - 2 * pad), max(1, bh - 2 * pad))
    if el.split and 0 < el.split < len(el.content):
        _draw_columns(image, el, sh, treat, (x0, y0, x1, y1), pad)
        return image
    layout = fit_text(el.content, sh, inner, align=el.align,
                      stroke_frac=0.06 if treat.outline else 0.0,
                      max_size=_role_cap(el, image.height, image.width),
                      exact_max=el.font_size is not None)
    floor = legible_floor(image.width, image.height)
    if layout is None or layout.size < floor:
        # Never an empty or illegible text written silently: the Plan must give it room.
        got = "no size at all" if layout is None else f"{layout.size} px"
        raise RenderError(f"text {el.id!r} ({len(el.content)} characters) fits its {bw}x{bh} "
                          f"px box only at {got}, below the legible {floor} px: give it a "
                          "larger box or canvas, or shorten it")
    layer = Image.new("RGBA", (bw, bh), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    ox = {"left": pad, "right": bw - pad - layout.width}.get(el.align,
                                                           (bw - layout.width) / 2)
    oy = (bh - layout.height) / 2
    if treat.plate:
        _plate(draw, layout, (ox, oy), (bw, bh), treat.plate, 0.5 if pill else 0.25)
    elif effects and not under.transparent and el.role in ("title", "heading") \
            and relative_luminance(treat.fill) > 0.5:
        _soft_shadow(layer, layout, (ox, oy))
    f = _font(layout.shaping, layout.size)
    for line, (lx, ly) in zip(layout.lines, layout.origins):
        _draw_text(draw, (ox + lx, oy + ly), line, f, fill=treat.fill + (255,), anchor="ls",
                  direction=layout.shaping.direction, language=layout.shaping.language,
                  stroke_width=layout.stroke,
                  stroke_fill=(treat.outline + (255,)) if treat.outline else None)
    paste_over(image, layer, (x0, y0))
    return image


def _draw_columns(image: "Image.Image", el: TextElement, sh: Shaping, treat: Treatment,
                  rect: tuple[int, int, int, int], pad: int) -> None:
    """A two-column line (a menu's name and price): one size for both parts, fitted as one
    line with a gap; the name flush left, the price flush right, on one baseline."""
    from PIL import Image, ImageDraw

    x0, y0, x1, y1 = rect
    bw, bh = x1 - x0, y1 - y0
    left, right = el.content[:el.split].rstrip(), el.content[el.split:].lstrip()
    probe = f"{left}\u2003\u2003{right}"       # two em spaces: the least gap between columns
    layout = fit_text(probe, sh, (max(1, bw - 2 * pad), max(1, bh - 2 * pad)),
                      max_size=_role_cap(el, image.height, image.width),
                      exact_max=el.font_size is not None)
    if layout is None or len(layout.lines) != 1:
        layout = _largest(probe, sh, (max(1, bw - 2 * pad), max(1, bh - 2 * pad)), 1, 0.0,
                          "left")
    if layout is None:
        return
    f = _font(layout.shaping, layout.size)
    kw = dict(direction=layout.shaping.direction, language=layout.shaping.language)
    base = (bh - layout.height) / 2 + layout.origins[0][1]
    rw = f.getlength(right, **kw)
    layer = Image.new("RGBA", (bw, bh), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    if treat.plate:
        _plate(draw, layout, (pad, (bh - layout.height) / 2), (bw, bh), treat.plate)
    for text, x in ((left, pad), (right, bw - pad - rw)):
        _draw_text(draw, (x, base), text, f, fill=treat.fill + (255,), anchor="ls", **kw)
    paste_over(image, layer, (x0, y0))


def paste_over(base: "Image.Image", layer: "Image.Image", pos: tuple[int, int]) -> None:
    """Composite an RGBA ``layer`` over ``base`` in place: true alpha compositing on RGBA
    (keeps a transparent canvas's alpha right), a masked paste on RGB (same result, no
    alpha channel to carry)."""
    if base.mode == "RGBA":
        base.alpha_composite(layer, pos)
    else:
        base.paste(layer, pos, layer)


def _soft_shadow(layer: "Image.Image", layout: TextLayout, origin: tuple[float, float]) -> None:
    """A soft dark shadow under light title text: depth on busy scenes, drawn inside the
    layer (so still inside the box)."""
    from PIL import Image, ImageDraw, ImageFilter

    mask = Image.new("L", layer.size, 0)
    d = ImageDraw.Draw(mask)
    f = _font(layout.shaping, layout.size)
    dy = max(1, layout.size // 24)
    for line, (lx, ly) in zip(layout.lines, layout.origins):
        _draw_text(d, (origin[0] + lx, origin[1] + ly + dy), line, f, fill=110, anchor="ls",
               direction=layout.shaping.direction, language=layout.shaping.language)
    mask = mask.filter(ImageFilter.BoxBlur(max(1, layout.size // 18)))
    layer.paste(Image.new("RGBA", layer.size, (10, 12, 24, 255)), (0, 0), mask)


def _plate(draw, layout: TextLayout, origin: tuple[float, float], box: tuple[int, int],
           color: RGB, roundness: float = 0.25) -> None:
    """A rounded, slightly translucent plate behind the ink block, clipped to the box;
    ``roundness`` 0.5 makes a pill."""
    px = max(2, int(layout.size * 0.45))
    py = max(2, int(layout.size * 0.3))
    left = max(0, origin[0] - px)
    top = max(0, origin[1] - py)
    right = min(box[0] - 1, origin[0] + layout.width + px)
    bottom = min(box[1] - 1, origin[1] + layout.height + py)
    radius = int(min(bottom - top, right - left) * roundness)
    draw.rounded_rectangle((left, top, right, bottom), radius=radius, fill=color + (226,))


def draw_texts(image: "Image.Image", plan: Plan, font: str | None = None, *,
               in_place: bool = False) -> "Image.Image":
    """Draw every text element of ``plan`` onto a copy of ``image``.

    Args:
        image: the base picture (any mode; drawn in RGBA).
        plan: the Plan whose text elements to draw, in z order.
        font: a font file that overrides fontconfig's choice (``--font``).
        in_place: draw on ``image`` itself when it is RGB or RGBA (saves a copy).
    Returns:
        The image with the text drawn: RGBA, or ``image`` itself when ``in_place``.
    Raises:
        RenderError: when no installed font covers a string (names the package).
    """
    if in_place and image.mode in ("RGB", "RGBA"):
        out = image
    else:
        out = image.convert("RGBA") if image.mode != "RGBA" else image.copy()
    for el in sorted(plan.texts, key=lambda e: e.z):
        draw_text_element(out, el, font=font, effects=plan.quality != "low")
    return out


def normalise_for_compare(text: str) -> str:
    """NFKC + whitespace collapse: how OCR read-back is compared with the Plan's text."""
    return " ".join(unicodedata.normalize("NFKC", text).split())
