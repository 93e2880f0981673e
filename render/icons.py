"""Vector icons from Iconify JSON icon sets, rasterised by resvg at the size they are drawn.

The sets are npm packages (``@iconify-json/<prefix>``) installed by scripts/setup.sh into a
folder limner finds (never committed; licences and sources in ATTRIBUTION.md):

- ``$LIMNER_ICONS`` (a folder holding ``<prefix>/icons.json``; when set, the only place), else
- ``<repo>/vendor/iconify/node_modules/@iconify-json`` (what ``bash scripts/setup.sh`` fills), else
- ``$LIMNER_HOME/icons/node_modules/@iconify-json``, then ``~/.limner/icons/...``.

An Iconify set is ``{"prefix", "icons": {name: {"body", "width"?, "height"?, "left"?,
"top"?}}, "aliases": {name: {"parent", ...}}, "width", "height"}``; an icon is an SVG body
drawn in its viewBox. Each (icon, size, colour) is rasterised once and cached: a 4K canvas
draws its objects straight from the vector at their final size (crisp edges, no upscaled
bitmap), and resvg's PNG carries straight (un-premultiplied) alpha, so edge pixels keep their
true colour and composite without a light or dark fringe.

Without the sets (or without resvg) every function here says so by returning None /
``available() == False`` and the draft falls back to the colour-emoji font.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from PIL import Image


@dataclass(frozen=True)
class IconSet:
    """One Iconify set: ``kind`` is ``color`` (full-colour emoji art) or ``mono`` (one-colour
    glyphs drawn with ``currentColor``)."""

    prefix: str
    kind: str
    title: str
    licence: str
    source: str
    author: str = ""


# Order matters only as a preference among sets of one kind (first = default look).
SETS = {
    "fluent-emoji-flat": IconSet("fluent-emoji-flat", "color", "Fluent Emoji Flat", "MIT",
                                 "https://github.com/microsoft/fluentui-emoji", "Microsoft Corporation"),
    "noto": IconSet("noto", "color", "Noto Emoji", "Apache-2.0",
                    "https://github.com/googlefonts/noto-emoji", "Google Inc."),
    "twemoji": IconSet("twemoji", "color", "Twemoji", "CC-BY-4.0",
                       "https://github.com/jdecked/twemoji",
                       "Twitter, Inc. and other contributors"),
    "mdi": IconSet("mdi", "mono", "Material Design Icons", "Apache-2.0",
                   "https://github.com/Templarian/MaterialDesign", "Pictogrammers"),
    "tabler": IconSet("tabler", "mono", "Tabler Icons", "MIT",
                      "https://github.com/tabler/tabler-icons", "Paweł Kuna"),
}
NPM_PACKAGES = tuple(f"@iconify-json/{p}" for p in SETS)
INSTALL_HINT = ("icon sets not found: run `bash scripts/setup.sh` (npm installs "
                f"{' '.join(NPM_PACKAGES)} into vendor/iconify) or point LIMNER_ICONS at a "
                "folder of @iconify-json sets; drawing objects from the colour-emoji font")


def _candidate_roots() -> list[Path]:
    if os.environ.get("LIMNER_ICONS"):  # set: the one place looked in (empty dir: no sets)
        return [Path(os.environ["LIMNER_ICONS"])]
    roots = []
    roots.append(Path(__file__).resolve().parents[1] / "vendor" / "iconify" / "node_modules"
                 / "@iconify-json")
    homes = [os.environ.get("LIMNER_HOME") or "", str(Path.home() / ".limner")]
    roots += [Path(h) / "icons" / "node_modules" / "@iconify-json" for h in homes if h]
    return roots


@lru_cache(maxsize=8)
def _root_for(prefix: str, roots_key: tuple[str, ...]) -> Path | None:
    for root in roots_key:
        if (Path(root) / prefix / "icons.json").is_file():
            return Path(root) / prefix
    return None


def set_dir(prefix: str) -> Path | None:
    """The folder of an installed set (``icons.json``, ``chars.json``, ``info.json``)."""
    return _root_for(prefix, tuple(str(r) for r in _candidate_roots()))


@lru_cache(maxsize=1)
def _resvg():
    try:
        import resvg_py
    except ImportError:
        return None
    return resvg_py


def available(prefix: str = "fluent-emoji-flat") -> bool:
    """True when the set is installed and an SVG renderer is importable."""
    return set_dir(prefix) is not None and _resvg() is not None


@lru_cache(maxsize=8)
def load_set(prefix: str) -> dict | None:
    """The parsed ``icons.json`` of a set (cached), or None when it is not installed."""
    d = set_dir(prefix)
    if d is None:
        return None
    with open(d / "icons.json", encoding="utf-8") as f:
        return json.load(f)


@lru_cache(maxsize=8)
def set_info(prefix: str) -> dict:
    """The set's ``info.json`` (name, author, licence, version) or {}."""
    d = set_dir(prefix)
    try:
        with open(d / "info.json", encoding="utf-8") as f:
            return json.load(f)
    except (OSError, TypeError, ValueError):
        return {}


@lru_cache(maxsize=8)
def _chars(prefix: str) -> dict[str, str]:
    d = set_dir(prefix)
    try:
        with open(d / "chars.json", encoding="utf-8") as f:
            return json.load(f)
    except (OSError, TypeError, ValueError):
        return {}


def name_for_glyph(prefix: str, glyph: str) -> str | None:
    """The icon that draws an emoji character sequence in a set (via its chars.json)."""
    chars = _chars(prefix)
    full = "-".join(f"{ord(c):x}" for c in glyph)
    bare = "-".join(f"{ord(c):x}" for c in glyph if c != "\ufe0f")
    name = chars.get(bare) or chars.get(full)
    return name if name and resolve(prefix, name) else None


def resolve(prefix: str, name: str) -> dict | None:
    """An icon's data with aliases followed: {"body", "left", "top", "width", "height",
    "hFlip"}; None when the set or the name is missing."""
    data = load_set(prefix)
    if data is None:
        return None
    flip = False
    for _ in range(8):  # aliases chain at most a few levels
        if name in data["icons"]:
            ic = data["icons"][name]
            return {"body": ic["body"], "left": ic.get("left", data.get("left", 0)),
                    "top": ic.get("top", data.get("top", 0)),
                    "width": ic.get("width", data.get("width", 16)),
                    "height": ic.get("height", data.get("height", 16)),
                    "hFlip": flip ^ bool(ic.get("hFlip", False))}
        alias = data.get("aliases", {}).get(name)
        if alias is None:
            return None
        flip ^= bool(alias.get("hFlip", False))
        name = alias["parent"]
    return None


def parent(prefix: str, name: str) -> str:
    """The icon an alias points to (the name itself for an icon)."""
    data = load_set(prefix) or {}
    for _ in range(8):
        alias = data.get("aliases", {}).get(name)
        if alias is None:
            return name
        name = alias["parent"]
    return name


def names(prefix: str) -> list[str]:
    """Every icon and alias name of an installed set."""
    data = load_set(prefix)
    if data is None:
        return []
    return list(data["icons"]) + list(data.get("aliases", {}))


_HEX = re.compile(r"#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")


def _hex_to_rgb(h: str) -> tuple[int, int, int]:
    h = h.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def svg_colors(body: str) -> list[tuple[int, int, int]]:
    """The distinct #hex colours an SVG body paints with (fills, strokes, gradient stops)."""
    seen = dict.fromkeys(_hex_to_rgb(m.group(0)) for m in _HEX.finditer(body))
    return list(seen)


def recolor_body(body: str, mapping: Callable[[tuple[int, int, int]], tuple[int, int, int]]
                 ) -> str:
    """The body with every #hex colour replaced by ``mapping(rgb)``: a vector recolour, so
    the result stays sharp at any size."""
    cache: dict[str, str] = {}

    def sub(m: re.Match) -> str:
        key = m.group(0).lower()
        if key not in cache:
            r, g, b = mapping(_hex_to_rgb(key))
            cache[key] = f"#{r:02x}{g:02x}{b:02x}"
        return cache[key]

    return _HEX.sub(sub, body)


def svg_document(icon: dict, size: tuple[int, int], body: str | None = None,
                 fill: tuple[int, int, int] | None = None) -> str:
    """A standalone SVG of ``icon`` scaled to ``size`` pixels (aspect kept by the caller).

    ``fill`` replaces ``currentColor`` (mono sets); colour sets keep their own paints."""
    body = icon["body"] if body is None else body
    if fill is not None:
        body = body.replace("currentColor", "#%02x%02x%02x" % fill)
    else:
        body = body.replace("currentColor", "#000000")
    if icon["hFlip"]:
        body = (f'<g transform="translate({icon["left"] * 2 + icon["width"]} 0) scale(-1 1)">'
                f"{body}</g>")
    return ('<svg xmlns="http://www.w3.org/2000/svg" '
            'xmlns:xlink="http://www.w3.org/1999/xlink" '
            f'viewBox="{icon["left"]} {icon["top"]} {icon["width"]} {icon["height"]}" '
            f'width="{size[0]}" height="{size[1]}" preserveAspectRatio="xMidYMid meet">'
            f"{body}</svg>")


def rasterise_svg(svg: str) -> "Image.Image":
    """An SVG document → RGBA pixels (straight alpha), drawn by resvg."""
    import io

    from PIL import Image

    png = _resvg().svg_to_bytes(svg_string=svg, skip_system_fonts=True)
    img = Image.open(io.BytesIO(bytes(png)))
    img.load()
    return img.convert("RGBA") if img.mode != "RGBA" else img


def fit_size(icon: dict, box: tuple[int, int]) -> tuple[int, int]:
    """The largest (w, h) with the icon's viewBox aspect inside ``box`` (never larger)."""
    scale = min(box[0] / icon["width"], box[1] / icon["height"])
    return (max(1, min(box[0], int(icon["width"] * scale + 1e-6))),
            max(1, min(box[1], int(icon["height"] * scale + 1e-6))))


@lru_cache(maxsize=4096)
def _ink_view(prefix: str, name: str) -> tuple[float, float, float, float] | None:
    """The icon's ink bounds in viewBox units (left, top, width, height), read from a small
    rasterisation and padded by one of its pixels: drawing this view puts the ink edge to
    edge in one pass."""
    icon = resolve(prefix, name)
    probe = 128
    size = fit_size(icon, (probe, probe))
    img = rasterise_svg(svg_document(icon, size))
    bbox = img.getchannel("A").getbbox()
    if bbox is None:
        return None
    sx, sy = icon["width"] / size[0], icon["height"] / size[1]
    x0, y0 = max(0, bbox[0] - 1), max(0, bbox[1] - 1)
    x1, y1 = min(size[0], bbox[2] + 1), min(size[1], bbox[3] + 1)
    return (icon["left"] + x0 * sx, icon["top"] + y0 * sy, (x1 - x0) * sx, (y1 - y0) * sy)


@lru_cache(maxsize=128)  # object_sprite keeps the same images; bound the memory at 4K
def render_icon(prefix: str, name: str, box: tuple[int, int],
                fill: tuple[int, int, int] | None = None,
                recolor: tuple[int, int, int] | None = None) -> "Image.Image | None":
    """One icon rasterised to fit ``box`` (aspect kept), cached per (icon, size, colour).

    Args:
        prefix, name: the icon. box: (w, h) pixels it must fit in.
        fill: the colour of a mono icon's ``currentColor``.
        recolor: move a colour icon's main colour to this RGB by rewriting its SVG paints
            (render.sprites.vector_color_map); None keeps the icon's own colours.
    Returns:
        An RGBA image cropped to its ink, or None when the icon is not available.
    """
    icon = resolve(prefix, name)
    if icon is None or _resvg() is None:
        return None
    view = _ink_view(prefix, name)
    if view is None:
        return None
    body = icon["body"]
    if recolor is not None:
        from render.sprites import vector_color_map

        body = recolor_body(body, vector_color_map(prefix, name, recolor))
    if icon["hFlip"]:  # flip in the icon's own frame, then view the (mirrored) ink box
        body = (f'<g transform="translate({icon["left"] * 2 + icon["width"]} 0) scale(-1 1)">'
                f"{body}</g>")
        view = (icon["left"] * 2 + icon["width"] - view[0] - view[2], view[1], view[2], view[3])
    cropped = dict(icon, left=view[0], top=view[1], width=view[2], height=view[3], hFlip=False)
    img = rasterise_svg(svg_document(cropped, fit_size(cropped, box), body, fill))
    bbox = img.getchannel("A").getbbox()
    return img.crop(bbox) if bbox else None


@lru_cache(maxsize=8)
def categories(prefix: str) -> dict[str, str]:
    """Icon name → its category in the set's metadata.json ({} when it has none)."""
    d = set_dir(prefix)
    try:
        with open(d / "metadata.json", encoding="utf-8") as f:
            cats = json.load(f).get("categories", {})
    except (OSError, TypeError, ValueError):
        return {}
    return {n: c for c, members in cats.items() for n in members}


SCENE_CATEGORIES = {"Travel & Places"}


@lru_cache(maxsize=4096)
def is_picture_tile(prefix: str, name: str) -> bool:
    """True when the icon is a framed scene (🏞, 🌅, 🏙, 🛣): a place drawn edge to edge in a
    rounded square, not an object that can stand in an image. Read from the pixels: the ink
    fills its square (≥ 85% of the viewBox each way, > 90% of its bounding box)."""
    import numpy as np

    if categories(prefix).get(name) not in SCENE_CATEGORIES:
        return False
    icon = resolve(prefix, name)
    if icon is None or _resvg() is None:
        return False
    img = rasterise_svg(svg_document(icon, (48, 48)))
    bbox = img.getchannel("A").getbbox()
    if bbox is None:
        return False
    w, h = bbox[2] - bbox[0], bbox[3] - bbox[1]
    a = np.asarray(img.getchannel("A").crop(bbox), dtype=np.float32) / 255.0
    return w >= 0.85 * img.width and h >= 0.85 * img.height and float((a > 0.5).mean()) > 0.9


def credit(prefix: str) -> str:
    """The credit line of a set: "Twemoji by Twitter, Inc. and other contributors, CC-BY-4.0
    (https://github.com/jdecked/twemoji)"."""
    s = SETS[prefix]
    return f"{s.title} by {s.author}, {s.licence} ({s.source})"


def attribution() -> list[dict]:
    """Each installed set: prefix, title, licence, source and the installed version."""
    out = []
    for prefix, s in SETS.items():
        if set_dir(prefix) is None:
            continue
        info = set_info(prefix)
        out.append({"prefix": prefix, "title": s.title, "licence": s.licence,
                    "source": s.source, "version": str(info.get("version", ""))})
    return out
