"""render.references: 1-16 references, input-image rules, cut-outs, draft use."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from limner.api import Limner, LimnerError
from planner.schema import Background, Canvas, ObjectElement, Plan
from render.base import RenderOptions
from render.draft import DraftRenderer
from render.references import (
    MAX_BYTES, ImageInputError, cutout, fidelity, load_references, open_image,
    reference_backdrop, reference_sprite,
)


def _png(size=(8, 8), color=(200, 30, 30), mode="RGB", fmt="PNG") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, color).save(buf, fmt)
    return buf.getvalue()


def _bomb_png(width: int, height: int) -> bytes:
    """A few bytes of PNG that declare ``width x height`` pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def test_sixteen_references_accepted_seventeen_rejected():
    refs = [_png(color=(i * 15, 0, 0)) for i in range(16)]
    assert len(load_references(refs)) == 16
    with pytest.raises(ImageInputError, match="17 images given; at most 16") as e:
        load_references(refs + [_png()])
    assert e.value.param == "references"
    assert load_references(()) == []


def test_each_rule_is_a_clear_error_naming_the_reference(tmp_path):
    big = tmp_path / "big.png"
    with open(big, "wb") as fh:                 # sparse: no 50 MB actually written
        fh.truncate(MAX_BYTES + 1)
    with pytest.raises(ImageInputError, match=r"references\[1\]: .* over the limit of 50 MB"):
        load_references([_png(), str(big)])
    with pytest.raises(ImageInputError, match="over the limit of 50 MB"):
        open_image(b"\0" * (MAX_BYTES + 1))
    for w, h in ((8000, 6000), (20000, 20000)):    # ours, and Pillow's own limit
        with pytest.raises(ImageInputError, match="decompression-bomb guard"):
            open_image(_bomb_png(w, h), "references[0]")
    with pytest.raises(ImageInputError, match="format 'gif' is not accepted"):
        open_image(_png(fmt="GIF", mode="P", color=1))
    with pytest.raises(ImageInputError, match="not a readable image"):
        open_image(b"hello, not an image")
    with pytest.raises(ImageInputError, match="damaged or truncated"):
        open_image(_png(size=(64, 64))[:-40])
    with pytest.raises(ImageInputError, match="cannot read"):
        open_image(str(tmp_path / "missing.png"))
    with pytest.raises(ImageInputError, match="input_fidelity must be one of low, high"):
        fidelity("medium")
    for fmt, mode in (("JPEG", "RGB"), ("WEBP", "RGB"), ("PNG", "RGBA")):
        assert open_image(_png(fmt=fmt, mode=mode, color=(1, 2, 3))).format == fmt


def _disc_on(background, size=64, alpha=False) -> Image.Image:
    from PIL import ImageDraw

    im = Image.new("RGBA" if alpha else "RGB", (size, size), background)
    ImageDraw.Draw(im).ellipse((16, 16, 47, 47), fill=(20, 120, 220, 255) if alpha
                               else (20, 120, 220))
    return im


def test_cutout_removes_a_uniform_border_or_keeps_alpha():
    sprite = cutout(_disc_on((250, 250, 250)))
    assert sprite.size == (32, 32)
    a = np.asarray(sprite.getchannel("A"))
    assert a[0, 0] == 0 and a[16, 16] == 255
    assert cutout(_disc_on((0, 0, 0, 0), alpha=True)).size == (32, 32)
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 30, 3), np.uint8))
    kept = cutout(noise)
    assert kept.size == (30, 40) and np.asarray(kept.getchannel("A")).min() == 255


def test_sprite_fits_its_box_and_fidelity_changes_colours():
    ref = _disc_on((255, 255, 255), size=128)
    high = reference_sprite(ref, (50, 80), "high")
    assert high.size == (50, 50)
    low = reference_sprite(Image.fromarray(
        np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)), (64, 64), "low")
    assert len(set(map(tuple, np.asarray(low.convert("RGB")).reshape(-1, 3)))) <= 24
    assert reference_backdrop(ref, (96, 48)).size == (96, 48)


def test_draft_draws_a_reference_as_an_object_and_as_the_backdrop():
    plan = Plan(quality="low", canvas=Canvas(width=128, height=128, background=Background(
        kind="color", color="white", reference=1)), elements=(
        ObjectElement(id="thing-1", box=(0.25, 0.25, 0.75, 0.75), label="thing", reference=0),))
    refs = (_disc_on((255, 255, 255), size=128), Image.new("RGB", (300, 200), (10, 200, 10)))
    img = DraftRenderer().render(plan, RenderOptions(
        references=refs, extra={"input_fidelity": "high"})).image
    px = np.asarray(img)
    assert tuple(px[64, 64]) == (20, 120, 220)      # the reference's disc, centre of the box
    assert tuple(px[2, 2]) == (10, 200, 10)         # the backdrop reference


def test_limner_edit_binds_a_reference_and_reports_bad_ones():
    lim = Limner()
    base = Plan(quality="low", canvas=Canvas(width=128, height=128))
    res = lim.edit("add the lamp from reference 1", plan=base,
                   references=[_disc_on((255, 255, 255))], input_fidelity="high")
    lamp = [e for e in res.plan.objects if e.label == "lamp"][0]
    assert lamp.reference == 0
    x0, y0, x1, y1 = (int(v * 128) for v in lamp.box)
    colours = np.asarray(res.image)[y0:y1, x0:x1].reshape(-1, 3)
    assert (np.abs(colours.astype(int) - (20, 120, 220)).sum(axis=1) < 10).any()
    with pytest.raises(LimnerError, match="at most 16") as e:
        lim.edit("add a lamp", plan=base, references=[_png()] * 17)
    assert e.value.param == "references"
    with pytest.raises(LimnerError, match="input_fidelity"):
        lim.edit("add a lamp", plan=base, input_fidelity="max")
