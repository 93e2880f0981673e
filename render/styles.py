"""Styles in pixels: what each style word the planner reads does to the draft.

A Look is chosen from ``plan.style.text`` (the planner's canonical style names). It picks the
icon set (line icons for line art and chalk, Noto's shaded art for 3D), the backdrop (a
chalkboard, a night for neon), per-object filters (watercolour bleed, neon glow, paper-cut
border, pixel blocks) and a whole-canvas finish (paper grain, sepia, photo light) applied
before the text layer, so text stays exact. Styles with no drawing here are listed in
``not_drawn`` and reported in the image's metadata; every style word still reaches the neural
renderers' prompts through ``plan.style``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

# Canonical style name (planner/lexicon.py STYLE_WORDS values) → what the draft does.
DRAWN = {
    "flat": "Twemoji's solid-fill icons, no shadows",
    "minimalist": "Twemoji's solid-fill icons, no shadows",
    "line art": "one-colour line icons in dark ink",
    "sketch": "one-colour line icons in pencil grey on paper grain",
    "watercolor": "soft bleeding edges, lighter pigment, paper grain",
    "painting": "soft bleeding edges, lighter pigment, paper grain",
    "neon": "glowing outlines on a night backdrop",
    "chalkboard": "chalk line icons with grain on a green board",
    "paper cut": "posterised colours, white cut border, layered shadow",
    "pixel": "objects in coarse pixel blocks",
    "3d": "shaded Noto art, highlight and deeper shadows",
    "retro": "sepia toning, grain and vignette",
    "photo": "directional light, vignette, deeper contact shadows",
    "pastel": "colours lifted toward white",
    "noir": "black and white with strong contrast",
    "cartoon": "the default flat colour icons",
}
NOT_DRAWN_HINT = "not drawn by the draft renderer; passed to neural renderers' prompts"
DEFAULT_BACKDROP = "#f4f1ea"  # planner.schema.Canvas's default colour: no colour was asked


@dataclass(frozen=True)
class Look:
    """How the draft draws one Plan's style (the empty Look is the default)."""

    drawn: tuple[str, ...] = ()
    not_drawn: tuple[str, ...] = ()
    prefer: str | None = None        # colour icon set tried first
    line: bool = False               # line icons where the line sets have one
    ink: tuple[int, int, int] | None = None   # colour of line icons
    shadows: bool = True
    shadow_gain: float = 1.0
    sprite: str = ""                 # per-object filter
    canvas: str = ""                 # whole-canvas finish before text
    backdrop: str | None = None      # replaces an un-asked-for plain backdrop

    def record(self) -> dict:
        return {"drawn": list(self.drawn), "not_drawn": list(self.not_drawn)}


def look_for(style_text: str) -> Look:
    """The Look of a Plan's ``style.text`` ("watercolor, neon")."""
    names = list(dict.fromkeys(_canonical(s.strip().lower()) for s in style_text.split(",")
                               if s.strip()))
    kw: dict = {}
    drawn, not_drawn = [], []
    for name in names:
        if name not in DRAWN:
            not_drawn.append(name)
            continue
        drawn.append(name)
        if name in ("flat", "minimalist"):
            kw.setdefault("shadows", False)
            kw.setdefault("prefer", "twemoji")  # the flattest art: solid fills, no gradients
        elif name in ("line art", "sketch"):
            kw.update(line=True, ink=(40, 40, 48) if name == "line art" else (90, 90, 96),
                      shadows=False)
            if name == "sketch":
                kw.setdefault("canvas", "grain")
        elif name in ("watercolor", "painting"):
            kw.update(sprite="watercolor", canvas="paper", shadow_gain=0.5)
        elif name == "neon":
            kw.update(sprite="neon", backdrop="#0d0b1e", shadows=False)
        elif name == "chalkboard":
            kw.update(line=True, ink=(240, 240, 232), sprite="chalk", backdrop="#2f4a3a",
                      shadows=False, canvas="grain")
        elif name == "paper cut":
            kw.update(sprite="papercut", shadow_gain=1.8)
        elif name == "pixel":
            kw.update(sprite="pixel", shadows=False)
        elif name == "3d":
            kw.update(prefer="noto", sprite="3d", shadow_gain=1.6)
        elif name == "retro":
            kw["canvas"] = "vintage"
        elif name == "photo":
            kw.update(shadow_gain=1.8, prefer=kw.get("prefer", "noto"))
            kw.setdefault("canvas", "photo")
        elif name == "pastel":
            kw.setdefault("sprite", "pastel")
        elif name == "noir":
            kw["canvas"] = "noir"
    return Look(drawn=tuple(drawn), not_drawn=tuple(not_drawn), **kw)


def _canonical(name: str) -> str:
    """A style name as the rules planner spells it: "watercolour painting" (an LLM planner's
    or a hand-edited Plan's wording) → watercolor; unknown words stay as they are."""
    if name in DRAWN:
        return name
    from planner.lexicon import STYLE_PHRASES, STYLE_WORDS

    spaced = name.replace("-", " ")
    for phrase, canon in STYLE_PHRASES.items():
        if phrase in spaced:
            return canon
    for word in spaced.split():
        if STYLE_WORDS.get(word) in DRAWN:
            return STYLE_WORDS[word]
    return name


def _rgba_arrays(img: "Image.Image"):
    import numpy as np

    a = np.asarray(img.convert("RGBA"), dtype=np.float32) / 255.0
    return a[..., :3], a[..., 3]


def _to_image(rgb, alpha) -> "Image.Image":
    import numpy as np
    from PIL import Image

    out = np.concatenate([np.clip(rgb, 0, 1), np.clip(alpha, 0, 1)[..., None]], axis=-1)
    return Image.fromarray((out * 255 + 0.5).astype(np.uint8), "RGBA")


def _noise(shape: tuple[int, int], seed: int, scale: int = 1):
    """Smooth-ish value noise in [-1, 1] of ``shape`` (h, w), deterministic per seed."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    h, w = shape
    small = rng.uniform(-1, 1, (max(1, h // scale), max(1, w // scale))).astype(np.float32)
    if scale == 1:
        return small[:h, :w]
    img = Image.fromarray(((small + 1) * 127.5).astype(np.uint8)).resize((w, h), Image.BICUBIC)
    return np.asarray(img, dtype=np.float32) / 127.5 - 1


def style_sprite(sprite: "Image.Image", kind: str, color: tuple[int, int, int] | None = None
                 ) -> "Image.Image":
    """One object's picture in a style (``kind`` = Look.sprite); the sprite is not changed."""
    if not kind:
        return sprite
    return _STYLE_SPRITE[kind](sprite, color)


def grow_mask(mask: "Image.Image", r: int) -> "Image.Image":
    """An "L" mask dilated by about ``r`` pixels with a soft edge: one box blur and a ramp
    (O(1) per pixel; PIL's MaxFilter is O(r²) and far too slow at 4K)."""
    if r < 1:
        return mask
    from PIL import ImageFilter

    return mask.filter(ImageFilter.BoxBlur(r)).point(lambda v: 0 if v < 3 else min(255, (v - 3) * 10))


def shrink_mask(mask: "Image.Image", r: int) -> "Image.Image":
    """An "L" mask eroded by about ``r`` pixels (box blur, keep what stays nearly full)."""
    if r < 1:
        return mask
    from PIL import ImageFilter

    return mask.filter(ImageFilter.BoxBlur(r)).point(lambda v: 0 if v < 232 else min(255, (v - 232) * 11))


def _edge(alpha, width: int):
    """A band of ``width`` pixels just inside the alpha's edge, 0..1."""
    import numpy as np
    from PIL import Image

    a = Image.fromarray((alpha * 255).astype(np.uint8))
    inner = shrink_mask(a, max(1, width))
    return np.clip(alpha - np.asarray(inner, dtype=np.float32) / 255.0, 0, 1)


def _watercolor(sprite, _color):
    import numpy as np
    from PIL import Image, ImageFilter

    w = sprite.width
    soft = sprite.filter(ImageFilter.GaussianBlur(max(1.0, w / 180)))
    rgb, alpha = _rgba_arrays(soft)
    rgb = rgb * 0.72 + 0.28  # thinner pigment
    edge = _edge(alpha, max(2, w // 60))
    rgb = rgb * (1 - 0.25 * edge[..., None])  # pigment pools at the edges
    tex = _noise(alpha.shape, 7, max(2, w // 40))
    rgb = rgb * (1 + 0.06 * tex[..., None])
    alpha = alpha * np.clip(0.85 + 0.12 * tex, 0, 1)
    del Image
    return _to_image(rgb, alpha)


def _neon(sprite, color):
    import numpy as np
    from PIL import Image, ImageFilter

    rgb, alpha = _rgba_arrays(sprite)
    w = sprite.width
    base = np.array(color or _mean_color(rgb, alpha), dtype=np.float32) / 255.0
    base = base / max(float(base.max()), 1e-3)  # full brightness tube colour
    line = np.clip(_edge(alpha, max(2, w // 45)) * 3, 0, 1)
    pad = max(4, w // 12)
    big = np.zeros((alpha.shape[0] + 2 * pad, alpha.shape[1] + 2 * pad), np.float32)
    big[pad:-pad, pad:-pad] = line
    glow_img = Image.fromarray((big * 255).astype(np.uint8)).filter(
        ImageFilter.GaussianBlur(max(2, w // 30)))
    glow = np.asarray(glow_img, dtype=np.float32) / 255.0
    a = np.clip(np.maximum(big, glow * 1.6), 0, 1)
    core = np.clip(big, 0, 1)[..., None]
    rgb_out = base[None, None, :] * (1 - core) + (base * 0.35 + 0.65)[None, None, :] * core
    return _to_image(rgb_out, a)


def _mean_color(rgb, alpha) -> tuple[int, int, int]:
    m = alpha > 0.5
    if not m.any():
        return (255, 80, 200)
    c = rgb[m].mean(axis=0)
    return tuple(int(v * 255) for v in c)


def _chalk(sprite, _color):
    import numpy as np

    rgb, alpha = _rgba_arrays(sprite)
    tex = _noise(alpha.shape, 11, 1)
    alpha = alpha * np.clip(0.7 + 0.45 * tex, 0, 1)
    return _to_image(rgb, alpha)


def _papercut(sprite, _color):
    import numpy as np
    from PIL import Image, ImageFilter

    rgb, alpha = _rgba_arrays(sprite)
    rgb = np.round(rgb * 3) / 3  # few flat paper colours
    border = max(3, sprite.width // 40)
    pad = border + 1
    a = np.zeros((alpha.shape[0] + 2 * pad, alpha.shape[1] + 2 * pad), np.float32)
    a[pad:-pad, pad:-pad] = alpha
    grown = np.asarray(grow_mask(Image.fromarray((a * 255).astype(np.uint8)), border),
                       dtype=np.float32) / 255.0
    out = np.ones(grown.shape + (3,), np.float32)
    inner = a[..., None]
    out[pad:-pad, pad:-pad] = rgb * alpha[..., None] + out[pad:-pad, pad:-pad] * (1 - alpha[..., None])
    del inner
    return _to_image(out, grown)


def _pixel(sprite, _color):
    from PIL import Image

    cells = max(6, min(32, sprite.width // 6))  # blocks of at least 6 px, at most 32 across
    small = sprite.resize((max(1, cells), max(1, round(cells * sprite.height / sprite.width))),
                          Image.BOX)
    small = small.quantize(24).convert("RGBA") if small.mode == "RGBA" else small
    px = small.resize(sprite.size, Image.NEAREST)
    return px


def _three_d(sprite, _color):
    import numpy as np

    rgb, alpha = _rgba_arrays(sprite)
    h, w = alpha.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    # Light from the top left: brighter there, darker toward the bottom right.
    light = 1.0 + 0.28 * (0.5 - (xx / max(w, 1) * 0.4 + yy / max(h, 1) * 0.6))
    rgb = rgb * light[..., None]
    rim = _edge(alpha, max(2, w // 50))
    rgb = rgb * (1 - 0.3 * rim[..., None])
    return _to_image(rgb, alpha)


def _pastel(sprite, _color):
    rgb, alpha = _rgba_arrays(sprite)
    return _to_image(rgb * 0.6 + 0.4, alpha)


def outline_sprite(sprite: "Image.Image", ink: tuple[int, int, int]) -> "Image.Image":
    """A colour picture as line art: its silhouette and its inner colour borders traced in
    ``ink`` (for line looks when the line sets have no icon for the thing)."""
    import numpy as np
    from PIL import Image, ImageFilter

    rgb, alpha = _rgba_arrays(sprite)
    width = max(1, sprite.width // 70)
    lines = _edge(alpha, width)
    # Inner borders: where the colour changes sharply inside the ink.
    lum = Image.fromarray((rgb @ np.array([0.299, 0.587, 0.114], np.float32) * 255)
                          .astype(np.uint8))
    grad = np.asarray(grow_mask(lum.filter(ImageFilter.FIND_EDGES), width // 2),
                      dtype=np.float32) / 255.0
    inner = np.clip((grad - 0.12) * 4, 0, 1) * (alpha > 0.9)
    a = np.clip(np.maximum(lines * 1.5, inner), 0, 1)
    out = np.broadcast_to(np.array(ink, np.float32) / 255.0, rgb.shape)
    return _to_image(out, a)


_STYLE_SPRITE = {"watercolor": _watercolor, "neon": _neon, "chalk": _chalk,
                 "papercut": _papercut, "pixel": _pixel, "3d": _three_d, "pastel": _pastel}


def finish_canvas(img: "Image.Image", kind: str, seed: int = 0) -> "Image.Image":
    """The whole-canvas finish of a Look (before text), with Pillow's 8-bit operations and
    small masks scaled up, so a 4K canvas costs a few hundredths of a second per step.
    Returns a new image (alpha kept) or ``img`` itself for no finish."""
    if not kind:
        return img
    from PIL import ImageChops, ImageOps

    alpha = img.getchannel("A") if img.mode == "RGBA" else None
    rgb = img.convert("RGB")
    if kind in ("paper", "grain"):
        rgb = _add_grain(rgb, seed, 10 if kind == "paper" else 7)
    elif kind == "vintage":
        rgb = rgb.convert("RGB", _SEPIA)  # one linear colour transform
        rgb = ImageChops.multiply(_add_grain(rgb, seed, 9), _light_mask(rgb.size, 0.0, 0.35))
    elif kind == "photo":
        rgb = ImageChops.multiply(rgb, _light_mask(rgb.size, 0.16, 0.25))
    elif kind == "noir":
        rgb = ImageOps.autocontrast(rgb.convert("L"), cutoff=1).convert("RGB")
    if alpha is not None:
        rgb.putalpha(alpha)
    return rgb


# 0.35 x identity + 0.65 x the classic sepia matrix, as Pillow's 12-number RGB matrix.
_SEPIA = tuple(
    round(0.35 * (1.0 if c == r else 0.0) + 0.65 * m, 4) if c < 3 else 0.0
    for r, row in enumerate(((0.393, 0.769, 0.189), (0.349, 0.686, 0.168),
                             (0.272, 0.534, 0.131)))
    for c, m in enumerate(row + (0.0,)))


@lru_cache(maxsize=8)
def _light_mask(size: tuple[int, int], key: float, vignette: float) -> "Image.Image":
    """An RGB multiply mask: a key light from the top left (darker by ``key`` toward the
    bottom right) times a vignette; drawn at 64 px and scaled up (smooth)."""
    import numpy as np
    from PIL import Image

    h, w = 64, 64
    yy = np.linspace(0, 1, h, dtype=np.float32)[:, None]
    xx = np.linspace(0, 1, w, dtype=np.float32)[None, :]
    light = 1.0 - key * (0.6 * yy + 0.4 * xx)
    m = light * _vignette(h, w, vignette)
    small = Image.fromarray((np.clip(m, 0, 1) * 255).astype(np.uint8), "L")
    return small.resize(size, Image.BILINEAR).convert("RGB")


def _add_grain(rgb: "Image.Image", seed: int, amount: int) -> "Image.Image":
    """Fine grain of about ±``amount`` levels, tiled from one 256² noise tile."""
    from PIL import ImageChops

    # (rgb + noise) - amount, clipped: zero-mean grain in one 8-bit operation.
    return ImageChops.add(rgb, _noise_image(rgb.size, seed % 4, amount), 1.0, -amount)


@lru_cache(maxsize=4)
def _noise_image(size: tuple[int, int], seed: int, amount: int) -> "Image.Image":
    """An RGB image of grey noise 0..2*amount covering ``size`` (cached per canvas size)."""
    import numpy as np
    from PIL import Image

    t = _grain_tile(seed)
    tile = Image.fromarray(((t * 0.5 + 0.5) * 2 * amount).astype(np.uint8), "L")
    noise = Image.new("L", size)
    for y in range(0, size[1], 256):
        for x in range(0, size[0], 256):
            noise.paste(tile, (x, y))
    return noise.convert("RGB")


@lru_cache(maxsize=4)
def _grain_tile(seed: int):
    import numpy as np

    return np.random.default_rng(seed).uniform(-1, 1, (256, 256)).astype(np.float32)


def _vignette(h: int, w: int, strength: float):
    import numpy as np

    yy = np.linspace(-1, 1, h, dtype=np.float32)[:, None]
    xx = np.linspace(-1, 1, w, dtype=np.float32)[None, :]
    return 1 - strength * np.clip((xx ** 2 + yy ** 2) / 2, 0, 1) ** 1.5
