"""Encoding: image → PNG/JPEG/WebP bytes that carry their Plan, seed and an AI disclosure.

Every file says what made it: PNG gets iTXt chunks (``limner.plan``, ``limner.seed``, ...)
and an XMP packet; JPEG and WebP get the same XMP packet. The XMP holds the IPTC
``Iptc4xmpExt:DigitalSourceType`` of the renderer. Nothing time-dependent is written, so the
same image, Plan and seed give byte-identical files (until a signing key is configured).
"""

from __future__ import annotations

import io
import os
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from planner.schema import Plan
from render.base import RenderError

if TYPE_CHECKING:
    from PIL import Image

FORMATS = ("png", "jpeg", "webp")
DEFAULT_QUALITY = 92          # jpeg/webp quality when no compression is given
# zlib level for PNG (scripts/bench_render.py --png-levels, a 4K draft): level 4 took 0.78x
# the time of Pillow's default 6 for 1.05x the bytes, level 1 0.50x the time for 1.37x. Level 3
# is the last of zlib's fast (greedy) levels: on a 1024x1024 draft the lead measured 39 ms /
# 180 KiB against level 4's 57 ms / 157 KiB and level 1's 37 ms / 194 KiB, and encoding is
# over half of a served draft image's cost (scripts/bench_server.py).
PNG_LEVEL = 3
NS_LIMNER = "https://limner.example/ns/1.0/"
NS_IPTC_EXT = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
NS_XMP = "http://ns.adobe.com/xap/1.0/"
NS_DC = "http://purl.org/dc/elements/1.1/"
NS_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_JPEG_XMP_LIMIT = 65502       # one APP1 segment


def check_output(fmt: str, compression: int | None, transparent: bool) -> None:
    """Validate output options before any work is done.

    Args:
        fmt: png | jpeg | webp.
        compression: None, or 0-100 for jpeg/webp (as OpenAI's ``output_compression``:
            100 keeps the most detail, lower values give smaller files).
        transparent: whether the image has a transparent background.
    Raises:
        ValueError: naming the field and the allowed values.
    """
    if fmt not in FORMATS:
        raise ValueError(f"output_format must be one of {', '.join(FORMATS)}; got {fmt!r}")
    if compression is not None:
        if isinstance(compression, bool) or not isinstance(compression, int) \
                or not 0 <= compression <= 100:
            raise ValueError(f"output_compression must be an integer from 0 to 100; "
                             f"got {compression!r}")
        if fmt == "png":
            raise ValueError("output_compression applies to jpeg and webp only, "
                             "not png (png is lossless)")
    if transparent and fmt == "jpeg":
        raise ValueError("output_format jpeg cannot keep a transparent background; "
                         "use png or webp, or background opaque")


def disclosure(renderer: str, digital_source_type: str) -> str:
    """The human-readable AI-generation notice stored in every file."""
    return (f"AI-generated image: made by limner ({renderer} renderer) from a machine-made "
            f"plan; not a photograph. IPTC digital source type: {digital_source_type}")


def _version() -> str:
    """The installed limner's version (from its package metadata: render/ does not import
    the front door)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("limner")
    except PackageNotFoundError:
        return "0+unknown"


def _fields(plan: Plan, seed: int, renderer: str, digital_source_type: str) -> dict[str, str]:
    return {"plan": plan.to_json(indent=None), "seed": str(int(seed)),
            "version": _version(), "renderer": renderer,
            "digital_source_type": digital_source_type,
            "disclosure": disclosure(renderer, digital_source_type)}


def build_xmp(fields: dict[str, str]) -> bytes:
    """An XMP packet with the IPTC digital source type, the disclosure and limner's fields."""
    own = "".join(f"<limner:{k}>{escape(fields[k])}</limner:{k}>"
                  for k in ("seed", "renderer", "version", "plan", "drawn", "texts")
                  if k in fields)
    text = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        f'<rdf:RDF xmlns:rdf="{NS_RDF}">'
        f'<rdf:Description rdf:about="" xmlns:Iptc4xmpExt="{NS_IPTC_EXT}" '
        f'xmlns:xmp="{NS_XMP}" xmlns:dc="{NS_DC}" xmlns:limner="{NS_LIMNER}">'
        f'<Iptc4xmpExt:DigitalSourceType>{escape(fields["digital_source_type"])}'
        '</Iptc4xmpExt:DigitalSourceType>'
        f'<xmp:CreatorTool>limner {escape(fields["version"])}</xmp:CreatorTool>'
        '<dc:description><rdf:Alt><rdf:li xml:lang="x-default">'
        f'{escape(fields["disclosure"])}</rdf:li></rdf:Alt></dc:description>'
        f'{own}</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>')
    return text.encode("utf-8")


def _png_info(fields: dict[str, str], xmp: bytes):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_itxt("Software", f"limner {fields['version']}")
    info.add_itxt("Description", fields["disclosure"])
    for key in ("plan", "seed", "renderer", "version", "digital_source_type", "drawn",
                "texts"):
        if key in fields:
            info.add_itxt(f"limner.{key}", fields[key], zip=key in ("plan", "drawn"))
    info.add_itxt("XML:com.adobe.xmp", xmp.decode("utf-8"))
    return info


def encode_image(image: "Image.Image", plan: Plan, *, seed: int, renderer: str,
                 digital_source_type: str, fmt: str = "png",
                 compression: int | None = None, ingredients: Any = ()) -> bytes:
    """Encode one image with its metadata.

    Args:
        image: RGB, or RGBA for a transparent Plan.
        plan: the Plan it was drawn from (embedded as JSON).
        seed: the seed it was drawn with. renderer: the renderer's name.
        digital_source_type: the IPTC digital source type URI of the renderer.
        fmt: png | jpeg | webp. compression: 0-100 for jpeg/webp (100 = best quality).
        ingredients: what an edit was made from (render.provenance.Ingredient: the parent
            image and references), or a function making them; signed in when a key is set.
    Returns:
        The file's bytes.
    Raises:
        ValueError: for bad output options (see :func:`check_output`).
    """
    check_output(fmt, compression, plan.transparent and image.mode == "RGBA")
    fields = _fields(plan, seed, renderer, digital_source_type)
    if image.info.get("limner.drawn"):  # what each object became (render/draft.py)
        fields["drawn"] = str(image.info["limner.drawn"])
    if image.info.get("limner.texts"):  # who drew each text (render/text_modes.py)
        fields["texts"] = str(image.info["limner.texts"])
    xmp = build_xmp(fields)
    keep_alpha = plan.transparent and fmt != "jpeg"
    mode = "RGBA" if keep_alpha else "RGB"
    pixels = image if image.mode == mode else image.convert(mode)
    quality = DEFAULT_QUALITY if compression is None else compression
    buf = io.BytesIO()
    if fmt == "png":
        pixels.save(buf, "PNG", pnginfo=_png_info(fields, xmp), compress_level=PNG_LEVEL)
    elif fmt == "jpeg":
        if len(xmp) > _JPEG_XMP_LIMIT:
            raise RenderError(f"the Plan is too large for JPEG metadata ({len(xmp)} bytes "
                              f"of XMP, limit {_JPEG_XMP_LIMIT}); use png or webp")
        # 4:4:4 chroma at high quality keeps coloured text edges crisp.
        pixels.save(buf, "JPEG", quality=quality, subsampling=0 if quality >= 85 else 2,
                    xmp=xmp)
    else:
        pixels.save(buf, "WEBP", quality=quality, method=4, xmp=xmp)
    from render.provenance import sign_if_configured

    # C2PA: signed only when a key is configured; otherwise the bytes stay deterministic.
    return sign_if_configured(buf.getvalue(), fmt, plan, digital_source_type, ingredients)


def _open(path_or_bytes: str | os.PathLike | bytes) -> "Image.Image":
    from PIL import Image

    if isinstance(path_or_bytes, (bytes, bytearray)):
        return Image.open(io.BytesIO(path_or_bytes))
    return Image.open(path_or_bytes)


def _parse_xmp(xmp: bytes | str) -> dict[str, str]:
    text = xmp.decode("utf-8", "replace") if isinstance(xmp, bytes) else xmp
    try:
        root = ET.fromstring(text.strip().strip("\x00"))
    except ET.ParseError:
        return {}
    out: dict[str, str] = {}
    for el in root.iter():
        if el.tag.startswith("{" + NS_LIMNER + "}"):
            out[el.tag.split("}", 1)[1]] = el.text or ""
        elif el.tag == "{" + NS_IPTC_EXT + "}DigitalSourceType":
            out["digital_source_type"] = (el.text or "").strip()
        elif el.tag == "{" + NS_RDF + "}li" and "disclosure" not in out:
            out["disclosure"] = el.text or ""
    return out


def read_metadata(path_or_bytes: str | os.PathLike | bytes) -> dict:
    """What a limner file says about itself.

    Args:
        path_or_bytes: a file path or the file's bytes (png, jpeg or webp).
    Returns:
        A dict with ``format`` and, when present, ``plan`` (JSON text), ``seed`` (int),
        ``version``, ``renderer``, ``digital_source_type``, ``disclosure`` and ``xmp``.
    """
    with _open(path_or_bytes) as im:
        info = dict(im.info)
        text = dict(getattr(im, "text", {}) or {})
        fmt = (im.format or "").lower()
    meta: dict = {"format": fmt}
    xmp = info.get("xmp") or text.get("XML:com.adobe.xmp") or info.get("XML:com.adobe.xmp")
    if xmp:
        meta["xmp"] = xmp.decode("utf-8", "replace") if isinstance(xmp, bytes) else xmp
        meta.update(_parse_xmp(xmp))
    for key, value in text.items():
        if key.startswith("limner."):
            meta[key[len("limner."):]] = str(value)
    if "Description" in text and "disclosure" not in meta:
        meta["disclosure"] = str(text["Description"])
    if "seed" in meta:
        try:
            meta["seed"] = int(meta["seed"])
        except ValueError:
            meta.pop("seed")
    return meta


def read_plan(path_or_bytes: str | os.PathLike | bytes) -> Plan | None:
    """The Plan embedded in a limner file, or None when there is none (or it is invalid)."""
    try:
        meta = read_metadata(path_or_bytes)
    except (OSError, ValueError):
        return None
    try:
        return Plan.from_json(meta["plan"]) if meta.get("plan") else None
    except ValueError:
        return None


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: str | os.PathLike, data: bytes, overwrite: bool = False) -> str:
    """Write ``data`` to ``path`` through a temporary file in the same directory, so a
    reader never sees a half-written file.

    Args:
        path: destination (parent directories are created).
        data: the bytes. overwrite: replace an existing file.
    Returns:
        The path written, as a string.
    Raises:
        FileExistsError: when the file exists and ``overwrite`` is False.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; pass overwrite=True to replace it")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if overwrite:
            os.replace(tmp, target)
        else:
            # link() refuses an existing name: no race with a file created meanwhile.
            try:
                os.link(tmp, target)
            except FileExistsError:
                raise FileExistsError(
                    f"{target} exists; pass overwrite=True to replace it") from None
            except OSError:  # filesystems without hard links
                os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return str(target)
