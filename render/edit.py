"""Partial re-rendering: a Plan diff becomes a pixel mask; only the masked pixels change.

Draft renderer: the new Plan is rendered whole and composited over the previous pixels
through the mask, so every pixel outside the mask is the previous pixel, exactly. A renderer
with an ``inpaint(image, plan, mask, options)`` method (the diffusion renderer) inpaints the
mask instead; its result is composited through the same mask, so the guarantee holds there
too. When the background changed, an inpainting renderer's mask leaves out the elements the
edit did not touch, so subjects keep their look.

Images without a Plan follow OpenAI's mask convention: a PNG of the image's size whose
fully transparent pixels mark the editable area (``load_mask``). Planning an instruction
(instruction → revised Plan → diff) is the front door's job (limner/editing.py); this module
only draws what it is given.
"""

from __future__ import annotations

import dataclasses

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from planner.diff import PlanDiff, diff, regions, unchanged_elements
from planner.schema import (
    MAX_AREA, Box, Canvas, Plan, SizeError, box_to_pixels, canvas_for_area, check_size,
)
from render.base import RenderOptions, RenderError
from render.references import ImageInputError, open_image

if TYPE_CHECKING:
    from PIL import Image

#: Background description of a Plan drawn over an existing picture (see ``limner.editing.edit_image``).
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


def _inpaint(renderer) -> Callable | None:
    """The renderer's own ``inpaint(image, plan, mask, options)`` method (the diffusion
    renderer has one); None for the draft renderer."""
    fn = getattr(renderer, "inpaint", None)
    return fn if callable(fn) else None


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
    # Only the masked pixels are redrawn, so text is drawn exactly there (render/text_modes.py's
    # native and auto modes apply when a Plan is rendered whole, above).
    options = dataclasses.replace(options, text_mode="exact")
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
    try:
        return check_size(*size)
    except SizeError:
        pass
    w, h = size
    if max(w, h) / min(w, h) > 3.0:
        raise ImageInputError(f"image is {w}x{h}: aspect outside 1:3..3:1 cannot be edited")
    return canvas_for_area((w, h), min(w * h, MAX_AREA))
