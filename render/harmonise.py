"""The exact text layer on top of a diffusion render, matched to the picture's light.

Text is drawn by the text engine (``render.text.draw_texts``: exact glyphs in any script, ink
and plates chosen for contrast with what lies under each box) after diffusion, never by the
model. Harmonising then (1) matches light: the glyph layer is multiplied by the picture's
low-frequency luminance relative to the box's mean, clipped to a narrow band so contrast (and
OCR) survive, so text under a vignette or a lit corner darkens or brightens with it; and (2)
optionally lets the model repaint a thin ring AROUND the glyph layer at low strength (so plates
and edges sit in the scene); the glyph pixels are pasted back exactly afterwards, so the
inpaint can never change a letter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from planner.schema import Plan, box_to_pixels

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

LIGHT_BAND = (0.88, 1.12)   # how far the scene's light may scale text (keeps WCAG contrast)


def text_layer(image: "Image.Image", plan: Plan, font: str | None = None
               ) -> tuple["Image.Image", "np.ndarray"]:
    """Draw the Plan's text on ``image``; also return where the text engine changed pixels.

    Returns:
        ``(with_text RGBA, changed (H, W) bool)``.
    """
    import numpy as np

    from render.text import draw_texts

    base = image.convert("RGBA")
    drawn = draw_texts(base, plan, font=font)
    changed = np.any(np.asarray(drawn) != np.asarray(base), axis=-1)
    return drawn, changed


def match_light(image: "Image.Image", drawn: "Image.Image", changed: "np.ndarray",
                plan: Plan) -> "Image.Image":
    """Scale the text pixels by the local light of ``image`` around each text box."""
    import numpy as np
    from PIL import Image, ImageFilter

    w, h = image.size
    lum = np.asarray(image.convert("L").filter(ImageFilter.GaussianBlur(max(2, min(w, h) // 16))),
                     dtype=np.float32)
    gain = np.ones((h, w), dtype=np.float32)
    for el in plan.texts:
        x0, y0, x1, y1 = box_to_pixels(el.box, w, h)
        region = lum[y0:y1, x0:x1]
        mean = float(region.mean()) or 1.0
        gain[y0:y1, x0:x1] = np.clip(region / mean, *LIGHT_BAND)
    out = np.asarray(drawn, dtype=np.float32).copy()
    out[..., :3] = np.where(changed[..., None], out[..., :3] * gain[..., None], out[..., :3])
    return Image.fromarray(np.clip(out + 0.5, 0, 255).astype(np.uint8), "RGBA")


def ring_mask(changed: "np.ndarray", width: int) -> "np.ndarray":
    """Pixels within ``width`` of the text layer but not on it: where an inpaint may act."""
    import numpy as np
    from PIL import Image, ImageFilter

    grown = Image.fromarray(changed.astype(np.uint8) * 255).filter(
        ImageFilter.MaxFilter(2 * width + 1))
    return (np.asarray(grown) > 0) & ~changed


def apply_text(image: "Image.Image", plan: Plan, font: str | None = None,
               inpaint: Callable[["Image.Image", "np.ndarray"], "Image.Image"] | None = None,
               ring: int = 6) -> "Image.Image":
    """Exact text after diffusion, light-matched, optionally with an inpainted ring.

    Args:
        image: the diffusion render (RGB or RGBA).
        plan: its Plan (text elements, boxes).
        font: a font file overriding fontconfig's choice.
        inpaint: ``(image, mask) -> image`` run on the ring around the glyphs (low strength).
        ring: ring width in pixels.
    Returns:
        RGBA image whose text pixels are exactly the text engine's (light-scaled) pixels.
    """
    import numpy as np
    from PIL import Image

    if not plan.texts:
        return image.convert("RGBA")
    drawn, changed = text_layer(image, plan, font)
    lit = match_light(image, drawn, changed, plan)
    if inpaint is None or not changed.any():
        return lit
    painted = np.asarray(inpaint(lit.convert("RGB"), ring_mask(changed, ring)).convert("RGBA"))
    out = np.where(changed[..., None], np.asarray(lit), painted)
    return Image.fromarray(out.astype(np.uint8), "RGBA")
