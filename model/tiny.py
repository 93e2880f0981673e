"""Tiny random-init pipelines of the real diffusers classes, built offline.

Used by the tests, ``scripts/bench_diffusion.py`` and users' own experiments: every family the
diffusion renderer supports gets a pipeline of the same classes a user loads from real
weights, only with one or two blocks of width 16-32, so a 32x32 image takes a fraction of a
second on CPU. Tokenizers are built from in-memory vocabularies (no hub).

Each family's builder lives in its own module, ``model/tiny_builds/<name>.py``, with a
``build(**kwargs) -> dict`` of pipeline components; ``_BUILDS`` below says which module, which
pipeline class and which keyword arguments make each key (a variant such as ``flux-dev`` is a
key of its own). ``save_tiny(key, path)`` writes one with ``save_pretrained``, loadable with
``--renderer path`` / ``Limner(renderer=path)``.
"""

from __future__ import annotations

import importlib
from pathlib import Path

# key -> (builder module, text-to-image pipeline class, builder kwargs). Imported on first use.
_BUILDS = {
    "sdxl": ("model.tiny_builds.sdxl", "StableDiffusionXLPipeline", {}),
    "sd3": ("model.tiny_builds.sd3", "StableDiffusion3Pipeline", {}),
    "flux": ("model.tiny_builds.flux", "FluxPipeline", {"guidance": False}),
    "flux-dev": ("model.tiny_builds.flux", "FluxPipeline", {"guidance": True}),
    # FLUX.1 Kontext [dev]: FLUX.1 [dev]'s modules under the Kontext pipeline class
    "flux-kontext": ("model.tiny_builds.flux", "FluxKontextPipeline", {"guidance": True}),
    "pixart": ("model.tiny_builds.pixart", "PixArtSigmaPipeline", {}),
    "qwenimage": ("model.tiny_builds.qwenimage", "QwenImagePipeline", {}),
    "qwenimage21": ("model.tiny_builds.qwenimage21", "QwenImage21Pipeline", {}),
    # Qwen-Image-Edit-2511: the edit pipeline is what loads (the family cannot draw from text)
    "qwenimage-edit": ("model.tiny_builds.qwenimage_edit", "QwenImageEditPlusPipeline", {}),
    "zimage": ("model.tiny_builds.zimage", "ZImagePipeline", {}),
    "flux2-klein": ("model.tiny_builds.flux2", "Flux2KleinPipeline", {"variant": "klein"}),
    "flux2-dev": ("model.tiny_builds.flux2", "Flux2Pipeline", {"variant": "dev"}),
    "ideogram4": ("model.tiny_builds.ideogram4", "Ideogram4Pipeline", {}),
    "glm-image": ("model.tiny_builds.glm_image", "GlmImagePipeline", {}),
    "janus-pro": ("model.tiny_builds.janus_pro", "JanusProPipeline", {}),
    "fibo": ("model.tiny_builds.fibo", "BriaFiboPipeline", {}),
    # Fibo-Edit: FIBO's classes under the edit pipeline (its own weights in reality)
    "fibo-edit": ("model.tiny_builds.fibo", "BriaFiboEditPipeline", {}),
}

#: Every tiny build (one per family, plus variants whose weights differ: flux-dev).
FAMILIES = tuple(_BUILDS)


def build_tiny(family: str, seed: int = 0):
    """Build a tiny random-init text-to-image pipeline of ``family`` on CPU, float32.

    Args:
        family: one of FAMILIES.
        seed: seeds torch before the weights are drawn, so one seed gives one model.
    Returns:
        The diffusers pipeline (e.g. ``StableDiffusionXLPipeline``), progress bar off.
    """
    import diffusers
    import torch

    if family not in _BUILDS:
        raise ValueError(f"family must be one of {', '.join(FAMILIES)}; got {family!r}")
    from model.diffusion import _class

    module, cls_name, kwargs = _BUILDS[family]
    torch.manual_seed(seed)
    components = importlib.import_module(module).build(**kwargs)
    pipe = _class(cls_name)(**components)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def save_tiny(family: str, path: str | Path, seed: int = 0) -> Path:
    """Build a tiny pipeline and ``save_pretrained`` it to ``path`` (safetensors)."""
    path = Path(path)
    build_tiny(family, seed).save_pretrained(str(path), safe_serialization=True)
    return path


def save_tiny_lora(pipeline_dir: str | Path, path: str | Path, rank: int = 4,
                   seed: int = 0) -> Path:
    """A random LoRA for the denoiser of the tiny pipeline saved in ``pipeline_dir``, written
    with the pipeline's ``save_lora_weights`` (the file diffusers' ``load_lora_weights``
    reads). peft initialises LoRA's B matrices to zero; they are drawn at random here so the
    LoRA changes the output.

    Returns:
        The .safetensors file.
    """
    import diffusers
    import torch
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    index = (Path(pipeline_dir) / "model_index.json").read_text(encoding="utf-8")
    import json

    cls = getattr(diffusers, json.loads(index)["_class_name"])
    from model.processors import video_free_components

    pipe = cls.from_pretrained(str(pipeline_dir), local_files_only=True,
                               **video_free_components(pipeline_dir))
    name = "unet" if getattr(pipe, "unet", None) is not None else "transformer"
    net = getattr(pipe, name)
    torch.manual_seed(seed)
    net.add_adapter(LoraConfig(r=rank, lora_alpha=rank, init_lora_weights="gaussian",
                               target_modules=["to_q", "to_k", "to_v", "to_out.0"]))
    with torch.no_grad():
        for n, p in net.named_parameters():
            if "lora_B" in n:
                p.normal_(0.0, 0.5)
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    cls.save_lora_weights(str(out), **{f"{name}_lora_layers": get_peft_model_state_dict(net)},
                          weight_name="lora.safetensors", safe_serialization=True)
    return out / "lora.safetensors"


def save_tiny_single_file(pipeline_dir: str | Path, path: str | Path) -> Path | None:
    """The denoiser of the tiny pipeline in ``pipeline_dir`` written as a single-file
    checkpoint in its family's original layout (as ComfyUI/CivitAI users hold weights), when
    the family's tiny builder knows that layout (``single_file_state``); else None.

    Why only some: diffusers' converters read most sizes from the tensors, but the FLUX.1
    converter fixes the width at the real 3072, and the LDM (SDXL) layout needs the text
    encoders too, so tiny FLUX/SDXL files cannot be converted back.
    """
    import json

    import diffusers
    from safetensors.torch import save_file

    index = json.loads((Path(pipeline_dir) / "model_index.json").read_text(encoding="utf-8"))
    module = next((importlib.import_module(m) for m, cls, _ in _BUILDS.values()
                   if cls == index["_class_name"]), None)
    if module is None or not hasattr(module, "single_file_state"):
        return None
    from model.processors import video_free_components

    pipe = getattr(diffusers, index["_class_name"]).from_pretrained(
        str(pipeline_dir), local_files_only=True, **video_free_components(pipeline_dir))
    net = pipe.unet if getattr(pipe, "unet", None) is not None else pipe.transformer
    out = Path(path)
    save_file(module.single_file_state(net), str(out))
    return out
