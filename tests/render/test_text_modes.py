"""Text modes (render/text_modes.py): exact, native, and auto (native checked by OCR)."""

import numpy as np
import pytest
from PIL import Image

from planner.schema import Background, Canvas, ObjectElement, Plan, TextElement
from render.harmonise import apply_text
from render.text_modes import finish_texts, reads_as


def _plan(*texts):
    els = (ObjectElement(id="apple-1", label="apple", color="red", box=(0.3, 0.55, 0.7, 0.95)),
           *texts)
    return Plan(elements=els, canvas=Canvas(width=256, height=256, background=Background(
        kind="color", color="white")))


SIGN = TextElement(id="t1", content="HELLO", box=(0.1, 0.05, 0.9, 0.35), color="black")


def _scribbles(size=(256, 256)):
    """What a tiny random model draws: coloured noise, no letters."""
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8), "RGB")


def test_exact_draws_every_text_with_the_engine():
    plan = _plan(SIGN)
    out, report = finish_texts(_scribbles(), plan, "exact", native_text=True)
    assert report == [{"id": "t1", "text": "HELLO", "mode": "exact",
                       "drawn_by": "text engine", "ocr": None}]
    assert np.array_equal(np.asarray(out), np.asarray(apply_text(_scribbles(), plan)))


def test_native_leaves_the_model_alone():
    before = _scribbles()
    out, report = finish_texts(before, _plan(SIGN), "native", native_text=True)
    assert report[0]["drawn_by"] == "model" and report[0]["mode"] == "native"
    assert np.array_equal(np.asarray(out.convert("RGB")), np.asarray(before))


def test_auto_overlays_a_text_the_model_scribbled():
    before = _scribbles()
    out, report = finish_texts(before, _plan(SIGN), "auto", native_text=True)
    assert report[0]["drawn_by"] == "text engine" and report[0]["mode"] == "auto"
    assert report[0]["ocr"] != "HELLO"
    assert not np.array_equal(np.asarray(out.convert("RGB")), np.asarray(before))


def test_auto_leaves_a_text_that_already_reads_right():
    """The model's output already shows the text (here drawn by the text engine, as a model
    that renders text well would): OCR reads it back and nothing is drawn over it."""
    plan = _plan(SIGN)
    right = apply_text(Image.new("RGB", (256, 256), "white"), plan).convert("RGB")
    out, report = finish_texts(right, plan, "auto", native_text=True)
    assert report[0]["drawn_by"] == "model" and report[0]["ocr"] == "HELLO"
    assert np.array_equal(np.asarray(out.convert("RGB")), np.asarray(right))


def test_auto_redraws_only_the_texts_that_read_wrong():
    good = TextElement(id="t1", content="OPEN", box=(0.1, 0.05, 0.9, 0.3))
    bad = TextElement(id="t2", content="SALE", box=(0.1, 0.32, 0.9, 0.5))
    plan = _plan(good, bad)
    readings = {"t1": "OPEN", "t2": "SA1E"}
    out, report = finish_texts(_scribbles(), plan, "auto", native_text=True,
                               reader=lambda image, el: readings[el.id])
    assert [r["drawn_by"] for r in report] == ["model", "text engine"]
    only_bad = plan.model_copy(update={"elements": tuple(e for e in plan.elements
                                                         if e.id != "t1")})
    assert np.array_equal(np.asarray(out), np.asarray(apply_text(_scribbles(), only_bad)))


@pytest.mark.parametrize("mode", ["auto", "native"])
def test_families_without_native_text_always_run_exact(mode):
    out, report = finish_texts(_scribbles(), _plan(SIGN), mode, native_text=False,
                               reader=lambda *a: pytest.fail("no OCR without native text"))
    assert report[0] == {"id": "t1", "text": "HELLO", "mode": "exact",
                         "drawn_by": "text engine", "ocr": None}


def test_readings_compare_after_normalisation():
    assert reads_as("HELLO  WORLD", "HELLO WORLD")
    assert reads_as("東京 タワー", "東京タワー")
    assert not reads_as("HELL0", "HELLO") and not reads_as("", "HELLO")
    assert not reads_as("hello", "HELLO")


def test_unknown_mode_is_an_error():
    with pytest.raises(ValueError, match="text must be one of exact, native, auto"):
        finish_texts(_scribbles(), _plan(SIGN), "loud", native_text=True)
