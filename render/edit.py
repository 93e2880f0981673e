"""Partial re-rendering: a Plan diff becomes a pixel mask; only the masked pixels change.

Draft renderer: the new Plan is rendered whole and composited over the previous pixels
through the mask, so every pixel outside the mask is the previous pixel, exactly. A renderer
with an ``inpaint(image, plan, mask, options)`` method inpaints the mask instead, and a
diffusion renderer without one inpaints it with its family's inpaint pipeline
(``pipeline_inpaint``); either result is composited through the same mask, so the guarantee
holds there too. When the background changed, an inpainting renderer's mask leaves out the
elements the edit did not touch, so subjects keep their look.

Images without a Plan follow OpenAI's mask convention: a PNG of the image's size whose
fully transparent pixels mark the editable area. The instruction is planned inside the
mask's bounding box, drawn, and composited into the masked pixels only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from planner.diff import PlanDiff, diff, regions, unchanged_elements
from planner.schema import (
    MAX_AREA, Box, Canvas, Plan, PlanError, SizeError, box_to_pixels, check_size,
)
from render.base import RenderOptions, RenderError
from render.references import ImageInputError, open_image

if TYPE_CHECKING:
    from PIL import Image

#: Background description of a Plan drawn over an existing picture (see ``edit_image``).
OVERLAY = "the pixels of the edited image"


@dataclass(frozen=True)
class EditResult:
    """image: the edited picture. plan: the Plan it now shows. diff: what changed.
    mask: the pixels that were allowed to change (L, 255 = redrawn)."""

    image: "Image.Image"
    plan: Plan
    diff: PlanDiff | None
    mask: "Image.Image"


def pad_pixels(size: tuple[int, int]) -> int:
    """Mask padding around a changed box: covers the draft's soft shadows (a Gaussian of
    about 1.2% of the short side, 3 sigma wide, drawn at 1/4-1/8 scale then upscaled) and
    antialiased edges."""
    return math.ceil(0.06 * min(size)) + 8


def regions_mask(boxes: list[Box], size: tuple[int, int], pad: int) -> "Image.Image":
    """An L mask (255 inside) of normalised ``boxes`` on a ``size`` canvas, each grown by
    ``pad`` pixels."""
    from PIL import Image, ImageDraw

    mask = Image.new("L", size, 0)
    d = ImageDraw.Draw(mask)
    for box in boxes:
        x0, y0, x1, y1 = box_to_pixels(box, *size)
        d.rectangle((x0 - pad, y0 - pad, x1 - 1 + pad, y1 - 1 + pad), fill=255)
    return mask


def _overlaps(a: Box, b: Box) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


def change_mask(plan0: Plan, plan1: Plan, d: PlanDiff | None = None,
                pad: int | None = None, size: tuple[int, int] | None = None) -> "Image.Image":
    """The pixels an edit from ``plan0`` to ``plan1`` may change (L, 255 = redraw), on a
    ``size`` grid (default: the Plan's canvas).

    Text whose box meets a changed region is redrawn whole: the text engine picks its
    treatment from the pixels under it, so half of it must not come from the old image.
    """
    d = d or diff(plan0, plan1)
    boxes = regions(d, plan0, plan1)
    grow = [t.box for t in plan1.texts if any(_overlaps(t.box, b) for b in boxes)]
    size = size or plan1.size
    return regions_mask(boxes + grow, size, pad_pixels(size) if pad is None else pad)


def composite(new: "Image.Image", old: "Image.Image", mask: "Image.Image", *,
              over: bool = False) -> "Image.Image":
    """``new`` inside ``mask``, ``old`` outside (pixel for pixel).

    Args:
        over: ``new`` is a transparent layer to lay over ``old`` (an overlay edit of a
            picture without a Plan) rather than a whole new picture.
    Returns:
        RGBA when either side has alpha, else RGB.
    """
    from PIL import Image

    if new.size != old.size:
        raise RenderError(f"cannot composite a {new.size} render over a {old.size} image")
    if over:
        base = old.convert("RGBA")
        base.alpha_composite(new.convert("RGBA"))
        new = base.convert(old.mode)
    mode = "RGBA" if "A" in new.mode or "A" in old.mode else "RGB"
    return Image.composite(new.convert(mode), old.convert(mode), mask)


def is_overlay(plan: Plan) -> bool:
    """A Plan made for an image without one: its elements sit on that image's pixels."""
    bg = plan.canvas.background
    return bg.kind == "transparent" and bg.description == OVERLAY


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


def _inpaint(renderer) -> Callable | None:
    """The renderer's own ``inpaint`` method; for a diffusion renderer without one, the
    family's inpaint pipeline (``pipeline_inpaint``); None for the draft renderer."""
    fn = getattr(renderer, "inpaint", None)
    if callable(fn):
        return fn
    if hasattr(renderer, "pipe") and hasattr(renderer, "family"):
        return lambda image, plan, mask, options: pipeline_inpaint(renderer, image, plan, mask,
                                                                   options)
    return None


def pipeline_inpaint(renderer, image: "Image.Image", plan: Plan, mask: "Image.Image",
                     options: RenderOptions) -> "Image.Image":
    """Inpaint ``mask`` of ``image`` to show ``plan`` with a diffusion renderer's weights.

    The init image is the previous picture with the draft of the new Plan pasted into the
    mask (SDEdit's composition guide, as in a full render); the family's inpaint pipeline
    (sharing the loaded weights) denoises only the masked latents from the tier's strength;
    then the text layer is drawn exactly. Families without an inpaint pipeline (PixArt)
    render the Plan whole; the caller composites through the mask either way.

    Returns:
        An RGB image of ``image``'s size.
    """
    import numpy as np
    import torch
    from PIL import Image

    from model.diffusion import related_pipeline
    from render.diffusion import call_kwargs, encode_segments, prompt_segments
    from render.harmonise import apply_text

    inpainter = related_pipeline(renderer.pipe, renderer.family, "inpaint")
    if inpainter is None:
        return renderer.render(plan, options).image.resize(image.size, Image.LANCZOS)
    from render.draft import DraftRenderer

    size = plan.size    # multiples of 16, as the pipelines want
    draft = Image.new("RGBA", size, (255, 255, 255, 255))
    draft.alpha_composite(DraftRenderer(font=getattr(renderer, "font", None)).draw_base(
        plan, options))
    init = composite(draft.convert("RGB"), image.convert("RGB").resize(size, Image.LANCZOS),
                     mask.resize(size, Image.NEAREST))
    tier = renderer.tier(plan.quality)
    strength = max(tier.strength, 0.5) if tier.strength < 1.0 else 1.0
    embeds, _ = encode_segments(renderer.pipe, renderer.family, [[prompt_segments(plan)[0][0]]],
                                renderer.preset, renderer.options.negative_prompt,
                                tier.guidance > 1.0, renderer.device)
    out = inpainter(image=init, mask_image=mask.resize(size, Image.NEAREST), strength=strength,
                    num_inference_steps=max(tier.steps, int(np.ceil(1.0 / strength))),
                    guidance_scale=tier.guidance, height=size[1], width=size[0],
                    output_type="np", generator=torch.Generator("cpu").manual_seed(plan.seed),
                    **call_kwargs(renderer.family, embeds)).images[0]
    drawn = Image.fromarray((np.clip(out, 0, 1) * 255).round().astype(np.uint8))
    drawn = apply_text(drawn, plan, font=options.font or getattr(renderer, "font", None))
    return drawn.convert("RGB").resize(image.size, Image.LANCZOS)


def _backdrop_mask(d: PlanDiff, plan1: Plan, size: tuple[int, int]) -> "Image.Image":
    """For an inpainting renderer when the background changed: everything except the
    elements the edit left alone, so subjects keep their look."""
    from PIL import ImageChops

    full = regions_mask([(0.0, 0.0, 1.0, 1.0)], size, 0)
    keep = regions_mask([e.box for e in unchanged_elements(d, plan1)], size, 0)
    return ImageChops.subtract(full, keep)


def apply_edit(renderer, previous: "Image.Image | None", plan0: Plan, plan1: Plan,
               options: RenderOptions | None = None, *,
               mask: "Image.Image | None" = None) -> EditResult:
    """Redraw only what changed from ``plan0`` to ``plan1`` on top of ``previous``.

    Args:
        renderer: a Renderer (draft, or one with ``inpaint``).
        previous: the picture of ``plan0`` (None: render ``plan1`` whole).
        options: render options (references, font).
        mask: a user mask (L, 255 = editable) that further limits the change.
    Returns:
        EditResult. Pixels outside the returned mask equal ``previous`` exactly.
    """
    options = options or RenderOptions()
    d = diff(plan0, plan1)
    if previous is None or d.canvas_changed or not _same_shape(previous.size, plan1.size):
        image = renderer.render(plan1, options).image
        return EditResult(image, plan1, d, regions_mask([(0, 0, 1, 1)], plan1.size, 0))
    from PIL import Image, ImageChops

    size = previous.size    # an overlay Plan's canvas is its picture's size rounded to 16
    m = change_mask(plan0, plan1, d, size=size)
    inpaint = _inpaint(renderer)
    if inpaint is not None and d.full:
        m = _backdrop_mask(d, plan1, size)
    if mask is not None:
        m = ImageChops.multiply(m, mask)
    if m.getbbox() is None:
        return EditResult(previous.copy(), plan1, d, m)
    new = inpaint(previous, plan1, m, options) if inpaint else renderer.render(plan1, options).image
    if new.size != size:
        new = new.resize(size, Image.LANCZOS)
    return EditResult(composite(new, previous, m, over=is_overlay(plan1)), plan1, d, m)


def _same_shape(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Equal sizes, or sizes that differ only by rounding to multiples of 16."""
    return a == b or (abs(a[0] - b[0]) < 16 and abs(a[1] - b[1]) < 16)


# --- images without a Plan ---------------------------------------------------------------

def load_mask(mask: Any, size: tuple[int, int]) -> "Image.Image":
    """An OpenAI-style mask → an L mask, 255 where the image may change.

    Args:
        mask: path, bytes or PIL image of a PNG with alpha, the image's size.
        size: the image's size.
    Raises:
        ImageInputError: not a PNG, the wrong size, no alpha channel, or no fully
            transparent pixel.
    """
    import numpy as np
    from PIL import Image

    im = open_image(mask, "mask")
    fmt = (getattr(im, "format", None) or "png").lower()
    if fmt != "png":
        raise ImageInputError(f"mask must be a PNG with an alpha channel; got {fmt}", "mask")
    if im.size != tuple(size):
        raise ImageInputError(f"mask is {im.size[0]}x{im.size[1]} but the image is "
                              f"{size[0]}x{size[1]}; they must be the same size", "mask")
    if im.mode not in ("RGBA", "LA", "PA") and "transparency" not in im.info:
        raise ImageInputError("mask has no alpha channel: its fully transparent pixels mark "
                              "the area to edit", "mask")
    alpha = np.asarray(im.convert("RGBA").getchannel("A"))
    editable = alpha == 0
    if not editable.any():
        raise ImageInputError("mask has no fully transparent pixels, so nothing may change",
                              "mask")
    return Image.fromarray(np.where(editable, 255, 0).astype(np.uint8), "L")


def overlay_plan(size: tuple[int, int], seed: int = 0) -> Plan:
    """An empty Plan standing for a picture without one: edits draw over its pixels."""
    W, H = work_size(size)
    return Plan(seed=seed, canvas=Canvas(width=W, height=H, background={
        "kind": "transparent", "description": OVERLAY}))


def work_size(size: tuple[int, int]) -> tuple[int, int]:
    """A valid Plan canvas for drawing over an image of ``size``: the size itself when valid,
    else the nearest valid size of the same aspect."""
    from planner.revise import size_for_aspect

    try:
        return check_size(*size)
    except SizeError:
        pass
    w, h = size
    if max(w, h) / min(w, h) > 3.0:
        raise ImageInputError(f"image is {w}x{h}: aspect outside 1:3..3:1 cannot be edited")
    return size_for_aspect((w, h), min(w * h, MAX_AREA))


def _sub_canvas(bbox: tuple[int, int, int, int]) -> tuple[int, int]:
    from planner.revise import size_for_aspect

    bw, bh = bbox[2] - bbox[0], bbox[3] - bbox[1]
    ratio = min(max(bw / bh, 1 / 3), 3.0)
    return size_for_aspect((round(ratio * 1000), 1000), 512 * 512)


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
    inpaint = _inpaint(renderer)
    if inpaint is not None:
        new = inpaint(base, plan, editable, options)
    else:
        new = renderer.render(plan, options).image
        if new.size != base.size:
            new = new.resize(base.size, Image.LANCZOS)
    return EditResult(composite(new, base, editable, over=is_overlay(plan)), plan, None, editable)
