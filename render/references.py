"""Reference images (1–16) and input images: validation, cut-outs, backdrops.

Every image a user hands in (an image to edit, a mask, a reference) goes through
``open_image``: at most 50 MB, PNG/JPEG/WebP only (by content, not by name), a
decompression-bomb guard on the declared pixel count before any pixel is decoded, and a full
decode so a truncated file fails here with a clear message instead of deep in a renderer.

A reference either stands for an object (``ObjectElement.reference``: its sprite, the
background removed when it has alpha or a uniform border) or is the backdrop
(``Background.reference``). ``input_fidelity`` says how closely the output keeps it.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

from render.base import RenderError

if TYPE_CHECKING:
    from PIL import Image

MAX_REFERENCES = 16
MAX_BYTES = 50 * 1024 * 1024
FORMATS = ("png", "jpeg", "webp")
# 40 MP: above any canvas limner makes (3840x2160 = 8.3 MP) with room for camera photos; a
# file declaring more is refused before decoding (a few KB can declare gigapixels).
MAX_PIXELS = 40_000_000
FIDELITIES = ("low", "high")


class ImageInputError(RenderError):
    """An input image that cannot be used; ``param`` names the field (e.g. ``references[3]``)."""

    def __init__(self, message: str, param: str = "image"):
        super().__init__(message)
        self.param = param


@dataclass(frozen=True)
class Fidelity:
    """What ``input_fidelity`` means to each renderer.

    stylise: the draft renderer flattens a reference's colours to sit with its sprites.
    strength: img2img denoising strength from a reference (lower keeps more of it).
    ip_adapter_scale: weight of IP-Adapter image conditioning when configured.
    """

    stylise: bool
    strength: float
    ip_adapter_scale: float


FIDELITY = {"high": Fidelity(stylise=False, strength=0.35, ip_adapter_scale=0.8),
            "low": Fidelity(stylise=True, strength=0.65, ip_adapter_scale=0.5)}


def fidelity(name: str) -> Fidelity:
    """Raises ImageInputError for a name other than low|high."""
    if name not in FIDELITY:
        raise ImageInputError(f"input_fidelity must be one of {', '.join(FIDELITIES)}; "
                              f"got {name!r}", "input_fidelity")
    return FIDELITY[name]


def read_bytes(item: Any, param: str) -> bytes:
    """Bytes of a path, bytes or binary file object, refusing more than MAX_BYTES."""
    if isinstance(item, (bytes, bytearray, memoryview)):
        data = bytes(item)
    elif isinstance(item, (str, os.PathLike)):
        try:
            size = os.path.getsize(item)
        except OSError as e:
            raise ImageInputError(f"{param}: cannot read {os.fspath(item)!r}: "
                                  f"{e.strerror or e}", param) from None
        if size > MAX_BYTES:
            raise ImageInputError(f"{param}: {size} bytes is over the limit of 50 MB", param)
        with open(item, "rb") as fh:
            data = fh.read()
    elif hasattr(item, "read"):
        data = item.read(MAX_BYTES + 1)
    else:
        raise ImageInputError(f"{param}: expected an image file path, bytes or a PIL image; "
                              f"got {type(item).__name__}", param)
    if len(data) > MAX_BYTES:
        raise ImageInputError(f"{param}: {len(data)} bytes is over the limit of 50 MB", param)
    if not data:
        raise ImageInputError(f"{param}: the file is empty", param)
    return data


def open_image(item: Any, param: str = "image") -> "Image.Image":
    """Open and fully decode one user image, enforcing the input rules.

    Args:
        item: a path, bytes, a binary file object or a PIL image.
        param: the field name used in error messages.
    Returns:
        A loaded PIL image (its ``format`` attribute kept: png | jpeg | webp).
    Raises:
        ImageInputError: too large, not PNG/JPEG/WebP, too many pixels, or unreadable.
    """
    from PIL import Image

    if isinstance(item, Image.Image):
        check_pixels(item.size, param)
        return item
    data = read_bytes(item, param)
    try:
        im = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise _bomb(param) from None
    except (OSError, ValueError, SyntaxError):
        raise ImageInputError(f"{param}: not a readable image (PNG, JPEG or WebP expected)",
                              param) from None
    fmt = (im.format or "").lower()
    if fmt not in FORMATS:
        raise ImageInputError(f"{param}: format {fmt or 'unknown'!r} is not accepted; use "
                              f"{', '.join(FORMATS)}", param)
    check_pixels(im.size, param)
    try:
        im.load()
    except Image.DecompressionBombError:
        raise _bomb(param) from None
    except (OSError, ValueError, SyntaxError) as e:
        raise ImageInputError(f"{param}: the {fmt} file is damaged or truncated ({e})",
                              param) from None
    return im


def _bomb(param: str) -> ImageInputError:
    return ImageInputError(f"{param}: declares more than {MAX_PIXELS} pixels "
                           "(decompression-bomb guard)", param)


def check_pixels(size: tuple[int, int], param: str) -> None:
    """The one pixel cap for user images (CLI, Python API and server): ImageInputError
    naming ``param`` above MAX_PIXELS or for an image without pixels."""
    w, h = size
    if w * h > MAX_PIXELS:
        raise ImageInputError(f"{param}: {w}x{h} is {w * h} pixels, over the limit of "
                              f"{MAX_PIXELS} (decompression-bomb guard)", param)
    if w < 1 or h < 1:
        raise ImageInputError(f"{param}: the image has no pixels", param)


def load_references(items: Sequence[Any]) -> list["Image.Image"]:
    """Validate and open 0–16 reference images.

    Returns:
        The opened images, in order (``ObjectElement.reference`` indexes them).
    Raises:
        ImageInputError: more than 16 images, or one that breaks the input rules.
    """
    items = list(items or ())
    if len(items) > MAX_REFERENCES:
        raise ImageInputError(f"references: {len(items)} images given; at most "
                              f"{MAX_REFERENCES} are accepted", "references")
    return [open_image(item, f"references[{i}]") for i, item in enumerate(items)]


def encoded(im: "Image.Image") -> tuple[bytes, str]:
    """An opened image as file bytes and format (PNG for images made in memory)."""
    fmt = (getattr(im, "format", None) or "").lower()
    fmt = fmt if fmt in FORMATS else "png"
    buf = io.BytesIO()
    im.save(buf, {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}[fmt],
            **({"quality": 95} if fmt != "png" else {}))
    return buf.getvalue(), fmt


# --- cut-outs ----------------------------------------------------------------------------

def _uniform_border(rgb: "Image.Image", tolerance: int) -> tuple[int, int, int] | None:
    """The border colour when every border pixel is within ``tolerance`` of the median."""
    import numpy as np

    a = np.asarray(rgb, dtype=np.int16)
    border = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
    med = np.median(border, axis=0)
    if np.abs(border - med).max() > tolerance:
        return None
    return tuple(int(v) for v in med)


def cutout(ref: "Image.Image", tolerance: int = 24) -> "Image.Image":
    """The reference as an RGBA sprite cropped to its subject.

    Alpha present → kept as is; a uniform border → that colour is flood-filled away from
    the edges (so same-coloured pixels inside the subject stay); else the subject GrabCut
    finds (render/photo.py), or the whole image when none stands out.
    """
    import numpy as np
    from PIL import Image

    im = ref.convert("RGBA")
    alpha = np.asarray(im.getchannel("A"))
    if alpha.min() < 255:
        bbox = im.getchannel("A").getbbox()
        return im.crop(bbox) if bbox else im
    rgb = im.convert("RGB")
    if min(rgb.size) < 3:
        return im
    colour = _uniform_border(rgb, tolerance)
    if colour is None:
        from render.photo import segment_cutout

        return segment_cutout(im)
    # Everything the border colour reaches from the edges becomes clear (render/photo.py).
    from render.photo import border_background

    mask = border_background(rgb, tolerance)
    out = np.asarray(im).copy()
    out[mask, 3] = 0
    sprite = Image.fromarray(out, "RGBA")
    bbox = sprite.getchannel("A").getbbox()
    return sprite.crop(bbox) if bbox else im


def reference_sprite(ref: "Image.Image", box: tuple[int, int],
                     input_fidelity: str = "low") -> "Image.Image":
    """A reference drawn as an object: cut out, fitted inside ``box`` (w, h) keeping its
    aspect; with low fidelity its colours are flattened to match the draft's sprites."""
    from PIL import Image, ImageFilter

    sprite = cutout(ref)
    scale = min(box[0] / sprite.width, box[1] / sprite.height)
    size = (max(1, round(sprite.width * scale)), max(1, round(sprite.height * scale)))
    sprite = sprite.resize(size, Image.LANCZOS)
    if fidelity(input_fidelity).stylise:
        alpha = sprite.getchannel("A")
        flat = sprite.convert("RGB").filter(ImageFilter.MedianFilter(3))
        flat = flat.quantize(colors=24, method=Image.Quantize.MEDIANCUT).convert("RGB")
        sprite = flat.convert("RGBA")
        sprite.putalpha(alpha)
    return sprite


def reference_backdrop(ref: "Image.Image", size: tuple[int, int]) -> "Image.Image":
    """A reference drawn as the background: scaled to cover ``size`` and centre-cropped."""
    from PIL import Image

    im = ref.convert("RGBA")
    scale = max(size[0] / im.width, size[1] / im.height)
    scaled = im.resize((max(size[0], round(im.width * scale)),
                        max(size[1], round(im.height * scale))), Image.LANCZOS)
    x = (scaled.width - size[0]) // 2
    y = (scaled.height - size[1]) // 2
    return scaled.crop((x, y, x + size[0], y + size[1]))
