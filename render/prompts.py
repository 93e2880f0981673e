"""The Plan as prompt words: what regional families read (segments bound to boxes).

Shared by every family adapter (render/families): an adapter whose model reads one structured
prompt builds it from the same element and background words.
"""

from __future__ import annotations

from functools import lru_cache

from planner.schema import Plan, TextElement


@lru_cache(maxsize=256)
def _colour_words(value: str | None) -> str:
    """A colour as words a text encoder knows: CSS names stay, hex becomes the nearest name."""
    if not value:
        return ""
    from render.color import parse_color

    rgb = parse_color(value)
    if rgb is None or not value.strip().startswith(("#", "rgb")):
        return value.strip()
    import webcolors

    names = webcolors.names("css3")
    return min(names, key=lambda n: sum((a - b) ** 2 for a, b in
                                        zip(webcolors.name_to_rgb(n), rgb)))


def element_prompt(el) -> str:
    """One object's prompt: colour, label, description."""
    head = " ".join(w for w in (_colour_words(el.color), el.label) if w)
    return f"{head}, {el.description}" if el.description else head


def background_prompt(plan: Plan, key_name: str | None = None) -> str:
    """Words for the Plan's background (the key colour's name for a transparent Plan)."""
    bg = plan.canvas.background
    if key_name or bg.kind == "transparent":
        return f"isolated on a plain flat {key_name or 'white'} background"
    if bg.kind == "gradient":
        text = "smooth gradient background from " + " to ".join(
            _colour_words(c) for c in bg.colors)
    elif bg.kind == "scene":
        text = " ".join(w for w in (_colour_words(bg.color), bg.scene or "", "scene") if w)
    else:
        text = f"plain {_colour_words(bg.color) or 'neutral'} background"
    return f"{text}, {bg.description}" if bg.description else text


def prompt_segments(plan: Plan, key_name: str | None = None
                    ) -> list[tuple[str, tuple, bool]]:
    """The Plan as prompt segments ``(text, boxes, invert)``, global one first.

    Global: style, every object, background (everywhere). Background: outside the object
    boxes. One segment per distinct element prompt (identical prompts share a segment, their
    boxes united). Text boxes get an "empty space" prompt so the model leaves room for the
    text drawn later.
    """
    groups: dict[str, list] = {}
    for el in sorted(plan.objects, key=lambda e: e.z):
        groups.setdefault(element_prompt(el), []).append(el.box)
    back = background_prompt(plan, key_name)
    style = plan.style.text or (plan.style.preset or "")
    subjects = "; ".join(f"{len(b)} x {p}" if len(b) > 1 else p for p, b in groups.items())
    global_text = ", ".join(t for t in (style, subjects, back) if t)
    boxes = tuple(b for bs in groups.values() for b in bs)
    segs = [(global_text, (), True), (back, boxes, True)]
    segs += [(p, tuple(b), False) for p, b in groups.items()]
    text_boxes = tuple(t.box for t in plan.texts if isinstance(t, TextElement))
    if text_boxes:
        segs.append(("empty smooth surface, clean space", text_boxes, False))
    return segs
