"""Photos and references without weights: a foreground subject, its box, a palette.

A photo (or a reference) has no Plan, so what it shows is found from its pixels alone:
alpha when it has some, else a uniform border flood-filled away, else OpenCV's GrabCut
(Rother, Kolmogorov and Blake, "GrabCut", SIGGRAPH 2004: iterated graph cuts over colour
mixture models) started from a rectangle inset from the edges, the usual prior that a
subject sits away from the frame. No model and no download: opencv-python-headless.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

#: GrabCut runs on a copy at most this many pixels on its long side (then scaled back).
GRABCUT_SIDE = 192
#: A subject covering less (noise) or more (no figure/ground) of the frame is no subject.
MIN_SUBJECT, MAX_SUBJECT = 0.01, 0.85


def border_background(rgb: "Image.Image", tolerance: int = 24):
    """Pixels (bool HxW) joined to the frame's edge through pixels within ``tolerance``
    (sum of absolute RGB differences, as PIL's flood fill counts) of the border's median
    colour: a flood fill from every edge pixel, done as 4-connected components (OpenCV) so
    a 4K product shot takes milliseconds, not the seconds of a pixel-by-pixel fill."""
    import cv2
    import numpy as np

    a = np.asarray(rgb.convert("RGB"), dtype=np.int16)
    border = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
    colour = np.median(border, axis=0)
    near = (np.abs(a - colour).sum(-1) <= tolerance).astype(np.uint8)
    _n, labels = cv2.connectedComponents(near, connectivity=4)
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    return np.isin(labels, edge[edge != 0])


def _flood_alpha(rgb: "Image.Image", tolerance: int):
    """Foreground (bool HxW) of a picture whose border is one colour."""
    return ~border_background(rgb, tolerance)


def grabcut_mask(rgb: "Image.Image", iterations: int = 4):
    """GrabCut foreground (bool HxW) from a rectangle inset 6% from every edge."""
    import cv2
    import numpy as np
    from PIL import Image

    w, h = rgb.size
    scale = min(1.0, GRABCUT_SIDE / max(w, h))
    small = rgb.resize((max(8, round(w * scale)), max(8, round(h * scale))), Image.BILINEAR) \
        if scale < 1.0 else rgb
    a = np.ascontiguousarray(np.asarray(small.convert("RGB"))[:, :, ::-1])   # BGR
    sh, sw = a.shape[:2]
    mx, my = max(1, round(sw * 0.06)), max(1, round(sh * 0.06))
    mask = np.zeros((sh, sw), np.uint8)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(0)
    try:
        cv2.grabCut(a, mask, (mx, my, sw - 2 * mx, sh - 2 * my), bgd, fgd, iterations,
                    cv2.GC_INIT_WITH_RECT)
    except cv2.error:
        return np.zeros((h, w), bool)
    fg = np.isin(mask, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.uint8)
    # Keep the largest piece: a subject is one figure, not scattered speckles.
    n, labels, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
    if n > 1:
        biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        fg = (labels == biggest).astype(np.uint8)
    if scale < 1.0:
        fg = np.asarray(Image.fromarray(fg * 255).resize((w, h), Image.NEAREST)) > 127
    return fg.astype(bool)


def subject_mask(image: "Image.Image") -> "Image.Image | None":
    """The image's foreground subject as an L mask (255 = subject), or None when it has no
    clear figure on a ground.

    Alpha → the opaque pixels; a uniform border → everything the border's colour does not
    reach; else GrabCut.
    """
    import numpy as np
    from PIL import Image

    if image.mode in ("RGBA", "LA", "PA"):
        alpha = np.asarray(image.convert("RGBA").getchannel("A"))
        if alpha.min() < 255:
            fg = alpha > 0
            return _accept(fg)
    rgb = image.convert("RGB")
    fg = _flood_alpha(rgb, 24) if _has_uniform_border(rgb) else grabcut_mask(rgb)
    return _accept(fg)


def _has_uniform_border(rgb: "Image.Image") -> bool:
    from render.references import _uniform_border

    return _uniform_border(rgb, 24) is not None


def _accept(fg) -> "Image.Image | None":
    import numpy as np
    from PIL import Image

    share = float(fg.mean()) if fg.size else 0.0
    if not MIN_SUBJECT <= share <= MAX_SUBJECT:
        return None
    return Image.fromarray(np.where(fg, 255, 0).astype(np.uint8), "L")


def mask_box(mask: "Image.Image") -> tuple[float, float, float, float] | None:
    """The normalised bounding box of a mask's set pixels (None when empty)."""
    bbox = mask.getbbox()
    if bbox is None:
        return None
    w, h = mask.size
    return (bbox[0] / w, bbox[1] / h, bbox[2] / w, bbox[3] / h)


def segment_cutout(ref: "Image.Image") -> "Image.Image":
    """A reference without alpha or a uniform border, its GrabCut subject cut out (RGBA,
    cropped); the whole image when no subject stands out."""
    mask = subject_mask(ref)
    im = ref.convert("RGBA")
    if mask is None:
        return im
    im.putalpha(mask)
    return im.crop(mask.getbbox())


def palette(ref: "Image.Image", colours: int = 8) -> list[tuple[int, int, int]]:
    """A reference's main colours (median cut on a small copy), most used first."""
    from PIL import Image

    small = ref.convert("RGB").copy()
    small.thumbnail((96, 96), Image.BILINEAR)
    q = small.quantize(colors=colours, method=Image.Quantize.MEDIANCUT)
    pal = q.getpalette()[:colours * 3]
    counts = sorted(q.getcolors() or [], reverse=True)
    return [tuple(pal[i * 3:i * 3 + 3]) for _n, i in counts]


def apply_palette(image: "Image.Image", ref: "Image.Image", amount: float = 0.55
                  ) -> "Image.Image":
    """Take a style source's palette: every pixel moves ``amount`` of the way to the
    nearest of the reference's main colours, keeping its own light and dark (the
    luminance difference is added back). Alpha is kept."""
    import numpy as np
    from PIL import Image

    pal = np.asarray(palette(ref), dtype=np.float32)                   # (K, 3)
    rgba = image.convert("RGBA")
    a = np.asarray(rgba, dtype=np.float32)
    rgb = a[..., :3]
    lum = rgb @ np.float32([0.299, 0.587, 0.114])
    plum = pal @ np.float32([0.299, 0.587, 0.114])
    # Nearest palette colour by chroma (each colour minus its luminance) so that the
    # picture's tonal range survives: dark stays dark, light stays light.
    chroma = rgb - lum[..., None]
    pchroma = pal - plum[:, None]
    d = ((chroma[..., None, :] - pchroma) ** 2).sum(-1)               # (H, W, K)
    near = pal[np.argmin(d, axis=-1)]
    near = near + (lum - near @ np.float32([0.299, 0.587, 0.114]))[..., None]
    out = rgb * (1 - amount) + np.clip(near, 0, 255) * amount
    a[..., :3] = np.clip(out, 0, 255)
    res = Image.fromarray(a.round().astype(np.uint8), "RGBA")
    return res if image.mode == "RGBA" else res.convert(image.mode)


def apply_texture(image: "Image.Image", ref: "Image.Image", amount: float = 0.5,
                  limit: float = 16.0) -> "Image.Image":
    """Take a style source's texture: its fine light-and-dark grain (the luminance of a
    central patch, at the reference's own scale and at most a quarter of the canvas, minus
    a blurred copy, clipped to ``limit`` so its edges do not print as a grid), tiled over
    the picture and added at ``amount``. A flat reference adds nothing."""
    import numpy as np
    from PIL import Image, ImageFilter

    w, h = image.size
    g = ref.convert("L")
    side = max(8, min(g.width, g.height, max(w, h) // 4))
    x0, y0 = (g.width - side) // 2, (g.height - side) // 2
    g = g.crop((x0, y0, x0 + side, y0 + side))
    lum = np.asarray(g, dtype=np.float32)
    detail = np.clip(lum - np.asarray(g.filter(ImageFilter.GaussianBlur(1.5)),
                                      dtype=np.float32), -limit, limit)
    tiled = np.tile(detail, (h // side + 1, w // side + 1))[:h, :w]
    rgba = image.convert("RGBA")
    a = np.asarray(rgba, dtype=np.float32)
    a[..., :3] = np.clip(a[..., :3] + amount * tiled[..., None], 0, 255)
    out = Image.fromarray(a.round().astype(np.uint8), "RGBA")
    return out if image.mode == "RGBA" else out.convert(image.mode)


def _subject_objects(plan) -> list:
    """The objects that stand for a subject and not for a reference image, largest first."""
    return sorted((e for e in plan.objects if e.subject_id and e.reference is None),
                  key=lambda e: -(e.box[2] - e.box[0]) * (e.box[3] - e.box[1]))


def subject_count(plan) -> int:
    """How many subjects ``subject_crops`` could make references of (no limit)."""
    return len({e.subject_id for e in _subject_objects(plan)})


def subject_crops(image: "Image.Image", plan, limit: int) -> dict:
    """The first image's subjects as reference images for the others (consistent subjects
    across n images): ``subject_id`` -> the crop of its box, for at most ``limit``
    subjects, largest first; elements that already stand for a reference image are left
    out (their reference is passed as it is)."""
    from planner.schema import box_to_pixels

    out: dict = {}
    for el in _subject_objects(plan):
        if len(out) >= limit:
            break
        if el.subject_id not in out:
            out[el.subject_id] = image.crop(box_to_pixels(el.box, *image.size))
    return out
