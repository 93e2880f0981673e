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
    "pixart": ("model.tiny_builds.pixart", "PixArtSigmaPipeline", {}),
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
    module, cls_name, kwargs = _BUILDS[family]
    torch.manual_seed(seed)
    components = importlib.import_module(module).build(**kwargs)
    pipe = getattr(diffusers, cls_name)(**components)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def save_tiny(family: str, path: str | Path, seed: int = 0) -> Path:
    """Build a tiny pipeline and ``save_pretrained`` it to ``path`` (safetensors)."""
    path = Path(path)
    build_tiny(family, seed).save_pretrained(str(path), safe_serialization=True)
    return path
