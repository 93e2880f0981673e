"""The Plan as Ideogram 4's structured JSON caption, and the caption read back.

Ideogram 4 (diffusers ``Ideogram4Pipeline``) was trained on JSON captions, not sentences. The
schema, as diffusers 0.42 ships it (``pipelines/ideogram4/prompt_enhancer.py``: the caption
system message and the outlines schema) and as Ideogram's own JSON-prompting guide and the
ComfyUI reference workflow describe the layout fields::

    {"high_level_description": "...",
     "style_description": {"aesthetics": "...", "medium": "...", "color_palette": ["#rrggbb", ...]},
     "compositional_deconstruction": {
         "background": "...",
         "elements": [
             {"type": "obj", "bbox": [y_min, x_min, y_max, x_max], "desc": "...",
              "color_palette": ["#rrggbb"]},
             {"type": "text", "text": "VERBATIM", "bbox": [...], "desc": "..."}]}}

``bbox`` is ``[y_min, x_min, y_max, x_max]`` on a 0-1000 grid, origin top-left (Ideogram's
convention; the Plan's boxes are ``[x0, y0, x1, y1]`` in [0, 1], origin top-left). Up to 16
palette colours for the image and 5 per element. Every Plan element becomes one caption
element in Plan order, each with its box: the model places it there itself, no attention masks.

``plan_caption(plan)`` writes it; ``read_caption(text)`` parses one back into typed elements;
the round trip keeps every element's kind, text, colour and box (boxes to 1/1000).

Pure Python (no torch, no PIL): ``limner plan --explain`` prints it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

GRID = 1000               # Ideogram's bbox grid: 0..1000 on each axis
MAX_IMAGE_COLORS = 16
MAX_ELEMENT_COLORS = 5


@dataclass(frozen=True)
class CaptionElement:
    """One element read back from a caption: ``kind`` is ``object`` or ``text``; ``box`` is
    the Plan convention ``(x0, y0, x1, y1)`` in [0, 1]; ``head`` the object's colour and
    label words (objects) or the verbatim text (texts); ``colors`` its palette."""

    kind: str
    head: str
    box: tuple[float, float, float, float]
    colors: tuple[str, ...] = ()


def _hex(value: str | None) -> str | None:
    from render.color import parse_color, to_hex

    rgb = parse_color(value)
    return to_hex(rgb).lower() if rgb is not None else None


def to_bbox(box) -> list[int]:
    """Plan box ``(x0, y0, x1, y1)`` in [0, 1] → Ideogram ``[y_min, x_min, y_max, x_max]`` on
    the 0-1000 grid; a side that rounds to nothing keeps one grid step."""
    x0, y0, x1, y1 = (min(max(v, 0.0), 1.0) for v in box)
    ya, xa, yb, xb = (round(v * GRID) for v in (y0, x0, y1, x1))
    if yb <= ya:
        ya, yb = (ya, ya + 1) if ya < GRID else (GRID - 1, GRID)
    if xb <= xa:
        xa, xb = (xa, xa + 1) if xa < GRID else (GRID - 1, GRID)
    return [ya, xa, yb, xb]


def from_bbox(bbox) -> tuple[float, float, float, float]:
    """Ideogram ``[y_min, x_min, y_max, x_max]`` (0-1000) → Plan box ``(x0, y0, x1, y1)``."""
    if not (isinstance(bbox, (list, tuple)) and len(bbox) == 4):
        raise ValueError(f"bbox must be [y_min, x_min, y_max, x_max]; got {bbox!r}")
    ya, xa, yb, xb = (float(v) / GRID for v in bbox)
    return (xa, ya, xb, yb)


def where(box) -> str:
    """Size and placement words for a box (render/prompting.py's, shared by every LLM-prompt
    family)."""
    from render.prompting import position_words, size_word

    return f"{size_word(box)}, {position_words(box)}"


def colour_words(value: str | None) -> str:
    from render.prompting import colour_words as words

    return words(value)


def _object(el) -> dict:
    label = f"{el.shape} {el.label}".strip() if el.kind == "shape" else el.label
    head = " ".join(w for w in (colour_words(el.color), label) if w)
    desc = head + (f", {el.description}" if el.description else "") + f"; {where(el.box)}"
    out = {"type": "obj", "bbox": to_bbox(el.box), "desc": desc}
    hx = _hex(el.color)
    if hx:
        out["color_palette"] = [hx]
    return out


def _text(el, text_mode: str) -> dict:
    if text_mode == "exact":     # the text engine draws it later: the model leaves room
        return {"type": "obj", "bbox": to_bbox(el.box),
                "desc": f"a clean empty area with no letters; {where(el.box)}"}
    colour = colour_words(el.color)
    desc = (f"{el.role} set in {el.weight} {colour + ' ' if colour else ''}type, "
            f"{el.align}-aligned, written exactly as given; {where(el.box)}")
    out = {"type": "text", "text": el.content, "bbox": to_bbox(el.box), "desc": desc}
    hx = _hex(el.color)
    if hx:
        out["color_palette"] = [hx]
    return out


def _background(plan, key_name: str | None) -> str:
    bg = plan.canvas.background
    if key_name or bg.kind == "transparent":
        return f"plain flat {key_name or 'white'} backdrop filling the frame (it is cut out)"
    if bg.kind == "gradient":
        text = "smooth gradient from " + " to ".join(colour_words(c) for c in bg.colors)
    elif bg.kind == "scene":
        text = " ".join(w for w in (colour_words(bg.color), bg.scene or "", "scene") if w)
    else:
        text = f"plain {colour_words(bg.color) or 'neutral'} backdrop filling the frame"
    return f"{text}, {bg.description}" if bg.description else text


def _summary(plan) -> str:
    counts: dict[str, int] = {}
    for el in plan.objects:
        head = " ".join(w for w in (colour_words(el.color), el.label) if w)
        counts[head] = counts.get(head, 0) + 1
    parts = [f"{n} {h}" if n > 1 else f"a {h}" for h, n in counts.items()]
    parts += [f'the text "{t.content}"' for t in plan.texts]
    medium = plan.style.text or plan.style.preset or "image"
    body = ", ".join(parts) if parts else "an empty composition"
    return f"A {medium} of {body}."


def _palette(plan) -> list[str]:
    bg = plan.canvas.background
    seen: list[str] = []
    for c in (bg.color, *bg.colors, *(el.color for el in plan.elements)):
        hx = _hex(c)
        if hx and hx not in seen:
            seen.append(hx)
    return seen[:MAX_IMAGE_COLORS]


def plan_caption_dict(plan, text_mode: str = "native", key_name: str | None = None) -> dict:
    """The Plan as an Ideogram 4 caption (a dict in the schema's key order).

    Args:
        plan: what to draw.
        text_mode: ``native``/``auto``: each text is a ``text`` element the model draws;
            ``exact``: each text box becomes an empty area the text engine fills later.
        key_name: a transparent Plan drawn on a key colour names that colour.
    """
    style: dict = {}
    if plan.style.text:
        style["aesthetics"] = plan.style.text
    if plan.style.preset:
        style["medium"] = plan.style.preset
    palette = _palette(plan)
    if palette:
        style["color_palette"] = palette
    elements = [(_text(el, text_mode) if el.kind == "text" else _object(el))
                for el in sorted(plan.elements, key=lambda e: e.z)]
    caption: dict = {"high_level_description": _summary(plan)}
    if style:
        caption["style_description"] = style
    caption["compositional_deconstruction"] = {"background": _background(plan, key_name),
                                               "elements": elements}
    return caption


def plan_caption(plan, text_mode: str = "native", key_name: str | None = None) -> str:
    """The Plan as the compact single-line JSON string Ideogram 4 reads as its prompt."""
    return json.dumps(plan_caption_dict(plan, text_mode, key_name), ensure_ascii=False,
                      separators=(",", ":"))


def read_caption(text: str) -> list[CaptionElement]:
    """Parse an Ideogram 4 caption back into elements (Plan box convention).

    Raises:
        ValueError: text that is not a caption of this schema, naming what is wrong.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"caption is not JSON: {e}") from None
    try:
        raw = data["compositional_deconstruction"]["elements"]
    except (KeyError, TypeError):
        raise ValueError("caption has no compositional_deconstruction.elements") from None
    out = []
    for i, el in enumerate(raw):
        kind = el.get("type")
        if kind not in ("obj", "text"):
            raise ValueError(f"element {i}: type must be obj or text; got {kind!r}")
        colors = tuple(el.get("color_palette") or ())
        if len(colors) > MAX_ELEMENT_COLORS:
            raise ValueError(f"element {i}: more than {MAX_ELEMENT_COLORS} colours")
        if kind == "text":
            head = el["text"]
        else:
            head = el["desc"].split("; ", 1)[0].split(", ", 1)[0]
        out.append(CaptionElement("object" if kind == "obj" else "text", head,
                                  from_bbox(el["bbox"]), colors))
    return out
