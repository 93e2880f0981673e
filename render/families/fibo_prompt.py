"""The Plan as Bria FIBO's structured JSON prompt, and the prompt read back.

FIBO (diffusers ``BriaFiboPipeline``) was trained only on long structured JSON captions; a
plain sentence is out of its distribution. The schema is the one Bria publishes with its
prompt writer (github.com/Bria-AI/FIBO, ``src/fibo_inference/vlm/gemini_api.py``: the
``ImageAnalysis`` pydantic model and the ``json_schema_full`` instructions; the field order
and the dropping of empty values follow ``src/fibo_inference/parse_caption.py``)::

    {"short_description": "...",
     "objects": [{"description": "...", "location": "top-left", "relationship": "...",
                  "relative_size": "small", "shape_and_color": "...", "texture": "...",
                  "appearance_details": "...", "number_of_objects": 3, "orientation": "..."}],
     "background_setting": "...",
     "lighting": {"conditions": "...", "direction": "...", "shadows": "..."},
     "aesthetics": {"composition": "...", "color_scheme": "...", "mood_atmosphere": "..."},
     "photographic_characteristics": {"depth_of_field": ..., "focus": ..., "camera_angle": ...,
                                      "lens_focal_length": ...},
     "style_medium": "...", "artistic_style": "...", "context": "...",
     "text_render": [{"text": "VERBATIM", "location": "...", "size": "...", "color": "...",
                      "font": "...", "appearance_details": "..."}]}

FIBO has no coordinates: ``location`` is a word ("center", "top-left", "bottom-right
foreground" in Bria's examples) and ``relative_size`` a size word ("small", "medium", "large
within frame"). So each Plan box becomes the cell of a 3 x 3 grid its centre falls in
(``CELLS``) and a size class of its area (``SIZES``): layout control is coarser than Ideogram
4's boxes (render/families/ideogram4_caption.py), and the round trip keeps cells and size
classes, not boxes.

Translation (only what the Plan says; nothing is invented):
- every object instance is one ``objects`` entry (counts preserved: three apples are three
  entries, each saying "one of three red apples", each with its own cell); Bria's prompt
  writer lists at most 5 prominent objects, limner lists all of them;
- shapes (chart bars, buttons, ...) are objects too; an object's colour goes to
  ``shape_and_color`` as words and hex, its description to ``appearance_details``, the
  relation (render/prompting.py) to the nearest element of another label to
  ``relationship``, and to a same-label twin sharing its grid cell when there is one;
- every text is a ``text_render`` entry with the string verbatim, its cell, size class,
  colour, weight/font, role, alignment and script (text modes native/auto). In exact mode
  ``text_render`` is empty (the model was trained to draw no text then) and each text box is
  an object "a clean empty area with no letters" in its cell, for the text engine to fill;
- background, style (``style_medium``/``artistic_style``), the palette (``color_scheme``);
  ``aesthetics`` also carries the two score words Bria's inference adds to every prompt
  (``parse_caption.clean_json``: preference and aesthetic score "very high");
- ``lighting`` and ``photographic_characteristics`` are left out: the Plan has no such facts
  (Bria drops empty fields the same way).

``plan_prompt(plan)`` writes it; ``read_prompt(text)`` parses one back into typed elements.
Pure Python (no torch, no PIL): ``limner plan --explain --renderer fibo`` prints it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_ROWS = ("top", "center", "bottom")
_COLS = ("left", "center", "right")
#: The 3 x 3 grid of location words, row-major; the middle cell is "center".
CELLS = tuple("center" if (r, c) == ("center", "center") else f"{r}-{c}"
              for r in _ROWS for c in _COLS)
#: Size classes by the box's share of the canvas area: (upper bound, word).
SIZES = ((0.02, "tiny"), (0.08, "small"), (0.25, "medium"), (0.6, "large"),
         (1.01, "large within frame"))
EMPTY_AREA = "a clean empty area with no letters"
_SCORES = {"preference_score": "very high", "aesthetic_score": "very high"}
# limner's style presets in the words Bria's schema uses for style_medium ("photograph", ...)
_MEDIUM = {"photo": "photograph", "3d": "3D render"}
# Bria's inference guides a photograph away from illustration (generate.py,
# get_default_negative_prompt); every other style gets the empty negative prompt
PHOTO_NEGATIVE = json.dumps({"style_medium": "digital illustration",
                             "artistic_style": "non-realistic"}, separators=(",", ":"))
_HEX = re.compile(r"#[0-9a-f]{6}")


@dataclass(frozen=True)
class FiboElement:
    """One element read back from a FIBO prompt: ``kind`` is ``object`` or ``text``; ``head``
    the object's colour and label words (or the verbatim text); ``cell`` one of CELLS;
    ``size`` one of the SIZES words; ``color`` the hex colour written, or None."""

    kind: str
    head: str
    cell: str
    size: str
    color: str | None = None


def cell_of(box) -> str:
    """The grid cell (one of CELLS) holding the centre of a Plan box ``(x0, y0, x1, y1)``."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    row, col = min(max(int(cy * 3), 0), 2), min(max(int(cx * 3), 0), 2)
    return CELLS[row * 3 + col]


def size_of(box) -> str:
    """The size class (a SIZES word) of a Plan box by its share of the canvas area."""
    area = (box[2] - box[0]) * (box[3] - box[1])
    return next(word for limit, word in SIZES if area < limit)


def _extent(box) -> str:
    wide, tall = box[2] - box[0] > 0.66, box[3] - box[1] > 0.66
    if wide and tall:
        return ", filling the frame"
    return ", spanning the full width" if wide else (", spanning the full height"
                                                     if tall else "")


def _hex(value: str | None) -> str | None:
    from render.color import parse_color, to_hex

    rgb = parse_color(value)
    return to_hex(rgb).lower() if rgb is not None else None


def _colour(value: str | None) -> str:
    """Colour words with the hex in brackets ("red (#ff0000)"), or ""."""
    from render.prompting import colour_words

    words, hx = colour_words(value), _hex(value)
    if not hx:
        return words
    return f"{words} ({hx})" if words and words != hx else hx


def _article(head: str) -> str:
    return f"{'an' if head[:1].lower() in 'aeiou' else 'a'} {head}"


def _label(el) -> str:
    if el.kind == "shape":
        from render.prompting import shape_noun

        return " ".join(w for w in (el.label, shape_noun(el.shape)) if w)
    return el.label


def _head(el) -> str:
    from render.prompting import colour_words

    return " ".join(w for w in (colour_words(el.color), _label(el)) if w)


def _nearest(el, candidates: list):
    cx, cy = (el.box[0] + el.box[2]) / 2, (el.box[1] + el.box[3]) / 2
    return min(candidates, default=None, key=lambda o: (
        (cx - (o.box[0] + o.box[2]) / 2) ** 2 + (cy - (o.box[1] + o.box[3]) / 2) ** 2))


def _relationship(el, everything: list, quote_texts: bool) -> str:
    """How ``el`` stands to the nearest element of another label or a text (a text is quoted
    only when the model draws it) and, when another instance of its own label shares its
    grid cell, to that one: the cell alone cannot tell the two apart."""
    from render.prompting import relation_words

    def same(o):
        return o.kind != "text" and el.kind != "text" and _label(o) == _label(el)

    parts = []
    twin = _nearest(el, [o for o in everything if o is not el and same(o)
                         and cell_of(o.box) == cell_of(el.box)])
    if twin is not None:
        rel = relation_words(el.box, twin.box, el.z, twin.z)
        parts.append(f"{rel or 'overlapping'} another {_head(twin)} in the same area")
    other = _nearest(el, [o for o in everything if o is not el and not same(o)])
    if other is not None:
        if other.kind != "text":
            name = f"the {_head(other)}"
        else:
            name = f'the text "{other.content}"' if quote_texts else "the empty text area"
        rel = relation_words(el.box, other.box, el.z, other.z)
        parts.append(f"{rel} {name}" if rel else f"at the same place as {name}")
    return "; ".join(parts) or "stands alone in the frame"


def _counts(plan) -> dict[tuple, int]:
    counts: dict[tuple, int] = {}
    for el in plan.elements:
        if el.kind != "text":
            key = (_label(el), _hex(el.color))
            counts[key] = counts.get(key, 0) + 1
    return counts


def _object(el, counts: dict, everything: list, quote_texts: bool) -> dict:
    from render.prompting import number_word, plural

    head = _head(el)
    n = counts[(_label(el), _hex(el.color))]
    desc = _article(head)
    if n > 1:
        desc += f"; one of exactly {number_word(n)} {plural(head)} in the image"
    out = {"description": desc + ".", "location": cell_of(el.box),
           "relationship": _relationship(el, everything, quote_texts),
           "relative_size": size_of(el.box) + _extent(el.box)}
    colour = _colour(el.color)
    shape = "" if el.kind == "object" else f"{el.shape} shape"
    look = "; ".join(w for w in (shape, f"dominant color {colour}" if colour else "") if w)
    if look:
        out["shape_and_color"] = look
    if el.description:
        out["appearance_details"] = el.description
    return out


def _empty_area(el) -> dict:
    return {"description": EMPTY_AREA + " (text is added there later).",
            "location": cell_of(el.box), "relationship": "kept free of any lettering",
            "relative_size": size_of(el.box) + _extent(el.box)}


def _text(el) -> dict:
    from render.prompting import script_name

    font = f"{el.weight} {el.font or 'sans-serif'} typeface"
    details = [f"the {el.role}", f"{el.align}-aligned", "written exactly as given"]
    script = script_name(el.script)
    if script:
        details.append(f"in {script} script")
    out = {"text": el.content, "location": cell_of(el.box),
           "size": size_of(el.box) + _extent(el.box)}
    if el.color:
        out["color"] = _colour(el.color)
    return {**out, "font": font, "appearance_details": ", ".join(details)}


def _background(plan, key_name: str | None) -> str:
    from render.prompting import colour_words

    bg = plan.canvas.background
    if key_name or bg.kind == "transparent":
        return (f"a plain, flat, evenly lit {key_name or 'white'} backdrop filling the frame, "
                "nothing else behind the subjects (it is cut out afterwards)")
    if bg.kind == "gradient":
        text = "a smooth gradient backdrop from " + " to ".join(
            colour_words(c) for c in bg.colors if c)
    elif bg.kind == "scene":
        text = " ".join(w for w in ("a", colour_words(bg.color), bg.scene or "", "scene")
                        if w)
    else:
        text = f"a plain {colour_words(bg.color) or 'neutral'} backdrop filling the frame"
    return f"{text}, {bg.description}" if bg.description else text


def _summary(plan, text_mode: str) -> str:
    from render.prompting import number_word, plural

    heads: dict[str, int] = {}
    for el in plan.elements:
        if el.kind != "text":
            heads[_head(el)] = heads.get(_head(el), 0) + 1
    parts = [f"{number_word(n)} {plural(h)}" if n > 1 else _article(h)
             for h, n in heads.items()]
    if text_mode == "exact":
        parts += ["empty areas left for text"] * bool(plan.texts)
    else:
        parts += [f'the text "{t.content}"' for t in plan.texts]
    medium = plan.style.text or plan.style.preset or "image"
    body = ", ".join(parts) if parts else "an empty composition"
    return f"{_article(medium).capitalize()} showing {body}."


def _aesthetics(plan) -> dict:
    from render.prompting import colour_words

    things = list(plan.elements)
    if not things:
        composition = "open, empty composition"
    elif len(things) == 1:
        composition = f"single subject placed {cell_of(things[0].box)}"
    else:
        composition = f"planned layout of {len(things)} elements, each at its stated location"
    colours: list[str] = []
    bg = plan.canvas.background
    for c in (bg.color, *bg.colors, *(el.color for el in plan.elements)):
        w = colour_words(c)
        if w and w not in colours:
            colours.append(w)
    out = {"composition": composition}
    if colours:
        out["color_scheme"] = ", ".join(colours[:8])
    return {**out, **_SCORES}


def plan_prompt_dict(plan, text_mode: str = "native", key_name: str | None = None) -> dict:
    """The Plan as a FIBO structured prompt (a dict in Bria's field order).

    Args:
        plan: what to draw.
        text_mode: ``native``/``auto``: each text is a ``text_render`` entry the model draws;
            ``exact``: no ``text_render``, each text box an empty-area object.
        key_name: a transparent Plan drawn on a key colour names that colour.
    """
    from render.text_modes import check_text_mode

    check_text_mode(text_mode)
    everything = list(plan.elements)
    counts = _counts(plan)
    objects = []
    for el in sorted(plan.elements, key=lambda e: e.z):
        if el.kind != "text":
            objects.append(_object(el, counts, everything, text_mode != "exact"))
        elif text_mode == "exact":
            objects.append(_empty_area(el))
    out: dict = {"short_description": _summary(plan, text_mode), "objects": objects,
                 "background_setting": _background(plan, key_name),
                 "aesthetics": _aesthetics(plan)}
    if plan.style.preset or plan.style.text:
        out["style_medium"] = _MEDIUM.get(plan.style.preset or "",
                                          plan.style.preset or plan.style.text)
    texts = [_text(t) for t in sorted(plan.texts, key=lambda e: e.z)]
    if texts and text_mode != "exact":
        out["text_render"] = texts
    w, h = plan.size
    shape = "square" if abs(w - h) <= 0.05 * max(w, h) else ("landscape" if w > h
                                                             else "portrait")
    out["context"] = (f"A {shape} {plan.template or 'composition'} whose layout is fixed: "
                      "every object and text sits at its stated location and size.")
    if plan.style.text and plan.style.preset and plan.style.text != plan.style.preset:
        out["artistic_style"] = plan.style.text
    if not objects:
        out.pop("objects")
    return out


def plan_prompt(plan, text_mode: str = "native", key_name: str | None = None) -> str:
    """The Plan as the compact JSON string FIBO reads as its prompt (Bria's inference writes
    it the same way: one line, no spaces after separators)."""
    return json.dumps(plan_prompt_dict(plan, text_mode, key_name), ensure_ascii=False,
                      separators=(",", ":"))


def negative_prompt(prompt: str) -> str:
    """The negative prompt Bria's inference pairs with a FIBO prompt: for a photograph, a
    JSON steering away from illustration; otherwise empty."""
    try:
        medium = json.loads(prompt).get("style_medium", "")
    except (ValueError, AttributeError):
        return ""
    return PHOTO_NEGATIVE if str(medium).lower() in ("photograph", "photography", "photo") \
        else ""


def _head_of(description: str) -> str:
    head = description.split("; ", 1)[0].split(", ", 1)[0].rstrip(".")
    for article in ("a ", "an "):
        if head.lower().startswith(article):
            return head[len(article):]
    return head


def _size_word(value: str, where: str) -> str:
    word = value.split(", ", 1)[0]
    if word not in {w for _, w in SIZES}:
        raise ValueError(f"{where}: size {word!r} is not one of "
                         f"{', '.join(w for _, w in SIZES)}")
    return word


def _cell(value: str, where: str) -> str:
    if value not in CELLS:
        raise ValueError(f"{where}: location {value!r} is not one of {', '.join(CELLS)}")
    return value


def read_prompt(text: str) -> list[FiboElement]:
    """Parse a FIBO prompt written by :func:`plan_prompt` back into elements: objects (empty
    text areas included, head ``EMPTY_AREA``) in order, then the texts.

    Raises:
        ValueError: text that is not such a prompt, naming the field that is wrong.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"FIBO prompt is not JSON: {e}") from None
    if not isinstance(data, dict) or "short_description" not in data:
        raise ValueError("FIBO prompt has no short_description")
    out = []
    for i, obj in enumerate(data.get("objects", ())):
        where = f"objects[{i}]"
        if not isinstance(obj, dict) or "description" not in obj:
            raise ValueError(f"{where}: needs a description")
        found = _HEX.search(obj.get("shape_and_color", ""))
        head = (EMPTY_AREA if obj["description"].startswith(EMPTY_AREA)
                else _head_of(obj["description"]))
        out.append(FiboElement("object", head, _cell(obj.get("location"), where),
                               _size_word(obj.get("relative_size", ""), where),
                               found.group(0) if found else None))
    for i, tr in enumerate(data.get("text_render", ())):
        where = f"text_render[{i}]"
        if not isinstance(tr, dict) or "text" not in tr:
            raise ValueError(f"{where}: needs a text")
        found = _HEX.search(tr.get("color", ""))
        out.append(FiboElement("text", tr["text"], _cell(tr.get("location"), where),
                               _size_word(tr.get("size", ""), where),
                               found.group(0) if found else None))
    return out
