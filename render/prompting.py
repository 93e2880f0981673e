"""The Plan as a structured prompt, for families whose text encoder is an LLM.

Qwen-Image, Z-Image and FLUX.2 read their prompt through a chat-tuned LLM (Qwen2.5-VL,
Qwen3, Mistral 3) and follow long, explicit descriptions: what the picture is, then each thing
in it with how many, what colour, where and how big, and every text in quotes. This module
writes a Plan that way, family-agnostic: scene and style first, then one line per element
group (count, colour, label, size, position words derived from its boxes, the nearest other
element's relation), then every text verbatim in quotes with its placement and colour.

Position words come from the boxes only (never from the prompt), so a Plan the layout solver
or a user edited reads back as it is drawn. Pure Python: no torch, no PIL.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from planner.schema import Box, ObjectElement, Plan, TextElement

TEXT_MODES = ("exact", "native", "auto")

_NUMBERS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
            "ten", "eleven", "twelve")
_ROWS = ("top", "middle", "bottom")
_COLS = ("left", "center", "right")
_SCRIPT_NAMES = {"Hans": "Simplified Chinese", "Hant": "Traditional Chinese",
                 "Jpan": "Japanese", "Kore": "Korean", "Arab": "Arabic", "Hebr": "Hebrew",
                 "Cyrl": "Cyrillic", "Grek": "Greek", "Thai": "Thai", "Deva": "Devanagari"}
_ROLES = {"title": "as the title", "heading": "as a heading", "label": "as a label",
          "body": "as body text", "caption": "as a caption", "subtitle": "as the subtitle",
          "bullet": "as a bullet point", "item": "as a menu line", "price": "as the price"}
# Design shapes (charts, UI controls, frames) as the model should see them.
_SHAPE_WORDS = {"bar": "chart bar", "slice": "pie chart slice", "axis": "chart axis line",
                "button": "rounded button", "card": "card panel", "navbar": "navigation bar",
                "circle": "filled circle", "badge": "star badge", "rule": "dotted line",
                "marker": "round bullet marker", "frame": "thin border frame"}


def shape_noun(shape: str) -> str:
    """A design shape kind as the model should read it ("bar" -> "chart bar")."""
    return _SHAPE_WORDS.get(shape, shape)


def script_name(code: str) -> str | None:
    """The English name of a non-Latin script code ("Jpan" -> "Japanese"), else None."""
    return _SCRIPT_NAMES.get(code)


def number_word(n: int) -> str:
    """``3`` -> ``"three"`` (digits above twelve)."""
    return _NUMBERS[n] if 0 <= n < len(_NUMBERS) else str(n)


@lru_cache(maxsize=512)
def plural(label: str) -> str:
    """The plural of an English label ("cup" -> "cups", "mouse" -> "mice")."""
    import inflect

    words = label.split()
    if not words:
        return label
    try:
        last = inflect.engine().plural_noun(words[-1]) or words[-1]
    except Exception:  # inflect rejects some tokens (digits, symbols): keep the word
        last = words[-1]
    return " ".join(words[:-1] + [last])


@lru_cache(maxsize=256)
def colour_words(value: str | None) -> str:
    """A Plan colour as words an LLM encoder reads: names and phrases stay as written
    ("light blue"), hex and rgb() become the nearest CSS name."""
    if not value or not value.strip():
        return ""
    text = value.strip()
    if not text.startswith(("#", "rgb")):
        return text
    from render.color import parse_color

    rgb = parse_color(text)
    if rgb is None:
        return ""
    import webcolors

    names = webcolors.names("css3")
    return min(names, key=lambda n: sum((a - b) ** 2 for a, b in
                                        zip(webcolors.name_to_rgb(n), rgb)))


def _centre(box: Box) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def position_words(box: Box) -> str:
    """Where a box sits on the canvas, in thirds: "in the top-left third", "in the center",
    "across the bottom", "filling the image"."""
    x0, y0, x1, y1 = box
    cx, cy = _centre(box)
    col, row = _COLS[min(int(cx * 3), 2)], _ROWS[min(int(cy * 3), 2)]
    wide, tall = x1 - x0 > 0.66, y1 - y0 > 0.66
    if wide and tall:
        return "filling the image"
    if wide:
        return "across the middle" if row == "middle" else f"across the {row}"
    if tall:
        return ("down the middle" if col == "center"
                else f"along the {col} side, top to bottom")
    if row == "middle" and col == "center":
        return "in the center"
    if row == "middle":
        return f"in the middle of the {col} side"
    if col == "center":
        return f"in the {row} center"
    return f"in the {row}-{col} third"


def size_word(box: Box) -> str:
    """How big a box is, as a share of the canvas area."""
    area = (box[2] - box[0]) * (box[3] - box[1])
    for limit, word in ((0.02, "tiny"), (0.08, "small"), (0.25, "medium-sized"),
                        (0.6, "large")):
        if area < limit:
            return word
    return "very large"


def relation_words(a: Box, b: Box, z_a: int = 0, z_b: int = 0) -> str | None:
    """How box ``a`` stands to box ``b``: "left of", "right of", "above", "below", "in front
    of", "behind" or "on" (None when they coincide). The axis with the larger gap between
    the boxes wins; overlapping boxes are ordered by z."""
    gap_x = max(b[0] - a[2], a[0] - b[2])    # > 0: disjoint along x
    gap_y = max(b[1] - a[3], a[1] - b[3])
    (ax, ay), (bx, by) = _centre(a), _centre(b)
    if gap_x > 0 or gap_y > 0:
        if gap_x >= gap_y:
            return "left of" if ax < bx else "right of"
        return "above" if ay < by else "below"
    inside = a[0] >= b[0] and a[1] >= b[1] and a[2] <= b[2] and a[3] <= b[3]
    if inside and z_a > z_b:
        return "on"
    if z_a != z_b:
        return "in front of" if z_a > z_b else "behind"
    if abs(ax - bx) < 1e-6 and abs(ay - by) < 1e-6:
        return None
    if abs(ax - bx) >= abs(ay - by):
        return "left of" if ax < bx else "right of"
    return "above" if ay < by else "below"


@dataclass(frozen=True)
class _Group:
    """Identical objects (same label, colour, description), in z order."""

    label: str
    color: str
    description: str
    members: tuple[ObjectElement, ...]

    def noun(self) -> str:
        n = len(self.members)
        head = " ".join(w for w in (colour_words(self.color), self.label if n == 1
                                    else plural(self.label)) if w)
        if n > 1:
            return f"{number_word(n)} {head}"
        return f"{'an' if head[:1].lower() in 'aeiou' else 'a'} {head}"


def _groups(plan: Plan) -> list[_Group]:
    found: dict[tuple, list[ObjectElement]] = {}
    # reading order: rows of thirds top to bottom, then left to right
    for el in sorted(plan.objects, key=lambda e: (min(int(_centre(e.box)[1] * 3), 2),
                                                  _centre(e.box)[0])):
        found.setdefault((el.label, el.color or "", el.description), []).append(el)
    return [_Group(k[0], k[1], k[2], tuple(v)) for k, v in found.items()]


def _name(el, quote_texts: bool) -> str:
    if isinstance(el, TextElement):
        return f'the text "{el.content}"' if quote_texts else "the empty text area"
    return f"the {el.label}"


def _nearest_relation(el, others: list, quote_texts: bool = True) -> str:
    """", left of the cup" for the nearest element of another kind, or ""."""
    best = None
    cx, cy = _centre(el.box)
    for o in others:
        if o is el or (isinstance(o, ObjectElement) and isinstance(el, ObjectElement)
                       and o.label == el.label):
            continue
        ox, oy = _centre(o.box)
        d = (cx - ox) ** 2 + (cy - oy) ** 2
        if best is None or d < best[0]:
            best = (d, o)
    if best is None:
        return ""
    rel = relation_words(el.box, best[1].box, el.z, best[1].z)
    return f", {rel} {_name(best[1], quote_texts)}" if rel else ""


def _shape_words(plan: Plan) -> str:
    w, h = plan.size
    if abs(w - h) <= 0.05 * max(w, h):
        return "square"
    return "landscape" if w > h else "portrait"


def scene_line(plan: Plan, key_name: str | None = None, alpha: bool = False) -> str:
    """The picture as a whole: style, format and background. ``alpha``: the model outputs
    an alpha channel itself, so a transparent Plan asks it for a transparent background."""
    style = plan.style.text or (plan.style.preset or "")
    bg = plan.canvas.background
    if alpha and not key_name and bg.kind == "transparent":
        back = "a fully transparent background (only the subjects are opaque)"
    elif key_name or bg.kind == "transparent":
        back = (f"isolated on a plain flat {key_name or 'white'} background "
                "(it will be cut out)")
    elif bg.kind == "gradient":
        back = "a smooth gradient background from " + " to ".join(
            colour_words(c) for c in bg.colors if c)
    elif bg.kind == "scene":
        back = " ".join(w for w in ("a", colour_words(bg.color), bg.scene or "", "scene") if w)
    else:
        back = f"a plain {colour_words(bg.color) or 'neutral'} background"
    if bg.description:
        back += f" ({bg.description})"
    kind = f"A {style} image" if style else "An image"
    return f"{kind}, {_shape_words(plan)} format, with {back}."


def element_lines(plan: Plan, quote_texts: bool = True) -> list[str]:
    """One line per group of identical objects: count, colour, label, description, size,
    position of each member and its nearest neighbour's relation (a text neighbour is
    quoted only when the model draws the texts)."""
    everything = list(plan.objects) + list(plan.texts)
    lines = []
    for g in _groups(plan):
        desc = f" ({g.description})" if g.description else ""
        if len(g.members) == 1:
            el = g.members[0]
            lines.append(f"- {g.noun()}{desc}, {size_word(el.box)}, {position_words(el.box)}"
                         f"{_nearest_relation(el, everything, quote_texts)}.")
            continue
        places = "; ".join(f"one {size_word(el.box)}, {position_words(el.box)}"
                           f"{_nearest_relation(el, everything, quote_texts)}"
                           for el in g.members)
        lines.append(f"- exactly {g.noun()}{desc}: {places}.")
    for sh in plan.shapes:
        colour = colour_words(sh.color)
        lines.append(f"- a {colour + ' ' if colour else ''}{_SHAPE_WORDS[sh.shape]}, "
                     f"{size_word(sh.box)}, {position_words(sh.box)}.")
    return lines


def text_lines(plan: Plan, mode: str = "native") -> list[str]:
    """Every text of the Plan. ``native``/``auto``: verbatim in quotes with placement, colour,
    weight and script, for the model to draw. ``exact``: the model must leave the text's box
    empty (the text engine draws it afterwards)."""
    everything = list(plan.objects) + list(plan.texts)
    lines = []
    for t in plan.texts:
        where = f"{position_words(t.box)}{_nearest_relation(t, everything, mode != 'exact')}"
        if mode == "exact":
            lines.append(f"- leave a clean empty area {where} (no letters there).")
            continue
        colour = colour_words(t.color)
        look = " ".join(w for w in (t.weight if t.weight == "bold" else "",
                                    colour, "lettering" if colour else "") if w)
        script = _SCRIPT_NAMES.get(t.script)
        parts = [f'- the text "{t.content}"', _ROLES.get(t.role, ""), where]
        if look:
            parts.append(f"in {look}")
        if script:
            parts.append(f"written in {script} exactly as given")
        lines.append(", ".join(p for p in parts if p) + ".")
    return lines


def structured_prompt(plan: Plan, text_mode: str = "native", key_name: str | None = None,
                      alpha: bool = False) -> str:
    """The Plan as one structured prompt for an LLM text encoder.

    Args:
        plan: what to draw.
        text_mode: ``native``/``auto`` asks the model to draw each quoted text; ``exact``
            asks it to leave the text boxes empty for the text engine.
        key_name: a transparent Plan drawn on a key colour names that colour here.
        alpha: the model draws alpha itself (a transparent Plan asks for transparency).
    Returns:
        Plain text: a scene line, an "Elements:" list, a "Text:" list (when there is text).
    """
    if text_mode not in TEXT_MODES:
        raise ValueError(f"text mode must be one of {', '.join(TEXT_MODES)}; got {text_mode!r}")
    out = [scene_line(plan, key_name, alpha)]
    elements = element_lines(plan, quote_texts=text_mode != "exact")
    if elements:
        out += ["Elements:"] + elements
    texts = text_lines(plan, text_mode)
    if texts:
        head = ("Text, each written exactly as quoted, letter for letter:"
                if text_mode != "exact" else "Text areas (draw no text anywhere):")
        out += [head] + texts
    elif text_mode == "exact" or not plan.texts:
        out.append("No text, letters or watermarks anywhere.")
    return "\n".join(out)
