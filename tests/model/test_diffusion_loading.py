"""Loading diffusion pipelines the way users do: presets, local directories, devices, errors."""

import numpy as np
import pytest
import torch

from model.config import ConfigError
from model.errors import ModelError
from model.diffusion import (LoadOptions, load_pipeline, load_renderer_presets,
                             own_aligned_memory, resolve_device, resolve_preset)
from model.tiny import FAMILIES, build_tiny
from render.base import RenderError, get_renderer


def run(pipe, family):
    kw = dict(prompt="a red cat", num_inference_steps=2, height=32, width=32,
              output_type="np", generator=torch.Generator().manual_seed(0))
    if type(pipe).__name__ == "PixArtSigmaPipeline":   # a test of diffusers' own call
        kw["use_resolution_binning"] = False
    if type(pipe).__name__ == "Ideogram4Pipeline":     # its default schedule is 48 steps
        kw.update(guidance_scale=3.0, guidance_schedule=None, max_sequence_length=64)
    if type(pipe).__name__ == "FluxKontextPipeline":    # it rescales to max_area (1 MP)
        kw["max_area"] = 32 * 32
    if type(pipe).__name__ == "BriaFiboEditPipeline":   # edits only: an image, a JSON prompt
        from PIL import Image

        kw.update(image=Image.new("RGB", (32, 32), (200, 40, 40)),
                  prompt='{"edit_instruction": "make it red"}')
    if type(pipe).__name__ == "QwenImageEditPlusPipeline":   # edits only: it needs an image
        from PIL import Image

        from render.families.qwenimage_edit import working_area

        kw["image"] = [Image.new("RGB", (32, 32), (200, 40, 40))]
        with working_area(pipe, 32 * 32):    # (it scales inputs to 1 MP for the VAE)
            return pipe(**kw).images
    return pipe(**kw).images


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


@pytest.mark.parametrize("family", FAMILIES)
def test_save_load_round_trip_is_exact(family, tmp_path):
    torch.manual_seed(0)
    original = build_tiny(family, seed=0)
    original.save_pretrained(str(tmp_path / family))
    loaded = get_renderer(str(tmp_path / family), device="cpu").pipe
    assert type(loaded) is type(original)
    assert np.array_equal(run(original, family), run(loaded, family))


def test_why_a_bare_load_differed(tmp_path):
    """safetensors maps tensors at 8-byte offsets; CPU GEMM rounds differently on unaligned
    operands. Copying them into aligned memory (what load_pipeline does) makes it exact."""
    original = build_tiny("flux", seed=0)
    original.save_pretrained(str(tmp_path / "flux"))
    bare = type(original).from_pretrained(str(tmp_path / "flux"), local_files_only=True)
    bare.set_progress_bar_config(disable=True)
    moved = sum(own_aligned_memory(c) for c in bare.components.values()
                if hasattr(c, "named_parameters"))
    assert moved > 0
    assert np.array_equal(run(original, "flux"), run(bare, "flux"))


def test_shipped_presets_are_complete():
    presets = load_renderer_presets()
    assert {"sdxl", "sdxl-lightning", "sdxl-turbo", "sd35", "flux-schnell", "flux-dev",
            "pixart"} <= set(presets)
    for p in presets.values():
        for quality in ("low", "medium", "high", "auto"):
            t = p.tier(quality)
            assert 0 < t.strength <= 1 and t.steps * t.strength >= 1


def test_unknown_preset_key_is_an_error(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("x:\n  family: sdxl\n  repo: a/b\n  stepz: 3\n  tiers: {}\n")
    with pytest.raises(ConfigError, match="stepz"):
        load_renderer_presets(bad)
    bad.write_text("x:\n  family: sdxl\n  repo: a/b\n  tiers:\n"
                   "    low: {steps: 2, guidance: 1, strength: 0.5}\n")
    with pytest.raises(ConfigError, match="medium missing"):
        load_renderer_presets(bad)


def test_gpu_preset_without_gpu_says_what_is_needed(no_cuda):
    with pytest.raises(ModelError, match=r"needs a CUDA GPU.*--device cpu"):
        resolve_device(None, "sdxl")
    with pytest.raises(ModelError, match="cuda.is_available"):
        resolve_device("cuda", "sdxl")
    with pytest.raises(ModelError, match="cpu, cuda, cuda:N or mps"):
        resolve_device("tpu", "sdxl")
    assert resolve_device("cpu", "sdxl") == "cpu"
    with pytest.raises(RenderError, match="needs a CUDA GPU"):
        get_renderer("flux-schnell")


def test_missing_weights_name_what_to_download(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(RenderError) as e:
        get_renderer("flux-dev", device="cpu")
    assert "hf download black-forest-labs/FLUX.1-dev" in str(e.value)
    assert "Hugging Face cache" in str(e.value)


def test_cli_errors_are_one_line(no_cuda, capsys, tmp_path):
    from limner.cli import main

    out = str(tmp_path / "x.png")
    assert main(["generate", "a red apple", "--renderer", "sdxl", "-o", out]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "CUDA GPU" in err
    assert main(["generate", "a red apple", "--renderer", "nope", "-o", out]) == 2
    assert "unknown renderer 'nope'" in capsys.readouterr().err


def test_unet_weights_file_replaces_the_unet(tmp_path):
    from safetensors.torch import save_file

    build_tiny("sdxl", seed=0).save_pretrained(str(tmp_path / "base"))
    donor = build_tiny("sdxl", seed=1).unet
    (tmp_path / "fast").mkdir()
    save_file({k: v.contiguous() for k, v in donor.state_dict().items()},
              str(tmp_path / "fast" / "unet.safetensors"))
    preset = tmp_path / "p.yaml"
    preset.write_text(
        f"mine:\n  family: sdxl\n  repo: {tmp_path / 'base'}\n"
        f"  unet_weights: {{repo: {tmp_path / 'fast'}, weight_name: unet.safetensors}}\n"
        "  scheduler: EulerDiscreteScheduler\n"
        "  scheduler_options: {timestep_spacing: trailing}\n  tiers:\n"
        "    low: {steps: 2, guidance: 0, strength: 0.5}\n"
        "    medium: {steps: 2, guidance: 0, strength: 0.5}\n"
        "    high: {steps: 2, guidance: 0, strength: 0.5}\n")
    name, p = resolve_preset(str(preset))
    pipe = load_pipeline(p, LoadOptions(device="cpu"), name,
                         pipeline_class="StableDiffusionXLPipeline")
    key = "conv_in.weight"
    assert torch.equal(pipe.unet.state_dict()[key], donor.state_dict()[key])
    assert pipe.scheduler.config.timestep_spacing == "trailing"


def test_a_preset_loads_from_the_hugging_face_cache(tmp_path, monkeypatch):
    """The user's path for a preset: `hf download REPO` fills the hub cache, then
    `--renderer PRESET` loads it with local_files_only. Qwen-Image-2.1's Qwen3-VL processor
    needs torchvision for its video half, so the loader finds the cached snapshot and builds
    the processor image-only (model/processors.py) when torchvision is missing."""
    import huggingface_hub.constants as hub

    from limner.api import Limner

    _, preset = resolve_preset("qwen-image-2.1")
    _cache_snapshot(tmp_path / "hub", preset.repo, "qwenimage21")
    monkeypatch.setattr(hub, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert preset.dtype == "bfloat16"   # on CUDA; the CPU default is float32 unless asked
    lim = Limner(renderer="qwen-image-2.1", device="cpu", dtype="bfloat16", steps=2)
    pipe = lim.renderer.pipe
    assert type(pipe).__name__ == "QwenImage21Pipeline"
    assert pipe.transformer.dtype == torch.bfloat16 == pipe.text_encoder.dtype
    assert type(pipe.processor).__name__ == "Qwen3VLProcessor"
    image = lim.generate("a red apple", size="32x32", seed=1)[0].image
    assert image.size == (32, 32) and np.asarray(image).std() > 0
    assert pipe.transformer.dtype == torch.bfloat16


def _cache_snapshot(hub_dir, repo: str, family: str):
    """``save_tiny(family)`` laid out as `hf download repo` leaves it in the hub cache."""
    from model.tiny import save_tiny

    org, name = repo.split("/")
    revision = "89abcdef0123456789abcdef0123456789abcdef"
    repo_dir = hub_dir / f"models--{org}--{name}"
    snapshot = save_tiny(family, repo_dir / "snapshots" / revision)
    (repo_dir / "refs").mkdir()
    (repo_dir / "refs" / "main").write_text(revision)
    return snapshot


def test_a_cached_snapshot_that_fails_to_load_says_why(tmp_path, monkeypatch):
    """Weights in the cache are never reported as "not downloaded": a missing library (the
    real FLUX.2 [dev] repo's PixtralProcessor needs torchvision) or a broken snapshot is
    named as such, one line, no traceback."""
    import json

    import huggingface_hub.constants as hub

    from model.processors import has_torchvision

    monkeypatch.setattr(hub, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    _, preset = resolve_preset("flux2-dev")
    snapshot = _cache_snapshot(tmp_path / "hub", preset.repo, "flux2-dev")
    index = json.loads((snapshot / "model_index.json").read_text())
    if not has_torchvision():
        index["tokenizer"] = ["transformers", "PixtralProcessor"]    # as the real repo ships it
        (snapshot / "model_index.json").write_text(json.dumps(index))
        with pytest.raises(RenderError) as e:
            get_renderer("flux2-dev", device="cpu")
        assert "needs a library that is not installed" in str(e.value)
        assert "Torchvision" in str(e.value) and "\n" not in str(e.value)
        index["tokenizer"] = ["transformers", "TokenizersBackend"]
    import shutil

    shutil.rmtree(snapshot / "transformer")                          # a broken download
    (snapshot / "model_index.json").write_text(json.dumps(index))
    with pytest.raises(RenderError) as e:
        get_renderer("flux2-dev", device="cpu")
    assert "from its cached snapshot" in str(e.value) and "hf download" not in str(e.value)
