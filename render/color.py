"""Colours: the one place a colour string from a Plan becomes RGB, plus contrast helpers.

Plans carry colours as CSS names ("tomato"), hex ("#3366ff", "#36f") or loose phrases a
planner wrote ("light blue", "dark green", "gold"). Everything here is pure Python (no PIL).
"""

from __future__ import annotations

import colorsys
import re
from functools import lru_cache

RGB = tuple[int, int, int]

# Words planners use that CSS does not know, or knows with a surprising value.
_EXTRA = {
    "grey": (128, 128, 128), "gray": (128, 128, 128), "brown": (139, 90, 43),
    "gold": (232, 184, 40), "golden": (232, 184, 40), "silver": (192, 192, 200),
    "beige": (232, 220, 196), "cream": (250, 244, 224), "pink": (246, 140, 180),
    "purple": (140, 70, 180), "violet": (143, 90, 210), "orange": (245, 140, 30),
    "green": (60, 170, 70), "navy": (20, 40, 100), "teal": (0, 128, 128),
    "rose": (230, 80, 110), "lime": (150, 210, 50), "maroon": (128, 20, 40),
    "bronze": (180, 120, 60), "copper": (184, 115, 51), "mint": (170, 230, 200),
    "peach": (255, 200, 160), "lavender": (190, 170, 230), "sky": (135, 206, 235),
    "wooden": (160, 110, 60), "wood": (160, 110, 60), "charcoal": (54, 54, 60),
}
_MODIFIERS = {"light": 0.35, "pale": 0.45, "pastel": 0.45, "bright": 0.1, "dark": -0.35,
              "deep": -0.25}
_HEX_RE = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")
_RGB_RE = re.compile(r"^rgba?\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)")


def _css(name: str) -> RGB | None:
    import webcolors

    try:
        c = webcolors.name_to_rgb(name)
    except ValueError:
        return None
    return (c.red, c.green, c.blue)


@lru_cache(maxsize=1024)
def parse_color(value: str | None) -> RGB | None:
    """Turn a Plan colour into RGB.

    Args:
        value: hex, ``rgb(r,g,b)``, a CSS name, or a phrase like "light blue".
    Returns:
        ``(r, g, b)``, or None for None/empty/unknown colours (callers pick a default).
    """
    if not value or not value.strip():
        return None
    text = value.strip().lower()
    m = _HEX_RE.match(text)
    if m:
        h = m.group(1)
        if len(h) == 3:
            h = "".join(ch * 2 for ch in h)
        return tuple(int(h[i:i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]
    m = _RGB_RE.match(text)
    if m:
        return tuple(min(255, int(v)) for v in m.groups())  # type: ignore[return-value]
    words = re.findall(r"[a-z]+", text)
    if not words:
        return None
    joined = "".join(words)
    if joined in _EXTRA:
        return _EXTRA[joined]
    if len(words) == 1 or joined != words[-1]:
        css = _css(joined)
        if css:
            return css
    base = _EXTRA.get(words[-1]) or _css(words[-1])
    if base is None:
        return None
    amount = sum(_MODIFIERS.get(w, 0.0) for w in words[:-1])
    return shade(base, amount) if amount else base


def to_hex(rgb: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """Linear blend: t=0 → a, t=1 → b."""
    return tuple(int(round(x + (y - x) * t)) for x, y in zip(a, b))  # type: ignore[return-value]


def shade(rgb: RGB, amount: float) -> RGB:
    """Lighten (amount > 0, toward white) or darken (amount < 0, toward black)."""
    return mix(rgb, (255, 255, 255), amount) if amount >= 0 else mix(rgb, (0, 0, 0), -amount)


def hls(rgb: RGB) -> tuple[float, float, float]:
    """Hue (0..1), lightness, saturation of an RGB colour."""
    return colorsys.rgb_to_hls(*(v / 255.0 for v in rgb))


def from_hls(h: float, lightness: float, s: float) -> RGB:
    r, g, b = colorsys.hls_to_rgb(h % 1.0, min(max(lightness, 0), 1), min(max(s, 0), 1))
    return (int(round(r * 255)), int(round(g * 255)), int(round(b * 255)))


def relative_luminance(rgb: RGB) -> float:
    """WCAG 2.x relative luminance of an sRGB colour (0 black .. 1 white)."""
    def lin(c: float) -> float:
        c /= 255.0
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(v) for v in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: RGB, b: RGB) -> float:
    """WCAG contrast ratio between two colours, 1 (same) .. 21 (black on white)."""
    la, lb = relative_luminance(a), relative_luminance(b)
    hi, lo = max(la, lb), min(la, lb)
    return (hi + 0.05) / (lo + 0.05)


INK_DARK: RGB = (28, 28, 34)
INK_LIGHT: RGB = (255, 255, 255)


def readable_on(background: RGB, dark: RGB = INK_DARK, light: RGB = INK_LIGHT) -> RGB:
    """The one of ``dark``/``light`` with the higher contrast against ``background``."""
    return dark if contrast_ratio(dark, background) >= contrast_ratio(light, background) \
        else light


def basic_name(rgb: RGB) -> str:
    """The everyday colour word a viewer would use for ``rgb``: black, white, gray, brown,
    red, orange, yellow, green, teal, blue, purple or pink (hue bands in degrees)."""
    h, lightness, s = hls(rgb)
    deg = h * 360
    if lightness < 0.12:
        return "black"
    if s < 0.15 or (lightness > 0.92):
        return "white" if lightness > 0.85 else "gray" if lightness > 0.2 else "black"
    warm = deg < 50 or deg >= 345
    if warm and lightness < 0.42 and not (deg >= 345 or deg < 10) or \
            (warm and lightness < 0.3):
        return "brown"
    for name, upper in (("red", 12), ("orange", 40), ("yellow", 68), ("green", 165),
                        ("teal", 188), ("blue", 255), ("purple", 290), ("pink", 345)):
        if deg < upper:
            if name == "red" and lightness > 0.72:
                return "pink"
            return name
    return "pink" if lightness > 0.72 else "red"
