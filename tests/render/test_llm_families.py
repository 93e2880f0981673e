"""The LLM-encoder families (Qwen-Image, Z-Image, FLUX.2 [klein] and [dev]) on their tiny
real-class builds: the Plan reaches the encoder as one structured prompt, the text modes,
a directory's tiers. Every path's dtype and pixels are covered by
tests/render/test_family_contract.py and the directory matching by tests/render/test_families.py,
which run over these builds too."""

import json

import numpy as np
import pytest
from PIL import Image

from limner.api import Limner
from planner.schema import Background, Canvas, ObjectElement, Plan, TextElement
from render.families import get_family
from render.harmonise import apply_text
from render.prompting import structured_prompt


def sign_plan(size=64, seed=3):
    return Plan(seed=seed, canvas=Canvas(width=size, height=size, background=Background(
        kind="color", color="white")), elements=(
        TextElement(id="t1", content="HI", color="black", box=(0.15, 0.05, 0.85, 0.45)),
        ObjectElement(id="apple-1", label="apple", color="red", box=(0.3, 0.55, 0.7, 0.95))))


def test_tiers_are_read_from_what_the_weights_are():
    klein = get_family("flux2-klein")

    class Pipe:
        def __init__(self, distilled):
            self.config = {"is_distilled": distilled}

    assert klein.variant_of(Pipe(True), "x") == "flux2-klein"
    assert klein.variant_of(Pipe(False), "x") == "flux2-klein-base"
    z = get_family("zimage")
    assert z.variant_of(None, "/models/Z-Image-Turbo") == "z-image-turbo"
    assert z.variant_of(None, "/models/Z-Image") == "z-image"


@pytest.fixture(scope="module")
def qwen(tiny_dir):
    return Limner(renderer=tiny_dir("qwenimage"), device="cpu", dtype="bfloat16", steps=2,
                  native=(64, 64))


@pytest.fixture
def encoded(qwen, monkeypatch):
    """Every text the renderer hands the family's encoder."""
    family = qwen.renderer.family
    seen: list[str] = []
    original = family.encode

    def spy(pipe, texts, *args, **kwargs):
        seen.extend(texts)
        return original(pipe, texts, *args, **kwargs)

    monkeypatch.setattr(family, "encode", spy)
    return seen


def test_the_plan_reaches_the_encoder_as_one_structured_prompt(qwen, encoded):
    plan = sign_plan()
    qwen.generate(plan=plan, text="native")
    assert encoded[0] == structured_prompt(plan, "native")
    assert '"HI"' in encoded[0] and "across the top" in encoded[0]
    # native text: the negative prompt no longer steers the model away from letters
    negative = encoded[-1]
    assert negative != encoded[0] and "letters" not in negative and "blurry" in negative
    encoded.clear()
    qwen.generate(plan=plan, text="exact")
    assert "HI" not in encoded[0] and "draw no text" in encoded[0]
    assert "letters" in encoded[-1]


def test_auto_overlays_what_a_tiny_model_scribbles(qwen):
    """A random-init model draws no legible "HI": OCR finds it wrong, the engine draws it."""
    out = qwen.generate(plan=sign_plan(), text="auto")[0]
    report = out.texts
    assert report[0]["mode"] == "auto" and report[0]["drawn_by"] == "text engine"
    assert report[0]["ocr"] != "HI"
    saved = Image.open(__import__("io").BytesIO(out.data))
    assert tuple(json.loads(saved.info["limner.texts"])) == report    # in the metadata


def test_auto_keeps_a_text_the_model_drew_right(qwen, monkeypatch):
    """The sampler returns a picture already showing the text (drawn here by the text
    engine, as a model that renders text well would): it is read back and left alone."""
    plan = sign_plan(size=64)
    shown = apply_text(Image.new("RGB", (64, 64), "white"), plan).convert("RGB")
    r = qwen.renderer
    monkeypatch.setattr(r, "sample", lambda *a, **k: (np.asarray(shown, np.float32)
                                                      / 255.0)[None])
    out = qwen.generate(plan=plan, text="auto")[0]
    assert out.texts[0]["drawn_by"] == "model" and out.texts[0]["ocr"] == "HI"
    assert np.array_equal(np.asarray(out.image), np.asarray(shown))
    # exact mode draws over it anyway; native leaves it without reading it
    assert qwen.generate(plan=plan, text="exact")[0].texts[0]["drawn_by"] == "text engine"
    native = qwen.generate(plan=plan, text="native")[0].texts[0]
    assert native["drawn_by"] == "model" and native["ocr"] is None


def test_a_family_without_native_text_reports_exact(tmp_path):
    out = Limner().generate('a sign that says "HI"', size="256x256", text="native")[0]
    assert [t["drawn_by"] for t in out.texts] == ["text engine"]
    assert out.texts[0]["mode"] == "exact"


def test_bad_text_mode_is_a_clear_error():
    from limner.api import LimnerError

    with pytest.raises(LimnerError, match="text must be one of exact, native, auto") as e:
        Limner().generate("a cup", text="loud")
    assert e.value.param == "text"


def test_cli_text_option_and_explain(tmp_path, capsys):
    from limner.cli import main

    assert main(["generate", 'a sign that says "HI"', "--text", "loud",
                 "-o", str(tmp_path / "a.png")]) == 2
    assert main(["plan", 'a sign that says "HI" above a red apple', "--explain",
                 "--renderer", "z-image-turbo"]) == 0
    said = capsys.readouterr().out
    assert "--renderer z-image-turbo reads:" in said and 'the text "HI"' in said
    assert main(["plan", 'a sign that says "HI" above a red apple', "--explain",
                 "--renderer", "flux2-dev", "--text", "exact"]) == 0
    said = capsys.readouterr().out
    assert '"HI"' not in said.split("reads:")[1] and "Text areas" in said
    assert main(["plan", "a red apple left of a cup", "--explain", "--renderer", "sdxl"]) == 0
    said = capsys.readouterr().out
    assert "segment 0 (everywhere)" in said and "(inside [" in said
