"""The family registry: one module per family, local directories matched by what they hold
(exact class names in model_index.json plus config values), tiers read from the weights,
and the house's import rules."""

import ast
import json
import shutil
from pathlib import Path

import pytest
import torch

import diffusers
from model.ar_pipelines import PIPELINES as AR_PIPELINES
from model.diffusion import load_renderer_presets
from model.tiny import FAMILIES as TINY
from render.base import RenderError
from render.families import (FAMILIES, Capabilities, Family, family_for_directory,
                             family_for_pipeline, get_family)

REPO = Path(__file__).resolve().parents[2]
EXPECTED = {"sdxl": "sdxl", "sd3": "sd3", "flux": "flux", "flux-dev": "flux",
            "pixart": "pixart", "ideogram4": "ideogram4", "glm-image": "glm-image",
            "janus-pro": "janus-pro", "fibo": "fibo", "fibo-edit": "fibo-edit"}


def test_registry_is_data_with_real_classes():
    presets = load_renderer_presets()
    for key in FAMILIES:
        fam = get_family(key)
        assert isinstance(fam, Family) and fam.key == key
        assert isinstance(fam.capabilities, Capabilities)
        assert fam.presets and all(presets[p].family == key for p in fam.presets)
        for kind, cls in fam.pipelines.items():
            assert kind in ("text2img", "img2img", "inpaint", "edit")
            # a diffusers class, or limner's own pipeline for a generator diffusers lacks
            assert cls is None or hasattr(diffusers, cls) or cls in AR_PIPELINES, cls
        # what loads: the text-to-image pipeline, or the edit pipeline of a family that
        # cannot draw from a prompt alone (and then says so: draws_from_text)
        assert fam.loaded_pipeline and (fam.pipelines["text2img"] or fam.pipelines["edit"])
        assert fam.draws_from_text == (fam.pipelines["text2img"] is not None)
        assert fam.draws_from_text or fam.capabilities.instruction_edit
        assert fam.capabilities.inpaint == (fam.pipelines["inpaint"] is not None)
    with pytest.raises(RenderError, match="unknown model family 'nope'.*sdxl"):
        get_family("nope")


@pytest.mark.parametrize("key", [k for k in TINY if k in EXPECTED])
def test_tiny_directories_match_their_family(tiny_dir, key):
    assert family_for_directory(tiny_dir(key)).key == EXPECTED[key]


def _copy(src: str, dst: Path) -> Path:
    # the index and configs only: matching never reads weights
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("*.safetensors"))
    return dst


def _edit_json(path: Path, **changes) -> None:
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def test_directories_that_match_no_family(tiny_dir, tmp_path):
    with pytest.raises(RenderError, match="no model_index.json"):
        family_for_directory(tmp_path)
    # another pipeline class: SD 1.5 is not supported
    d = _copy(tiny_dir("sdxl"), tmp_path / "sd15")
    _edit_json(d / "model_index.json", _class_name="StableDiffusionPipeline")
    with pytest.raises(RenderError, match="StableDiffusionPipeline.*no supported family"):
        family_for_directory(d)
    # the right pipeline class with a component of another class
    d = _copy(tiny_dir("flux"), tmp_path / "flux-odd")
    _edit_json(d / "model_index.json", transformer=["diffusers", "SD3Transformer2DModel"])
    with pytest.raises(RenderError, match="no supported family"):
        family_for_directory(d)
    # the right classes with a config value the family does not have
    d = _copy(tiny_dir("pixart"), tmp_path / "pixart-alpha-like")
    _edit_json(d / "transformer" / "config.json", norm_type="ada_norm")
    with pytest.raises(RenderError, match="no supported family"):
        family_for_directory(d)


def test_sd3_without_t5_still_matches(tiny_dir, tmp_path):
    d = _copy(tiny_dir("sd3"), tmp_path / "sd3-no-t5")
    _edit_json(d / "model_index.json", text_encoder_3=[None, None], tokenizer_3=[None, None])
    assert family_for_directory(d).key == "sd3"


def test_tiers_come_from_the_weights(tiny_dir, tmp_path):
    from render.diffusion import DiffusionRenderer

    presets = load_renderer_presets()
    dev = DiffusionRenderer.from_preset(tiny_dir("flux-dev"), device="cpu")
    schnell = DiffusionRenderer.from_preset(tiny_dir("flux"), device="cpu")
    assert dev.preset.tiers == presets["flux-dev"].tiers
    assert schnell.preset.tiers == presets["flux-schnell"].tiers
    assert family_for_pipeline(dev.pipe).key == "flux"

    sdxl = get_family("sdxl")
    base = DiffusionRenderer.from_preset(tiny_dir("sdxl"), device="cpu").pipe
    assert sdxl.variant_of(base, "/models/my-sdxl") == "sdxl"
    assert sdxl.variant_of(base, "/models/sdxl-turbo-fp16") == "sdxl-turbo"
    assert sdxl.variant_of(base, "/models/SDXL-Lightning-8step") == "sdxl-lightning"
    d = shutil.copytree(tiny_dir("sdxl"), tmp_path / "my-fast-sdxl")
    _edit_json(d / "scheduler" / "scheduler_config.json", timestep_spacing="trailing")
    fast = DiffusionRenderer.from_preset(str(d), device="cpu")
    assert fast.preset.tiers == presets["sdxl-lightning"].tiers


# --- the house's rules, read from the source -----------------------------------------------

def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_layers_import_only_downwards():
    for path in (REPO / "render").rglob("*.py"):
        bad = {m for m in _imports(path)
               if m == "limner" or m.startswith("limner.") or m == "planner.revise"}
        assert not bad, f"{path.relative_to(REPO)} imports {bad}"
    for path in (REPO / "model").rglob("*.py"):
        bad = {m for m in _imports(path) if m == "render" or m.startswith("render.")}
        assert not bad, f"{path.relative_to(REPO)} imports {bad}"


def test_shared_machinery_never_names_a_family():
    keys = set(FAMILIES) | set(TINY)
    for rel in ("render/diffusion.py", "render/regional.py", "render/edit.py",
                "model/diffusion.py"):
        tree = ast.parse((REPO / rel).read_text(encoding="utf-8"))
        named = {n.value for n in ast.walk(tree)
                 if isinstance(n, ast.Constant) and n.value in keys}
        assert not named, f"{rel} names families {named}"


def test_flux_reads_a_negative_prompt_only_with_true_cfg(tiny_dir):
    from planner.schema import Background, Canvas, ObjectElement, Plan
    from render.diffusion import DiffusionRenderer

    flux = get_family("flux")
    r = DiffusionRenderer.from_preset(tiny_dir("flux-dev"), device="cpu", steps=2)
    tier = r.tier("medium")
    assert tier.guidance > 1 and not flux.guidance(tier, r.options)[0]   # distilled guidance
    seen = []
    r = DiffusionRenderer.from_preset(tiny_dir("flux-dev"), device="cpu", steps=2,
                                      true_cfg=2.0)
    assert flux.guidance(tier, r.options) == (True, {"guidance_scale": tier.guidance,
                                                     "true_cfg_scale": 2.0})
    original = flux.call_kwargs
    flux.call_kwargs = lambda e: seen.append(e) or original(e)
    try:
        plan = Plan(seed=1, canvas=Canvas(width=32, height=32, background=Background(
            kind="color", color="#88aacc")), elements=(ObjectElement(
                id="apple-1", box=(0.1, 0.1, 0.5, 0.5), label="apple", color="red"),))
        assert r.render(plan).image.size == (32, 32)
    finally:
        del flux.call_kwargs
    assert seen and all(e.neg_tokens is not None and not torch.equal(e.neg_tokens, e.tokens)
                        for e in seen)


def test_dtype_keyword_follows_the_installed_diffusers(monkeypatch):
    from model.diffusion import dtype_keyword

    assert dtype_keyword() == "dtype"                     # 0.42 here
    monkeypatch.setattr(diffusers, "__version__", "0.35.2")
    assert dtype_keyword() == "torch_dtype"               # older: dtype= would be ignored


def test_aligned_copy_only_for_the_cpu(tiny_dir, monkeypatch):
    import model.diffusion as md

    copied = []
    monkeypatch.setattr(md, "own_aligned_memory", lambda m: copied.append(m) or 0)
    monkeypatch.setattr(md, "resolve_device", lambda *a: "cuda:0")
    monkeypatch.setattr(md, "_place", lambda *a: None)    # no GPU here: stop before moving
    preset = md.load_renderer_presets()["flux-schnell"]
    import dataclasses
    preset = dataclasses.replace(preset, repo=tiny_dir("flux"))
    md.load_pipeline(preset, md.LoadOptions(dtype="float32"), pipeline_class="FluxPipeline")
    assert copied == []
    monkeypatch.setattr(md, "resolve_device", lambda *a: "cpu")
    md.load_pipeline(preset, md.LoadOptions(dtype="float32"), pipeline_class="FluxPipeline")
    assert copied


def test_edit_inpaints_at_most_the_native_size(tiny_dir, monkeypatch):
    """A 128x128 edit on a model of native 32x32 inpaints a crop around the mask, downscaled
    to the native area, and pastes it back: pixels outside the mask stay exactly."""
    import numpy as np
    from PIL import Image

    from planner.schema import Background, Canvas, ObjectElement, Plan
    from render.diffusion import DiffusionRenderer
    from render.edit import apply_edit

    r = DiffusionRenderer.from_preset(tiny_dir("flux"), device="cpu", steps=2,
                                      native=(32, 32))
    sizes = []
    original = type(r.family).inpaint

    def spy(self, pipes, image, mask, size, *a, **k):
        sizes.append(size)
        return original(self, pipes, image, mask, size, *a, **k)

    monkeypatch.setattr(type(r.family), "inpaint", spy)

    def plan(color):
        return Plan(seed=3, canvas=Canvas(width=128, height=128, background=Background(
            kind="color", color="#88aacc")), elements=(ObjectElement(
                id="apple-1", box=(0.1, 0.1, 0.3, 0.3), label="apple", color=color),))

    before = Image.fromarray(np.random.default_rng(0).integers(0, 255, (128, 128, 3),
                                                               np.uint8))
    out = apply_edit(r, before, plan("red"), plan("blue"))
    assert sizes and all(w * h <= 32 * 32 for w, h in sizes)
    keep = np.asarray(out.mask) == 0
    assert keep.any() and (~keep).any()
    assert np.array_equal(np.asarray(out.image)[keep], np.asarray(before)[keep])
    assert not np.array_equal(np.asarray(out.image)[~keep], np.asarray(before)[~keep])


def test_a_vae_option_replaces_the_pipelines_vae(tiny_dir, tmp_path):
    """The fp16-safe SDXL VAE route: ``vae=`` a directory (or cached repo) of an
    AutoencoderKL, loaded local-only in the pipeline's dtype."""
    from model.tiny import build_tiny
    from render.diffusion import DiffusionRenderer

    other = build_tiny("sdxl", seed=7).vae
    other.save_pretrained(str(tmp_path / "vae"))
    r = DiffusionRenderer.from_preset(tiny_dir("sdxl"), device="cpu", dtype="float16",
                                      vae=str(tmp_path / "vae"))
    assert r.pipe.vae.dtype == torch.float16
    key = "encoder.conv_in.weight"
    assert torch.equal(r.pipe.vae.state_dict()[key], other.state_dict()[key].half())
    with pytest.raises(RenderError, match="vae .*could not be loaded"):
        DiffusionRenderer.from_preset(tiny_dir("sdxl"), device="cpu", vae=str(tmp_path / "x"))
