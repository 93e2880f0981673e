"""Backgrounds: solid, gradient, transparent and procedural scene backdrops from a Plan.

Scenes are soft, flat-illustration backdrops (sky, beach, room, city, ...) built from a few
parts (multi-stop gradients, ridges, silhouettes, clouds, particles). Smooth parts are drawn
on a small canvas (long side ≤ 640 px) and scaled up, which keeps 4K backdrops fast and reads
as a deliberate soft focus behind sharp sprites and text; small particles (stars, snow,
bubbles) are drawn at full resolution so they stay crisp. Randomness comes from the seed.
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING, Callable

from planner.schema import Background
from render.color import RGB, mix, parse_color, shade

if TYPE_CHECKING:
    from PIL import Image, ImageDraw

WORK_SIDE = 640          # long side of the canvas smooth parts are drawn on
DEFAULT_COLOR: RGB = (244, 241, 234)

Stops = list[tuple[float, RGB]]


def vertical_gradient(size: tuple[int, int], stops: Stops) -> "Image.Image":
    """An RGB image whose rows blend through ``stops`` [(position 0..1, colour), ...]."""
    import numpy as np
    from PIL import Image

    w, h = size
    ys = np.linspace(0.0, 1.0, h, dtype=np.float32)
    pos = np.array([p for p, _ in stops], dtype=np.float32)
    cols = np.array([c for _, c in stops], dtype=np.float32)
    column = np.stack([np.interp(ys, pos, cols[:, k]) for k in range(3)], axis=-1)
    # One column, widened by the C resize: no (h, w, 3) array in Python.
    strip = Image.fromarray((column[:, None, :] + 0.5).astype(np.uint8), "RGB")
    return strip.resize((w, h), Image.NEAREST)


def _band(img: "Image.Image", y0: float, y1: float, stops: Stops) -> None:
    """Paste a gradient band over rows y0..y1 (fractions of the height)."""
    w, h = img.size
    top, bottom = int(y0 * h), max(int(y0 * h) + 1, int(y1 * h))
    img.paste(vertical_gradient((w, bottom - top), stops), (0, top))


def _ridge(d: "ImageDraw.ImageDraw", size: tuple[int, int], base: float, amp: float,
           waves: int, color: RGB, rng: random.Random, jagged: bool = False) -> None:
    """Fill everything under a wavy (or jagged, for mountains) horizon line."""
    w, h = size
    phase = rng.random() * math.tau
    n = max(8, waves * (6 if jagged else 24))
    pts = []
    for i in range(n + 1):
        x = w * i / n
        t = i / n * waves * math.tau + phase
        if jagged:
            wave = (abs(math.sin(t / 2)) * 2 - 1) * 0.8 + rng.uniform(-0.25, 0.25)
        else:
            wave = math.sin(t) * 0.7 + math.sin(2.3 * t + phase) * 0.3
        pts.append((x, (base - amp * wave) * h))
    d.polygon(pts + [(w, h), (0, h)], fill=color)


def _clouds(img: "Image.Image", rng: random.Random, count: int, y_range=(0.05, 0.4),
            color: RGB = (255, 255, 255), opacity: int = 235) -> None:
    from PIL import Image, ImageDraw, ImageFilter

    w, h = img.size
    mask = Image.new("L", img.size, 0)
    d = ImageDraw.Draw(mask)
    for _ in range(count):
        cx, cy = rng.uniform(0.05, 0.95) * w, rng.uniform(*y_range) * h
        s = rng.uniform(0.06, 0.11) * w
        for dx, dy, k in ((-1.0, 0.2, 0.8), (0.0, 0.0, 1.1), (1.0, 0.25, 0.75),
                          (0.45, -0.35, 0.8)):
            r = s * k * 0.55
            d.ellipse((cx + dx * s * 0.6 - r, cy + dy * s - r, cx + dx * s * 0.6 + r,
                       cy + dy * s + r), fill=opacity)
        d.rectangle((cx - s * 0.9, cy + s * 0.05, cx + s * 0.9, cy + s * 0.45), fill=opacity)
    mask = mask.filter(ImageFilter.GaussianBlur(max(1, w / 260)))
    img.paste(Image.new("RGB", img.size, color), (0, 0), mask)


def _lines(d: "ImageDraw.ImageDraw", size: tuple[int, int], y0: float, y1: float, step: float,
           color: RGB, width: int = 1, vertical: bool = False) -> None:
    """Regular lines (planks, tiles, siding) between rows y0..y1."""
    w, h = size
    if vertical:
        x = 0.0
        while x < w:
            d.line((x, y0 * h, x, y1 * h), fill=color, width=width)
            x += step * w
        return
    y = y0
    while y < y1:
        d.line((0, y * h, w, y * h), fill=color, width=width)
        y += step


def _skyline(d, size, rng, base, color, min_h, max_h, windows: RGB | None = None) -> None:
    w, h = size
    x = -rng.uniform(0, 0.05) * w
    while x < w:
        bw = rng.uniform(0.05, 0.11) * w
        top = (base - rng.uniform(min_h, max_h)) * h
        d.rectangle((x, top, x + bw, base * h + 2), fill=color)
        if windows is not None:
            for wy in range(int(top + 0.02 * h), int(base * h - 0.02 * h), max(3, int(0.03 * h))):
                for wx in range(int(x + 0.015 * w), int(x + bw - 0.015 * w), max(3, int(0.025 * w))):
                    if rng.random() < 0.45:
                        d.rectangle((wx, wy, wx + max(1, int(0.008 * w)),
                                     wy + max(1, int(0.012 * h))), fill=windows)
        x += bw + rng.uniform(0.0, 0.015) * w


def _trees(d, size, rng, base, color, count, height) -> None:
    w, h = size
    for i in range(count):
        cx = (i + rng.uniform(0.1, 0.9)) / count * w
        th = rng.uniform(0.7, 1.0) * height * h
        tw = th * 0.45
        d.polygon([(cx, base * h - th), (cx - tw / 2, base * h), (cx + tw / 2, base * h)],
                  fill=color)


SKY: Stops = [(0.0, (84, 160, 222)), (1.0, (206, 232, 246))]


def _sky(img, d, rng):
    img.paste(vertical_gradient(img.size, SKY))
    _clouds(img, rng, 4)


def _sunset(img, d, rng):
    img.paste(vertical_gradient(img.size, [(0, (45, 27, 78)), (0.35, (150, 60, 110)),
                                           (0.6, (240, 130, 90)), (0.72, (255, 210, 130)),
                                           (1, (255, 210, 130))]))
    w, h = img.size
    r = 0.09 * min(w, h)
    d.ellipse((w * 0.5 - r, h * 0.72 - r, w * 0.5 + r, h * 0.72 + r), fill=(255, 236, 170))
    _band(img, 0.72, 1.0, [(0, (120, 60, 100)), (1, (48, 25, 60))])


def _beach(img, d, rng):
    img.paste(vertical_gradient(img.size, SKY))
    _clouds(img, rng, 2, (0.05, 0.25))
    _band(img, 0.5, 0.66, [(0, (34, 140, 180)), (1, (90, 200, 210))])
    _ridge(d, img.size, 0.68, 0.012, 3, (250, 250, 245), rng)
    _ridge(d, img.size, 0.7, 0.012, 3, (240, 214, 166), rng)
    _band(img, 0.74, 1.0, [(0, (240, 214, 166)), (1, (226, 188, 136))])


def _field(img, d, rng):
    img.paste(vertical_gradient(img.size, SKY))
    _clouds(img, rng, 3, (0.05, 0.3))
    _ridge(d, img.size, 0.55, 0.04, 2, (142, 196, 102), rng)
    _ridge(d, img.size, 0.66, 0.035, 2, (104, 170, 78), rng)
    _band(img, 0.78, 1.0, [(0, (96, 160, 70)), (1, (70, 128, 52))])


def _night(img, d, rng):
    img.paste(vertical_gradient(img.size, [(0, (10, 14, 40)), (1, (40, 52, 98))]))
    _ridge(d, img.size, 0.82, 0.03, 2, (16, 22, 46), rng)


def _room(img, d, rng):
    img.paste(vertical_gradient(img.size, [(0, (242, 234, 222)), (1, (226, 214, 198))]))
    _band(img, 0.7, 1.0, [(0, (196, 152, 110)), (1, (160, 116, 78))])
    _band(img, 0.68, 0.7, [(0, (250, 248, 244)), (1, (230, 226, 220))])
    _lines(d, img.size, 0.78, 1.0, 0.08, (150, 108, 72))


def _table(img, d, rng):
    img.paste(vertical_gradient(img.size, [(0, (236, 228, 216)), (1, (214, 202, 186))]))
    _band(img, 0.62, 1.0, [(0, (178, 124, 78)), (1, (130, 86, 50))])
    _band(img, 0.62, 0.635, [(0, (206, 156, 108)), (1, (190, 140, 94))])
    w, h = img.size
    for _ in range(14):
        y = rng.uniform(0.66, 1.0) * h
        d.line((0, y, w, y + rng.uniform(-0.02, 0.02) * h), fill=(150, 100, 60), width=1)


def _wall(img, d, rng):
    img.paste(vertical_gradient(img.size, [(0, (226, 214, 200)), (1, (206, 192, 176))]))
    w, h = img.size
    row = 0.06
    for i in range(int(1 / row) + 1):
        off = 0.06 if i % 2 else 0.0
        _lines(d, img.size, i * row, i * row + 0.001, 1, (196, 180, 164))
        x = -off
        while x < 1:
            d.line((x * w, i * row * h, x * w, (i + 1) * row * h), fill=(196, 180, 164))
            x += 0.12


def _city(img, d, rng):
    img.paste(vertical_gradient(img.size, [(0, (120, 170, 220)), (1, (230, 238, 244))]))
    _skyline(d, img.size, rng, 0.8, (160, 176, 200), 0.2, 0.45)
    _skyline(d, img.size, rng, 0.86, (88, 104, 134), 0.12, 0.32, windows=(236, 224, 160))
    _band(img, 0.86, 1.0, [(0, (80, 84, 96)), (1, (56, 58, 66))])


def _water(img, d, rng):
    img.paste(vertical_gradient(img.size, [(0, (40, 130, 190)), (1, (12, 62, 110))]))
    w, h = img.size
    for i in range(18):
        y = (0.08 + i * 0.05) * h
        pts = [(x, y + math.sin(x / w * 12 + i) * 0.008 * h) for x in range(0, w + 8, 8)]
        d.line(pts, fill=(110, 180, 220), width=1)


def _snow(img, d, rng):
    img.paste(vertical_gradient(img.size, [(0, (186, 210, 234)), (1, (232, 241, 250))]))
    _ridge(d, img.size, 0.6, 0.04, 2, (226, 234, 244), rng)
    _ridge(d, img.size, 0.7, 0.03, 2, (246, 249, 253), rng)


def _forest(img, d, rng):
    img.paste(vertical_gradient(img.size, [(0, (190, 222, 210)), (1, (226, 238, 222))]))
    _trees(d, img.size, rng, 0.7, (120, 168, 130), 14, 0.42)
    _trees(d, img.size, rng, 0.78, (60, 118, 84), 10, 0.48)
    _band(img, 0.78, 1.0, [(0, (70, 120, 70)), (1, (46, 88, 52))])


def _desert(img, d, rng):
    img.paste(vertical_gradient(img.size, [(0, (246, 190, 120)), (1, (253, 232, 190))]))
    _ridge(d, img.size, 0.6, 0.05, 1, (232, 180, 110), rng)
    _ridge(d, img.size, 0.72, 0.04, 2, (218, 160, 92), rng)
    _ridge(d, img.size, 0.85, 0.03, 1, (200, 140, 76), rng)


def _space(img, d, rng):
    from PIL import Image, ImageDraw as IDraw, ImageFilter

    img.paste(vertical_gradient(img.size, [(0, (6, 6, 18)), (1, (28, 18, 62))]))
    w, h = img.size
    glow = Image.new("RGB", img.size, (0, 0, 0))
    gd = IDraw.Draw(glow)
    for color in ((90, 40, 140), (30, 70, 150)):
        cx, cy, r = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h, 0.25 * w
        gd.ellipse((cx - r, cy - r * 0.6, cx + r, cy + r * 0.6), fill=color)
    glow = glow.filter(ImageFilter.GaussianBlur(w / 12))
    img.paste(Image.blend(img, glow, 0.5).point(lambda v: min(255, v * 2)), (0, 0))


def _underwater(img, d, rng):
    from PIL import Image, ImageDraw as IDraw, ImageFilter

    img.paste(vertical_gradient(img.size, [(0, (30, 150, 180)), (1, (6, 52, 76))]))
    w, h = img.size
    rays = Image.new("L", img.size, 0)
    rd = IDraw.Draw(rays)
    for _ in range(5):
        x = rng.uniform(0, 1) * w
        rd.polygon([(x, 0), (x + 0.06 * w, 0), (x + 0.2 * w, h), (x + 0.05 * w, h)], fill=40)
    rays = rays.filter(ImageFilter.GaussianBlur(w / 80))
    img.paste(Image.new("RGB", img.size, (200, 240, 250)), (0, 0), rays)
    _ridge(d, img.size, 0.9, 0.02, 3, (194, 170, 120), rng)


def _rain(img, d, rng):
    img.paste(vertical_gradient(img.size, [(0, (96, 108, 124)), (1, (160, 170, 182))]))
    _band(img, 0.82, 1.0, [(0, (84, 92, 104)), (1, (66, 72, 82))])


def _studio(img, d, rng):
    import numpy as np
    from PIL import Image

    w, h = img.size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = np.sqrt(((xx - w / 2) / w) ** 2 + ((yy - h * 0.45) / h) ** 2)
    t = np.clip(r / 0.75, 0, 1)[..., None]
    a, b = np.array((246, 246, 248), np.float32), np.array((196, 198, 206), np.float32)
    img.paste(Image.fromarray((a + (b - a) * t).astype(np.uint8), "RGB"))


def _farm(img, d, rng):
    _field(img, d, rng)
    w, h = img.size
    y = 0.7 * h
    for i in range(0, 13):
        x = i / 12 * w
        d.rectangle((x - 0.005 * w, y - 0.06 * h, x + 0.005 * w, y + 0.02 * h),
                    fill=(150, 104, 64))
    for dy in (-0.045, -0.02):
        d.rectangle((0, y + dy * h, w, y + dy * h + 0.008 * h), fill=(170, 120, 76))


def _porch(img, d, rng):
    img.paste(vertical_gradient(img.size, [(0, (236, 228, 210)), (1, (220, 210, 190))]))
    _lines(d, img.size, 0.04, 0.62, 0.05, (204, 192, 170), width=2)
    _band(img, 0.62, 1.0, [(0, (168, 116, 70)), (1, (120, 80, 46))])
    _lines(d, img.size, 0.66, 1.0, 0.06, (110, 72, 40), width=2)


def _street(img, d, rng):
    img.paste(vertical_gradient(img.size, [(0, (140, 190, 230)), (1, (224, 236, 244))]))
    _skyline(d, img.size, rng, 0.68, (196, 170, 150), 0.25, 0.45, windows=(120, 150, 180))
    _band(img, 0.68, 0.74, [(0, (190, 190, 186)), (1, (170, 170, 166))])
    _band(img, 0.74, 1.0, [(0, (90, 92, 98)), (1, (64, 66, 72))])
    w, h = img.size
    for i in range(0, 10, 2):
        d.rectangle((i / 10 * w, 0.86 * h, (i + 1) / 10 * w, 0.875 * h), fill=(236, 226, 150))


def _mountain(img, d, rng):
    img.paste(vertical_gradient(img.size, [(0, (110, 168, 220)), (1, (220, 234, 244))]))
    _ridge(d, img.size, 0.5, 0.16, 3, (150, 170, 196), rng, jagged=True)
    _ridge(d, img.size, 0.64, 0.12, 2, (96, 118, 146), rng, jagged=True)
    _ridge(d, img.size, 0.82, 0.03, 2, (98, 142, 92), rng)


def _kitchen(img, d, rng):
    img.paste(vertical_gradient(img.size, [(0, (240, 242, 240)), (1, (226, 230, 228))]))
    w, h = img.size
    _lines(d, img.size, 0.0, 0.6, 0.06, (208, 214, 212))
    _lines(d, img.size, 0.0, 0.6, 0.06 * h / w, (208, 214, 212), vertical=True)
    _band(img, 0.6, 0.67, [(0, (216, 210, 200)), (1, (196, 190, 180))])
    _band(img, 0.67, 1.0, [(0, (112, 138, 160)), (1, (88, 110, 130))])
    for i in range(1, 4):
        d.line((i / 4 * w, 0.7 * h, i / 4 * w, h), fill=(80, 100, 120), width=2)


SceneFn = Callable[["Image.Image", "ImageDraw.ImageDraw", random.Random], None]
SCENE_PAINTERS: dict[str, SceneFn] = {
    "sky": _sky, "sunset": _sunset, "beach": _beach, "field": _field, "night": _night,
    "room": _room, "table": _table, "wall": _wall, "city": _city, "water": _water,
    "snow": _snow, "forest": _forest, "desert": _desert, "space": _space,
    "underwater": _underwater, "rain": _rain, "studio": _studio, "farm": _farm,
    "porch": _porch, "street": _street, "mountain": _mountain, "kitchen": _kitchen,
}
# Crisp full-resolution particles: (count per megapixel, colour, radius range in px at 1K,
# vertical band) or, for rain, streaks.
PARTICLES = {
    "night": (220, (255, 250, 230), (0.6, 1.8), (0.0, 0.78)),
    "space": (420, (255, 255, 255), (0.5, 1.8), (0.0, 1.0)),
    "snow": (160, (255, 255, 255), (1.0, 3.2), (0.0, 1.0)),
    "underwater": (40, (200, 240, 250), (2.0, 6.0), (0.1, 0.9)),
}


Rect = tuple[int, int, int, int]


def _clear(x: float, y: float, keep_clear: tuple[Rect, ...]) -> bool:
    return not any(x0 <= x <= x1 and y0 <= y <= y1 for x0, y0, x1, y1 in keep_clear)


def _particles(img: "Image.Image", scene: str, rng: random.Random,
               keep_clear: tuple[Rect, ...] = ()) -> None:
    """Stars, snow, bubbles or rain, kept out of ``keep_clear`` (where text goes: specks
    behind letters make them harder to read)."""
    from PIL import ImageDraw

    w, h = img.size
    d = ImageDraw.Draw(img)
    unit = min(w, h) / 1024
    if scene == "rain":
        for _ in range(int(300 * w * h / 1e6)):
            x, y = rng.uniform(0, w), rng.uniform(0, h * 0.9)
            ln = rng.uniform(12, 28) * unit
            if _clear(x, y, keep_clear) and _clear(x, y + ln, keep_clear):
                d.line((x, y, x - ln * 0.25, y + ln), fill=(200, 210, 224),
                       width=max(1, int(unit)))
        return
    spec = PARTICLES.get(scene)
    if spec is None:
        return
    per_mp, color, (r0, r1), (y0, y1) = spec
    outline = scene == "underwater"
    for _ in range(int(per_mp * w * h / 1e6)):
        x, y = rng.uniform(0, w), rng.uniform(y0, y1) * h
        r = rng.uniform(r0, r1) * unit
        if not _clear(x, y, keep_clear):
            continue
        if outline:
            d.ellipse((x - r, y - r, x + r, y + r), outline=color, width=max(1, int(unit)))
        else:
            d.ellipse((x - r, y - r, x + r, y + r), fill=color)


def _work_size(size: tuple[int, int]) -> tuple[int, int]:
    w, h = size
    k = min(1.0, WORK_SIDE / max(w, h))
    return max(8, int(w * k)), max(8, int(h * k))


def _solid(size: tuple[int, int], color: RGB) -> "Image.Image":
    """The colour with a faint light from above the centre, falling off to the corners
    (±4%): a dead-flat fill looks unfinished at poster size."""
    import numpy as np
    from PIL import Image

    w, h = _work_size(size)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    r = np.hypot((xs + 0.5) / w - 0.5, ((ys + 0.5) / h - 0.38) * 0.9) / 0.75
    t = np.clip(r, 0, 1)[..., None]  # 0 at the light, 1 at the far corners
    lit, dim = (np.array(shade(color, a), np.float32) for a in (0.04, -0.04))
    work = Image.fromarray((lit + (dim - lit) * t + 0.5).astype(np.uint8), "RGB")
    return work.resize(size, Image.BILINEAR)


def draw_background(bg: Background, size: tuple[int, int], seed: int = 0,
                    keep_clear: tuple[Rect, ...] = ()) -> "Image.Image":
    """The canvas behind the elements.

    Args:
        bg: the Plan's background.
        size: (width, height) in pixels.
        seed: fixes clouds, stars and silhouettes.
        keep_clear: pixel rectangles (text areas) that particles stay out of.
    Returns:
        An RGB image of ``size``, or a fully transparent RGBA one for
        ``kind == "transparent"``.
    """
    from PIL import Image, ImageDraw

    rng = random.Random(seed * 7919 + 17)
    if bg.kind == "transparent":
        return Image.new("RGBA", size, (0, 0, 0, 0))
    if bg.kind == "gradient":
        cols = [parse_color(c) or DEFAULT_COLOR for c in bg.colors]
        stops = [(i / (len(cols) - 1), c) for i, c in enumerate(cols)]
        if bg.direction == "vertical":
            img = vertical_gradient(_work_size(size), stops)
        else:
            ws = _work_size(size)
            side = ws[0] if bg.direction == "horizontal" else int(math.hypot(*ws)) + 2
            img = vertical_gradient((side, side), stops).rotate(
                90 if bg.direction == "horizontal" else 45, resample=Image.BICUBIC)
            img = img.crop(((img.width - ws[0]) // 2, (img.height - ws[1]) // 2,
                            (img.width + ws[0]) // 2, (img.height + ws[1]) // 2))
        return img.resize(size, Image.BILINEAR)
    tint = parse_color(bg.color)
    painter = SCENE_PAINTERS.get(bg.scene or "") if bg.kind == "scene" else None
    if painter is None:
        return _solid(size, tint or DEFAULT_COLOR)
    work = Image.new("RGB", _work_size(size), DEFAULT_COLOR)
    painter(work, ImageDraw.Draw(work), rng)
    if tint is not None:  # the Plan's colour shifts the scene's mood, not its structure
        work = Image.blend(work, Image.new("RGB", work.size, tint), 0.28)
    # Bilinear is enough for soft backdrops and ~2x cheaper than bicubic at 4K.
    img = work.resize(size, Image.BILINEAR)
    _particles(img, bg.scene or "", rng, keep_clear)
    return img


def mean_color(bg: Background) -> RGB:
    """A representative colour of a background (for a sprite's or plate's contrast)."""
    if bg.kind == "gradient":
        cols = [parse_color(c) or DEFAULT_COLOR for c in bg.colors]
        return mix(cols[0], cols[-1], 0.5)
    return parse_color(bg.color) or DEFAULT_COLOR
