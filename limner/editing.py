"""The edit flow at the front door: instruction → revised Plan → diff → redraw.

render/edit.py draws what it is given (a Plan diff becomes a mask; only masked pixels
change); the planning steps of an edit live here, where the planner and the renderer meet:
fitting an edit into a user's mask, planning an instruction over an image without a Plan,
and merging what it added into the Plan the picture carries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from planner.diff import diff
from planner.schema import Canvas, Plan, PlanError, canvas_for_area
from render.base import RenderOptions
from render.edit import (EditResult, composite, is_overlay, load_mask, overlay_plan,
                         work_size)

if TYPE_CHECKING:
    from PIL import Image


def fit_into_mask(plan0: Plan, plan1: Plan, mask: "Image.Image") -> Plan:
    """Keep what an edit adds or moves inside a user's mask: each such element whose box
    leaves the mask's bounding box is shrunk to fit (keeping its shape) and moved to the
    nearest place inside it, so the mask does not cut it in half.

    Args:
        mask: L, 255 where the picture may change, of any size (boxes are normalised).
    """
    from planner.revise import clamp_box

    bbox = mask.getbbox()
    if bbox is None:
        return plan1
    W, H = mask.size
    mx0, my0, mx1, my1 = bbox[0] / W, bbox[1] / H, bbox[2] / W, bbox[3] / H
    d = diff(plan0, plan1)
    changed = {}
    for el in plan1.elements:
        if el.id not in set(d.added) | set(d.moved):
            continue
        x0, y0, x1, y1 = el.box
        if x0 >= mx0 and y0 >= my0 and x1 <= mx1 and y1 <= my1:
            continue
        s = min(1.0, (mx1 - mx0) / (x1 - x0), (my1 - my0) / (y1 - y0))
        w, h = (x1 - x0) * s, (y1 - y0) * s
        cx = min(max((x0 + x1) / 2, mx0 + w / 2), mx1 - w / 2)
        cy = min(max((y0 + y1) / 2, my0 + h / 2), my1 - h / 2)
        changed[el.id] = el.model_copy(update={"box": clamp_box((cx - w / 2, cy - h / 2,
                                                              cx + w / 2, cy + h / 2))})
    if not changed:
        return plan1
    return plan1.model_copy(update={"elements": tuple(changed.get(e.id, e)
                                                      for e in plan1.elements)})


def _sub_canvas(bbox: tuple[int, int, int, int]) -> tuple[int, int]:
    bw, bh = bbox[2] - bbox[0], bbox[3] - bbox[1]
    ratio = min(max(bw / bh, 1 / 3), 3.0)
    return canvas_for_area((round(ratio * 1000), 1000), 512 * 512)


def _map_into(el, bbox: tuple[int, int, int, int], size: tuple[int, int]):
    """An element placed on the mask's sub-canvas, moved to image-normalised coordinates."""
    W, H = size
    bx0, by0, bx1, by1 = bbox
    x0, y0, x1, y1 = el.box
    box = tuple(round(v, 5) for v in (
        (bx0 + x0 * (bx1 - bx0)) / W, (by0 + y0 * (by1 - by0)) / H,
        (bx0 + x1 * (bx1 - bx0)) / W, (by0 + y1 * (by1 - by0)) / H))
    return el.model_copy(update={"box": box})


def plan_for_image(instruction: str, size: tuple[int, int], editable: "Image.Image", *,
                   seed: int = 0, references: int = 0,
                   fallback: Callable[[str, tuple[int, int], int], Plan] | None = None) -> Plan:
    """A Plan of what ``instruction`` adds to an image without a Plan, placed inside the
    editable area's bounding box. The backdrop stays transparent (the old pixels show)
    unless the instruction changes the background.

    Args:
        fallback: ``fallback(instruction, size, seed) -> Plan`` plans an instruction that is
            not an edit verb ("a flamingo in a hat") as a picture of its own (transparent).
    Raises:
        PlanError: an instruction the rules (and ``fallback``, when given) cannot read.
    """
    from planner.revise import revise

    bbox = editable.getbbox()
    sub = _sub_canvas(bbox)
    base = overlay_plan(sub, seed)
    try:
        drawn = revise(base, instruction, references=references)
    except PlanError as e:
        if fallback is None or "could not understand" not in str(e):
            raise
        drawn = fallback(instruction, sub, seed)
    W, H = work_size(size)
    elements = tuple(_map_into(el, bbox, size) for el in drawn.elements)
    background = drawn.canvas.background   # still OVERLAY unless the instruction changed it
    return Plan(prompt=instruction, seed=seed, style=drawn.style, quality=drawn.quality,
                canvas=Canvas(width=W, height=H, background=background),
                elements=elements, planner=drawn.planner)


def merge_overlay(base: Plan, added: Plan) -> Plan:
    """The overlay Plan after a masked edit: ``base``'s elements plus ``added``'s (ids that
    clash get the next free number), ``added``'s backdrop when the edit changed it."""
    import re

    taken = {e.id for e in base.elements}
    new = []
    for el in added.elements:
        eid, k = el.id, 1
        stem = re.sub(r"-\d+$", "", el.id)
        while eid in taken:
            k += 1
            eid = f"{stem}-{k}"
        taken.add(eid)
        new.append(el.model_copy(update={"id": eid, "subject_id": eid}
                                 if el.kind == "object" and el.subject_id == el.id
                                 else {"id": eid}))
    canvas = added.canvas if not is_overlay(added) else base.canvas
    return base.model_copy(update={"elements": base.elements + tuple(new), "canvas": canvas})


def edit_image(renderer, image: "Image.Image", instruction: str, *, mask: Any = None,
               options: RenderOptions | None = None, seed: int = 0,
               fallback: Callable[[str, tuple[int, int], int], Plan] | None = None
               ) -> EditResult:
    """Edit an image that carries no Plan.

    Args:
        renderer: draft (composites new elements and text) or one with ``inpaint``.
        image: the opened image. mask: OpenAI-style PNG mask, or None for the whole image.
        instruction: what to add or change in the editable area.
        fallback: see ``plan_for_image``.
    Returns:
        EditResult whose pixels outside the mask equal ``image`` exactly.
    """
    from PIL import Image

    options = options or RenderOptions()
    editable = (load_mask(mask, image.size) if mask is not None
                else Image.new("L", image.size, 255))
    plan = plan_for_image(instruction, image.size, editable, seed=seed,
                          references=len(options.references), fallback=fallback)
    base = image.convert("RGBA" if image.mode in ("RGBA", "LA", "PA") else "RGB")
    inpaint = getattr(renderer, "inpaint", None)
    if callable(inpaint):
        new = inpaint(base, plan, editable, options)
    else:
        new = renderer.render(plan, options).image
        if new.size != base.size:
            new = new.resize(base.size, Image.LANCZOS)
    return EditResult(composite(new, base, editable, over=is_overlay(plan)), plan, None, editable)
