"""One model load: the planner decodes with the LM the loaded image pipeline already holds.

Tiny builds of the real classes: FLUX.2 [klein] holds a Qwen3ForCausalLM, Qwen-Image a
Qwen2.5-VL; Z-Image's Qwen3Model (no language head) and GLM-Image's generator (a head over
image codes only) are not language models to plan with.
"""

from dataclasses import replace
from types import SimpleNamespace

import pytest

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
