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
    names = [s.strip() for s in style_text.split(",") if s.strip()]
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


def _edge(alpha, width: int):
    """A band of ``width`` pixels just inside the alpha's edge, 0..1."""
    import numpy as np
    from PIL import Image, ImageFilter

    a = Image.fromarray((alpha * 255).astype(np.uint8))
    inner = a.filter(ImageFilter.MinFilter(2 * max(1, width) + 1))
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
    grown = np.asarray(Image.fromarray((a * 255).astype(np.uint8)).filter(
        ImageFilter.MaxFilter(2 * border + 1)), dtype=np.float32) / 255.0
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
    grad = np.asarray(lum.filter(ImageFilter.FIND_EDGES).filter(
        ImageFilter.MaxFilter(2 * (width // 2) + 1)), dtype=np.float32) / 255.0
    inner = np.clip((grad - 0.12) * 4, 0, 1) * (alpha > 0.9)
    a = np.clip(np.maximum(lines * 1.5, inner), 0, 1)
    out = np.broadcast_to(np.array(ink, np.float32) / 255.0, rgb.shape)
    return _to_image(out, a)


_STYLE_SPRITE = {"watercolor": _watercolor, "neon": _neon, "chalk": _chalk,
                 "papercut": _papercut, "pixel": _pixel, "3d": _three_d, "pastel": _pastel}


def finish_canvas(img: "Image.Image", kind: str, seed: int = 0) -> "Image.Image":
    """The whole-canvas finish of a Look (before text). Returns a new image or ``img``."""
    if not kind:
        return img
    import numpy as np
    from PIL import Image

    mode = img.mode
    arr = np.asarray(img.convert("RGBA") if mode == "RGBA" else img.convert("RGB"),
                     dtype=np.float32) / 255.0
    rgb = arr[..., :3]
    h, w = rgb.shape[:2]
    if kind in ("paper", "grain"):
        tex = _grain((h, w), seed)
        rgb = rgb * (1 + (0.05 if kind == "paper" else 0.035) * tex[..., None])
    elif kind == "vintage":
        lum = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
        sepia = np.stack([lum * 1.07 + 0.06, lum * 0.93 + 0.04, lum * 0.72 + 0.02], -1)
        rgb = rgb * 0.35 + sepia * 0.65
        rgb = rgb * (1 + 0.05 * _grain((h, w), seed)[..., None]) * _vignette(h, w, 0.35)[..., None]
    elif kind == "photo":
        yy = np.linspace(0, 1, h, dtype=np.float32)[:, None]
        xx = np.linspace(0, 1, w, dtype=np.float32)[None, :]
        light = 1.08 - 0.16 * (0.6 * yy + 0.4 * xx)  # key light from the top left
        rgb = rgb * light[..., None] * _vignette(h, w, 0.25)[..., None]
    elif kind == "noir":
        lum = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
        lum = np.clip((lum - 0.5) * 1.35 + 0.5, 0, 1)
        rgb = np.repeat(lum[..., None], 3, axis=-1)
    arr = np.concatenate([np.clip(rgb, 0, 1), arr[..., 3:]], axis=-1)
    out = Image.fromarray((arr * 255 + 0.5).astype(np.uint8), "RGBA" if arr.shape[-1] == 4
                          else "RGB")
    return out


@lru_cache(maxsize=4)
def _grain_tile(seed: int):
    import numpy as np

    return np.random.default_rng(seed).uniform(-1, 1, (256, 256)).astype(np.float32)


def _grain(shape: tuple[int, int], seed: int):
    """Fine grain in [-1, 1], tiled from one 256² tile (cheap at 4K)."""
    import numpy as np

    t = _grain_tile(seed % 4)
    h, w = shape
    return np.tile(t, (h // 256 + 1, w // 256 + 1))[:h, :w]


def _vignette(h: int, w: int, strength: float):
    import numpy as np

    yy = np.linspace(-1, 1, h, dtype=np.float32)[:, None]
    xx = np.linspace(-1, 1, w, dtype=np.float32)[None, :]
    return 1 - strength * np.clip((xx ** 2 + yy ** 2) / 2, 0, 1) ** 1.5
