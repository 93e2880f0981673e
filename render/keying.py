"""Transparent backgrounds for diffusion renders: a planned flat key colour, then keying.

Diffusion models draw no alpha, so a transparent Plan is rendered on a flat key colour chosen
far from every object's colour (chroma keying, as in film). Alpha then comes from each
pixel's distance to the key as actually drawn (estimated from the pixels the Plan says are
background), restricted by a trimap built from the Plan's boxes: far outside every object box
is background for sure; inside, the colour distance decides. Edges are refined by dividing
each pixel's distance to the key by that of the nearest solid foreground (a pixel half covered
by the object gets alpha ~0.5) and by colour decontamination (the key's spill is divided out of
semi-transparent pixels), the compositing equation ``I = a F + (1 - a) K`` solved for F.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from planner.schema import Background, Plan, box_to_pixels
from render.color import parse_color, to_hex

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

# Candidate key colours with the words a text encoder knows them by.
KEYS = (((0, 177, 64), "green"), ((255, 0, 255), "magenta"), ((0, 71, 187), "blue"))
MARGIN = 0.06   # trimap: this share of the short side around boxes is "unknown", not "background"


def key_for(plan: Plan) -> tuple[tuple[int, int, int], str]:
    """The key colour farthest (in RGB) from every object colour of ``plan``, and its name."""
    colours = [c for c in (parse_color(o.color) for o in plan.objects) if c]

    def clearance(key: tuple[int, int, int]) -> float:
        if not colours:
            return 0.0
        return min(sum((a - b) ** 2 for a, b in zip(key, c)) for c in colours)

    return max(KEYS, key=lambda k: clearance(k[0]))


def plan_on_key(plan: Plan, key: tuple[int, int, int]) -> Plan:
    """A copy of ``plan`` whose background is the flat key colour (for the draft init)."""
    canvas = plan.canvas.model_copy(
        update={"background": Background(kind="color", color=to_hex(key))})
    return plan.model_copy(update={"canvas": canvas})


def trimap_background(plan: Plan, size: tuple[int, int]) -> "np.ndarray":
    """Boolean ``(H, W)``: pixels sure to be background (outside every dilated object box)."""
    import numpy as np

    w, h = size
    sure = np.ones((h, w), dtype=bool)
    pad = MARGIN * min(w, h)
    for el in plan.objects:
        x0, y0, x1, y1 = box_to_pixels(el.box, w, h)
        sure[max(0, int(y0 - pad)):int(y1 + pad), max(0, int(x0 - pad)):int(x1 + pad)] = False
    return sure


def extract_alpha(image: "Image.Image", key: tuple[int, int, int],
                  sure_background: "np.ndarray | None" = None,
                  floor: float = 0.08, window: int = 2) -> "Image.Image":
    """Key ``image`` against ``key``: an RGBA image with alpha and decontaminated colours.

    Args:
        image: the render (RGB).
        key: the planned key colour; the drawn key is estimated as the median of the
            ``sure_background`` pixels (or of the border) close to it.
        sure_background: boolean ``(H, W)`` trimap; those pixels get alpha 0.
        floor: distance to the key (fraction of the RGB diagonal) below which a pixel is
            key: the drawn key's noise.
        window: edge refinement radius: a pixel's alpha is its distance to the key over the
            largest distance within this many pixels (its nearest solid foreground), so a
            pixel half covered by the object gets alpha ~0.5.
    Returns:
        RGBA image of the same size.
    """
    import numpy as np
    from PIL import Image

    rgb = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    drawn = _drawn_key(rgb, np.asarray(key, dtype=np.float32) / 255.0, sure_background)
    dist = np.linalg.norm(rgb - drawn, axis=-1) / np.sqrt(3.0)
    solid = np.maximum(_local_max(dist, window), floor + 0.05)
    alpha = np.clip((dist - floor) / (solid - floor), 0.0, 1.0)
    if sure_background is not None:
        alpha[sure_background] = 0.0
    # Decontaminate: F = (I - (1 - a) K) / a, where a pixel is partly key.
    a = alpha[..., None]
    fg = np.where(a > 1e-3, (rgb - (1.0 - a) * drawn) / np.maximum(a, 1e-3), rgb)
    out = np.concatenate([np.clip(fg, 0, 1), a], axis=-1)
    return Image.fromarray((out * 255.0 + 0.5).astype(np.uint8), "RGBA")


def _local_max(values: "np.ndarray", radius: int) -> "np.ndarray":
    """Maximum over a ``(2r+1)^2`` window (edge-padded), by shifted views."""
    import numpy as np

    h, w = values.shape
    padded = np.pad(values, radius, mode="edge")
    out = values.copy()
    for dy in range(2 * radius + 1):
        for dx in range(2 * radius + 1):
            np.maximum(out, padded[dy:dy + h, dx:dx + w], out=out)
    return out


def _drawn_key(rgb: "np.ndarray", key: "np.ndarray", sure: "np.ndarray | None") -> "np.ndarray":
    import numpy as np

    if sure is not None and sure.any():
        pixels = rgb[sure]
    else:
        pixels = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
    near = pixels[np.linalg.norm(pixels - key, axis=-1) < 0.5]
    return np.median(near if len(near) else pixels, axis=0)
