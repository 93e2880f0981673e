"""One model load: the planner decodes with the LM the loaded image pipeline already holds.

Tiny builds of the real classes: FLUX.2 [klein] holds a Qwen3ForCausalLM, Qwen-Image a
Qwen2.5-VL; Z-Image's Qwen3Model (no language head) and GLM-Image's generator (a head over
image codes only) are not language models to plan with.
"""

import functools
from dataclasses import replace
from types import SimpleNamespace

import pytest
from PIL import Image

from model.llm import ReplyLimits
from model.shared_lm import find_language_model

LIMITS = ReplyLimits(thinking_chars=0, objects=1, name_chars=4, attributes=0,
                     attribute_chars=4, relations=0, style_chars=0)


def _pipe(module_name: str, cls: str, *args):
    import importlib

    import diffusers
    import torch

    torch.manual_seed(0)
    comps = importlib.import_module(f"model.tiny_builds.{module_name}").build(*args)
    pipe = getattr(diffusers, cls)(**comps)
    return pipe.to(dtype=torch.bfloat16)


@pytest.fixture(scope="module")
def klein():
    """FLUX.2 [klein]'s real classes with a 2-layer Qwen3ForCausalLM: the planner only
    decodes text (drawing would read layer 27, which the tiny renderer tests cover)."""
    import diffusers
    import torch

    from model.tiny_builds import flux2, zimage

    torch.manual_seed(0)
    comps = flux2.build("klein")
    comps["text_encoder"] = zimage.qwen3(comps["tokenizer"], layers=2, causal_lm=True)
    return diffusers.Flux2KleinPipeline(**comps).to(dtype=torch.bfloat16)


def test_language_models_are_found_by_what_they_are(klein):
    found = find_language_model(klein)
    assert found.component == "text_encoder" and found.module is klein.text_encoder
    assert type(found.module).__name__ == "Qwen3ForCausalLM" and not found.vision
    vl = find_language_model(_pipe("qwenimage", "QwenImagePipeline"))
    assert type(vl.module).__name__ == "Qwen2_5_VLForConditionalGeneration" and vl.vision
    assert find_language_model(_pipe("zimage", "ZImagePipeline")) is None       # no head
    assert find_language_model(_pipe("glm_image", "GlmImagePipeline")) is None  # image codes


def test_planner_llm_plans_with_the_renderers_own_module(klein, monkeypatch, tmp_path):
    """No --model: the planner is built on the pipeline's text encoder, the same object
    (no second load, no copy), and decodes a schema-valid reply with it."""
    import torch

    from limner.api import Limner

    monkeypatch.delenv("LIMNER_PLANNER_MODEL", raising=False)
    monkeypatch.setenv("LIMNER_HOME", str(tmp_path))
    lim = Limner(planner="llm", renderer="tiny-klein")
    lim._renderer = SimpleNamespace(pipe=klein)          # the loaded renderer
    before = sum(p.numel() for p in klein.text_encoder.parameters())
    planner = lim.planner
    assert planner.llm.model is klein.text_encoder
    assert planner.model_name == "renderer:tiny-klein:text_encoder"
    planner.preset = replace(planner.preset, reply=LIMITS, max_new_tokens=240)
    plan = lim.plan('a sign that says "HI" above a red apple', seed=3)
    assert plan.planner.startswith("llm:") and planner.calls >= 1
    assert [t.content for t in plan.texts] == ["HI"]                   # anchored fact
    assert planner.llm.model is klein.text_encoder
    assert klein.text_encoder.dtype == torch.bfloat16
    assert sum(p.numel() for p in klein.text_encoder.parameters()) == before


def test_an_explicit_model_or_the_draft_renderer_keeps_the_presets(monkeypatch):
    from limner.api import Limner
    from planner.schema import PlanError

    monkeypatch.delenv("LIMNER_PLANNER_MODEL", raising=False)
    with pytest.raises(PlanError, match="--model"):
        Limner(planner="llm").planner                       # draft renderer: no LM to share
    lim = Limner(planner="llm", renderer="tiny-klein", model="smollm2-135m")
    lim._renderer = SimpleNamespace(pipe=None)
    assert lim.planner.model_name == "smollm2-135m"


# --- describe --question through the pipeline's own VLM ----------------------------------------
@functools.cache
def _limner_file() -> bytes:
    from limner.api import Limner

    return Limner().generate('a sign that says "OPEN" above a red apple', size="64x64",
                             seed=1)[0].data


def _spy_generate(module, calls: list):
    """Record each ``module.generate`` call (the module itself, its inputs, its output)."""
    real = module.generate

    def generate(**kwargs):
        out = real(**kwargs)
        calls.append((module, kwargs, out))
        return out

    return generate


def test_describe_question_answers_with_the_pipelines_own_vlm(monkeypatch):
    """Qwen-Image's Qwen2.5-VL answers: the pipeline's own module (same object, bf16), the
    image through its vision tower, the answer the decoding of what it generated. Tiny random
    weights answer gibberish, so wiring and decoding are asserted, not content."""
    import torch

    from limner.api import Limner

    monkeypatch.delenv("LIMNER_VLM", raising=False)
    pipe = _pipe("qwenimage", "QwenImagePipeline")
    encoder = pipe.text_encoder
    encoder.generation_config.max_new_tokens = 4      # the reply limit the VLM reads; fast
    calls, seen = [], []
    monkeypatch.setattr(encoder, "generate", _spy_generate(encoder, calls))
    hook = encoder.model.visual.register_forward_hook(lambda m, a, o: seen.append(a[0].dtype))
    before = sum(p.numel() for p in encoder.parameters())
    lim = Limner(renderer="tiny-qwen")
    lim._renderer = SimpleNamespace(pipe=pipe)            # the loaded renderer
    try:
        d = lim.describe(_limner_file(), question="How many apples are there?")
        again = lim.describe(Image.new("RGB", (32, 32), "red"), question="Is it ripe?")
    finally:
        hook.remove()
    assert d["vlm"] == "<text_encoder of the loaded pipeline>" and "answer_facts" not in d
    assert len(calls) == 2 and all(c[0] is encoder for c in calls)
    module, inputs, out = calls[0]
    assert inputs["pixel_values"].dtype == torch.bfloat16 and seen == [torch.bfloat16] * 2
    assert (inputs["input_ids"] == encoder.config.image_token_id).sum() >= 1
    new = out[:, inputs["input_ids"].shape[1]:]
    assert 1 <= new.shape[1] <= 4 and inputs["max_new_tokens"] == 4
    assert d["answer"] == pipe.tokenizer.batch_decode(new, skip_special_tokens=True)[0].strip()
    assert again["vlm"] == d["vlm"] and lim._shared_vlm.model is encoder    # built once
    assert encoder.dtype == torch.bfloat16
    assert sum(p.numel() for p in encoder.parameters()) == before


def test_describe_falls_back_without_a_pipeline_vlm(monkeypatch):
    """GLM-Image's generator answers nothing (its head emits image codes): the Plan and OCR
    answer what they can, the rest names the VLM it needs."""
    from limner.api import Limner

    monkeypatch.delenv("LIMNER_VLM", raising=False)
    lim = Limner(renderer="tiny-glm")
    lim._renderer = SimpleNamespace(pipe=_pipe("glm_image", "GlmImagePipeline"))
    data = _limner_file()
    d = lim.describe(data, question="How many apples are there?")
    assert d["vlm"] is None and d["answer"] == "There is 1 apple."
    assert d["answer_facts"]["source"] == "plan"
    d = lim.describe(data, question="Is the apple ripe?")
    assert d["answer"] is None and "--renderer qwen-image" in d["note"]
    assert lim._shared_vlm is None


def test_qwen3_vl_of_qwen_image_21_answers_through_the_same_reader(monkeypatch):
    """The reader is found by what the module is: Qwen-Image-2.1's Qwen3-VL answers through
    the pipeline's own image-only Qwen3VLProcessor, with the same module object."""
    import torch

    from model.shared_lm import find_language_model, vision_reader
    from model.tiny import build_tiny

    pipe = build_tiny("qwenimage21").to(torch.bfloat16)
    reader = vision_reader(find_language_model(pipe), pipe)
    assert reader is not None and reader.model is pipe.text_encoder
    assert type(reader.processor).__name__ == "Qwen3VLProcessor"
    reader.model.generation_config.max_new_tokens = 2
    calls = []
    monkeypatch.setattr(pipe.text_encoder, "generate",
                        _spy_generate(pipe.text_encoder, calls))
    answer = reader.ask(Image.new("RGB", (64, 64), "red"), "what colour is it?")
    (module, inputs, out), = calls
    assert module is pipe.text_encoder and inputs["pixel_values"].dtype == torch.bfloat16
    new = out[:, inputs["input_ids"].shape[1]:]
    assert answer == reader.processor.batch_decode(new, skip_special_tokens=True)[0].strip()
