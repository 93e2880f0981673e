"""Design shapes: chart bars and pie slices, axes, UI buttons, cards and nav bars, circles and
badges behind text, rules, numbered point markers and a card's frame.

Each ShapeElement is drawn exactly inside its box, on a supersampled layer the size of its box
(smooth edges at any canvas size), under the objects and the text. A marker draws its number
(``label``) itself; every other word is a TextElement of its own.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from planner.schema import Plan, ShapeElement, box_to_pixels
from render.color import RGB, mix, parse_color, readable_on, relative_luminance, shade

if TYPE_CHECKING:
    from PIL import Image

# Chart colours when the Plan names none: distinct hues of similar weight.
PALETTE = ("#3b6fd8", "#e4572e", "#2a9d8f", "#f2a541", "#8e5cc9", "#d64f8c", "#5a8f29",
           "#4bb3d6")
_SUPERSAMPLE = 3


def _fill(el: ShapeElement, under: RGB) -> RGB:
    c = parse_color(el.color)
    if c is not None:
        return c
    if el.shape in ("card",):
        return mix(under, (255, 255, 255), 0.85) if relative_luminance(under) > 0.2 \
            else shade(under, 0.25)
    if el.shape in ("axis", "rule", "frame"):
        return readable_on(under)
    return parse_color(PALETTE[0])  # type: ignore[return-value]


def _star(w: float, h: float, points: int = 14, inner: float = 0.82) -> list[tuple[float, float]]:
    cx, cy = w / 2, h / 2
    out = []
    for k in range(points * 2):
        r = 1.0 if k % 2 == 0 else inner
        a = math.pi * k / points - math.pi / 2
        out.append((cx + r * cx * math.cos(a), cy + r * cy * math.sin(a)))
    return out


def _draw_one(el: ShapeElement, size: tuple[int, int], fill: RGB, under: RGB,
              font: str | None) -> "Image.Image":
    """One shape on an RGBA layer of ``size`` pixels (already supersampled)."""
    from PIL import Image, ImageDraw

    w, h = size
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    rgba = fill + (255,)
    line = max(1, int(min(w, h) * 0.04)) if el.shape != "frame" else max(2, int(min(w, h) * 0.012))
    if el.shape == "bar":
        r = int(min(w * 0.18, h / 2))
        d.rounded_rectangle((0, 0, w - 1, h - 1), radius=r, fill=rgba,
                            corners=(True, True, False, False))
    elif el.shape == "slice":
        a0, a1 = el.angles or (0.0, 360.0)
        if a1 - a0 >= 359.99:
            d.ellipse((0, 0, w - 1, h - 1), fill=rgba)
        else:
            d.pieslice((0, 0, w - 1, h - 1), a0 - 90, a1 - 90, fill=rgba,
                       outline=under + (255,), width=max(1, int(min(w, h) * 0.006)))
    elif el.shape == "axis":
        d.line((0, h - line, w, h - line), fill=rgba, width=line)
    elif el.shape == "button":
        d.rounded_rectangle((0, 0, w - 1, h - 1), radius=int(h * 0.3), fill=rgba)
    elif el.shape == "card":
        edge = shade(fill, -0.12)
        d.rounded_rectangle((0, 0, w - 1, h - 1), radius=int(min(w, h) * 0.08), fill=rgba,
                            outline=edge + (255,), width=max(1, int(min(w, h) * 0.008)))
    elif el.shape == "navbar":
        d.rectangle((0, 0, w - 1, h - 1), fill=rgba)
    elif el.shape in ("circle", "marker"):
        d.ellipse((0, 0, w - 1, h - 1), fill=rgba)
    elif el.shape == "badge":
        d.polygon(_star(w, h), fill=rgba)
    elif el.shape == "rule":
        dot = max(1, int(h * 0.18))
        y = h // 2
        for x in range(0, w, dot * 3):
            d.ellipse((x, y - dot // 2, x + dot, y + dot // 2 + 1), fill=rgba)
    elif el.shape == "frame":
        d.rounded_rectangle((line, line, w - 1 - line, h - 1 - line),
                            radius=int(min(w, h) * 0.03), outline=rgba, width=line)
    if el.shape == "marker" and el.label:
        _marker_number(layer, el.label, readable_on(fill), font)
    return layer


def _marker_number(layer: "Image.Image", label: str, ink: RGB, font: str | None) -> None:
    """The point's number, centred in its marker."""
    from PIL import ImageDraw

    from render.text import fit_text, load_font, shaping_for

    sh = shaping_for(label, "Latn", "bold", font=font)
    w, h = layer.size
    lay = fit_text(label, sh, (int(w * 0.56), int(h * 0.5)))
    if lay is None:
        return
    f = load_font(lay.shaping.spec, lay.size)
    ox, oy = (w - lay.width) / 2, (h - lay.height) / 2
    d = ImageDraw.Draw(layer)
    for line, (lx, ly) in zip(lay.lines, lay.origins):
        d.text((ox + lx, oy + ly), line, font=f, fill=ink + (255,), anchor="ls")


def draw_shapes(image: "Image.Image", plan: Plan, font: str | None = None) -> "Image.Image":
    """Draw every ShapeElement of ``plan`` onto ``image`` in place (z order), and return it.

    Args:
        image: RGB or RGBA canvas. plan: the Plan. font: a font file for marker numbers.
    """
    from PIL import Image

    from render.text import paste_over, sample_backdrop

    for el in sorted(plan.shapes, key=lambda e: e.z):
        x0, y0, x1, y1 = box_to_pixels(el.box, image.width, image.height)
        bw, bh = x1 - x0, y1 - y0
        under = sample_backdrop(image, (x0, y0, x1, y1)).mean
        fill = _fill(el, under)
        big = (bw * _SUPERSAMPLE, bh * _SUPERSAMPLE)
        layer = _draw_one(el, big, fill, under, font)
        paste_over(image, layer.resize((bw, bh), Image.LANCZOS), (x0, y0))
    return image
