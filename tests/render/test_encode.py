"""Encoding: formats, alpha, compression, metadata round trips, determinism, atomic writes."""

import io
import os

import pytest
from PIL import Image

from planner.schema import Background, Canvas, ObjectElement, Plan, TextElement
from render.draft import DIGITAL_SOURCE_TYPE, DraftRenderer
from render.encode import (NS_IPTC_EXT, check_output, encode_image, read_metadata, read_plan,
                           write_atomic)


def _plan(transparent=False, seed=5):
    bg = Background(kind="transparent") if transparent else Background(kind="scene",
                                                                      scene="beach")
    return Plan(prompt='a poster that says "Tea $2" & <more>', seed=seed,
                canvas=Canvas(width=512, height=384, background=bg),
                elements=(TextElement(id="t1", content="Tea $2 <ok> & “quotes”",
                                      box=(0.05, 0.05, 0.95, 0.3)),
                          ObjectElement(id="o1", label="cup", color="teal",
                                        subject_id="cup-1", box=(0.3, 0.4, 0.7, 0.95))))


def _encode(plan, fmt="png", compression=None, seed=None):
    image = DraftRenderer().render(plan).image
    return encode_image(image, plan, seed=plan.seed if seed is None else seed,
                        renderer="draft", digital_source_type=DIGITAL_SOURCE_TYPE, fmt=fmt,
                        compression=compression)


@pytest.mark.parametrize("fmt,pil", [("png", "PNG"), ("jpeg", "JPEG"), ("webp", "WEBP")])
def test_formats_round_trip_plan_and_metadata(fmt, pil):
    plan = _plan()
    data = _encode(plan, fmt)
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == pil and im.size == (512, 384)
    meta = read_metadata(data)
    assert meta["seed"] == 5 and meta["renderer"] == "draft"
    assert meta["digital_source_type"] == DIGITAL_SOURCE_TYPE
    assert meta["version"] and "AI-generated" in meta["disclosure"]
    assert "Iptc4xmpExt:DigitalSourceType" in meta["xmp"] and NS_IPTC_EXT in meta["xmp"]
    assert read_plan(data) == plan


def test_png_carries_itxt_chunks_and_xmp():
    data = _encode(_plan())
    with Image.open(io.BytesIO(data)) as im:
        text = im.text
    assert text["limner.seed"] == "5" and "XML:com.adobe.xmp" in text
    assert Plan.from_json(text["limner.plan"]) == _plan()
    assert text["limner.digital_source_type"] == DIGITAL_SOURCE_TYPE


@pytest.mark.parametrize("fmt", ["png", "webp"])
def test_transparency_is_kept(fmt):
    data = _encode(_plan(transparent=True), fmt)
    with Image.open(io.BytesIO(data)) as im:
        im = im.convert("RGBA")
        assert im.getpixel((2, 2))[3] == 0
        lo, hi = im.getchannel("A").getextrema()
        assert lo == 0 and hi == 255


def test_jpeg_with_transparency_is_a_clear_error():
    with pytest.raises(ValueError, match="jpeg.*transparent"):
        check_output("jpeg", None, transparent=True)
    with pytest.raises(ValueError, match="transparent"):
        _encode(_plan(transparent=True), "jpeg")


@pytest.mark.parametrize("fmt,compression,match", [
    ("gif", None, "output_format"), ("jpeg", 101, "0 to 100"), ("webp", -1, "0 to 100"),
    ("png", 50, "jpeg and webp only"), ("jpeg", True, "integer")])
def test_bad_output_options_name_the_field(fmt, compression, match):
    with pytest.raises(ValueError, match=match):
        check_output(fmt, compression, transparent=False)


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_compression_trades_size(fmt):
    plan = _plan()
    small, large = _encode(plan, fmt, 10), _encode(plan, fmt, 95)
    assert len(small) < len(large) * 0.6
    assert read_plan(small) == plan


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_same_plan_and_seed_give_identical_bytes(fmt):
    plan = _plan()
    assert _encode(plan, fmt) == _encode(plan, fmt)
    assert _encode(plan, fmt) != _encode(plan, fmt, seed=6)


def test_read_plan_of_a_foreign_image_is_none():
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "PNG")
    assert read_plan(buf.getvalue()) is None
    assert read_metadata(buf.getvalue())["format"] == "png"


def test_write_atomic_refuses_to_overwrite(tmp_path):
    target = tmp_path / "sub" / "out.png"
    assert write_atomic(target, b"one") == str(target)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_atomic(target, b"two")
    assert target.read_bytes() == b"one"
    write_atomic(target, b"three", overwrite=True)
    assert target.read_bytes() == b"three"
    assert os.listdir(target.parent) == ["out.png"]  # no temp files left behind
    assert read_plan(target) is None
