"""The family registry: one module per family, local directories matched by what they hold
(exact class names in model_index.json plus config values), tiers read from the weights,
and the house's import rules."""

import ast
import json
import shutil
from pathlib import Path

import pytest

import diffusers
from model.diffusion import load_renderer_presets
from model.tiny import FAMILIES as TINY
from render.base import RenderError
from render.families import (FAMILIES, Capabilities, Family, family_for_directory,
                             family_for_pipeline, get_family)

REPO = Path(__file__).resolve().parents[2]
EXPECTED = {"sdxl": "sdxl", "sd3": "sd3", "flux": "flux", "flux-dev": "flux",
            "pixart": "pixart"}


def test_registry_is_data_with_real_classes():
    presets = load_renderer_presets()
    for key in FAMILIES:
        fam = get_family(key)
        assert isinstance(fam, Family) and fam.key == key
        assert isinstance(fam.capabilities, Capabilities)
        assert fam.presets and all(presets[p].family == key for p in fam.presets)
        for kind, cls in fam.pipelines.items():
            assert kind in ("text2img", "img2img", "inpaint", "edit")
            assert cls is None or hasattr(diffusers, cls), cls
        assert fam.pipelines["text2img"]
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
