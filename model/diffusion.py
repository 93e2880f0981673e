"""Diffusion presets and loaders: configs/renderers.yaml → a diffusers pipeline on a device.

One place decides devices, dtypes, offload and memory options (STYLE.md): the renderer asks
``load_pipeline(preset, LoadOptions(...))`` and gets a ready pipeline. Weights come from a local
directory or the Hugging Face cache through ``from_pretrained``; ``local_files_only`` is honoured
(on by default: limner never downloads behind the user's back, README says how to download).
"""

from __future__ import annotations

import dataclasses
import json
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.config import CONFIG_DIR, ConfigError, build, load_presets
from model.errors import ModelError

QUALITY_TIERS = ("low", "medium", "high")
DTYPES = ("float32", "float16", "bfloat16")
OFFLOAD = ("none", "model", "sequential")


@dataclass(frozen=True)
class Tier:
    """Sampling settings of one quality tier."""

    steps: int
    guidance: float
    strength: float  # SDEdit strength: 1.0 ignores the draft init, 0.0 returns it


@dataclass(frozen=True)
class WeightsFile:
    """A single safetensors file that replaces the denoiser's weights (e.g. SDXL-Lightning)."""

    repo: str
    weight_name: str


@dataclass(frozen=True)
class RendererPreset:
    family: str
    repo: str
    dtype: str = "float16"
    variant: str | None = None
    scheduler: str | None = None
    scheduler_options: dict = field(default_factory=dict)
    native: tuple[int, int] = (1024, 1024)
    max_sequence_length: int | None = None
    region_tokens: int = 64   # T5 tokens per element prompt (the global prompt gets the max)
    unet_weights: WeightsFile | None = None
    vae: str | None = None    # a VAE repo or directory replacing the pipeline's own
    tiers: dict = field(default_factory=dict)

    def tier(self, quality: str) -> Tier:
        """Settings for ``quality`` (``auto`` → ``medium``)."""
        return self.tiers["medium" if quality == "auto" else quality]


def _checked(preset: RendererPreset, where: str) -> RendererPreset:
    # The family key itself is checked where families live (render/families), on first use.
    if not isinstance(preset.family, str) or not preset.family:
        raise ConfigError(f"{where}: family must be a family key such as sdxl or flux")
    if preset.dtype not in DTYPES:
        raise ConfigError(f"{where}: dtype must be one of {', '.join(DTYPES)}")
    tiers = {}
    for name in QUALITY_TIERS:
        if name not in preset.tiers:
            raise ConfigError(f"{where}: tiers needs {', '.join(QUALITY_TIERS)}; {name} missing")
        tiers[name] = build(Tier, preset.tiers[name], f"{where}.tiers.{name}")
    extra = sorted(set(preset.tiers) - set(QUALITY_TIERS))
    if extra:
        raise ConfigError(f"{where}: unknown tier(s) {', '.join(extra)}")
    weights = preset.unet_weights
    if isinstance(weights, dict):
        weights = build(WeightsFile, weights, f"{where}.unet_weights")
    return dataclasses.replace(preset, tiers=tiers, native=tuple(preset.native),
                               unet_weights=weights)


def load_renderer_presets(path: str | Path | None = None) -> dict[str, RendererPreset]:
    """All presets of ``configs/renderers.yaml`` (or another YAML file), validated."""
    p = Path(path) if path else CONFIG_DIR / "renderers.yaml"
    raw = load_presets(p.name, RendererPreset, p.parent)
    return {name: _checked(preset, f"{p.name}:{name}") for name, preset in raw.items()}


def known_presets() -> list[str]:
    """Names of the shipped presets, in file order."""
    return list(load_renderer_presets())


def resolve_preset(name: str) -> tuple[str, RendererPreset] | None:
    """A shipped preset name or a YAML file of one preset → ``(name, preset)``; None for
    anything else (a local directory or a single file: render/families matches those).

    Raises:
        ModelError: an unreadable YAML file, or one with != 1 preset.
    """
    presets = load_renderer_presets()
    if name in presets:
        return name, presets[name]
    if name.endswith((".yaml", ".yml")):
        try:
            found = load_renderer_presets(name)
        except (OSError, ConfigError) as e:
            raise ModelError(f"renderer preset file {name}: {e}") from None
        if len(found) != 1:
            raise ModelError(f"renderer preset file {name} must hold exactly one preset")
        return next(iter(found.items()))
    return None


@dataclass(frozen=True)
class LoadOptions:
    """How to load and place a pipeline.

    ``device`` None picks CUDA and refuses to fall back to the CPU silently; ``dtype`` None
    uses the preset's on GPU and float32 on CPU. ``local_files_only`` defaults to True
    unless LIMNER_ALLOW_DOWNLOAD=1. ``offload``: none | model
    (``enable_model_cpu_offload``) | sequential (``enable_sequential_cpu_offload``).
    """

    device: str | None = None
    dtype: str | None = None
    local_files_only: bool = field(default_factory=lambda: not hf_allow_download())
    offload: str = "none"
    vae_tiling: bool = False
    vae_slicing: bool | None = None   # None: on for CUDA (memory), off on CPU (no gain)
    compile: bool = False
    loras: tuple = ()                 # ((path to a .safetensors LoRA, scale), ...)
    base: str | None = None           # single-file checkpoints: the diffusers pipeline
    #                                   (directory or cached repo) giving configs and the
    #                                   components the file lacks; None: the preset's repo
    vae: str | None = None            # a VAE directory or repo replacing the pipeline's


def resolve_device(requested: str | None, what: str) -> str:
    """Check ``requested`` against the machine; None → ``cuda`` when there is one.

    Raises:
        ModelError: no GPU and no explicit ``cpu``, or a device this torch cannot use.
    """
    import torch

    if requested is None:
        if torch.cuda.is_available():
            return "cuda"
        raise ModelError(
            f"renderer {what!r} needs a CUDA GPU, and torch.cuda.is_available() is False "
            f"here (torch {torch.__version__}): install a CUDA build of torch on a machine "
            "with an NVIDIA GPU, pass --device cpu to run it on the CPU anyway (minutes per "
            "image with real weights), or use --renderer draft")
    dev = requested.strip().lower()
    if dev == "cpu":
        return dev
    if dev == "mps":
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return dev
        raise ModelError("device 'mps' is not available with this torch build")
    if dev == "cuda" or (dev.startswith("cuda:") and dev[5:].isdigit()):
        if not torch.cuda.is_available():
            raise ModelError(
                f"device {requested!r} asked, but torch.cuda.is_available() is False "
                f"(torch {torch.__version__}): install a CUDA build of torch, or pass "
                "--device cpu")
        return dev
    raise ModelError(f"device must be cpu, cuda, cuda:N or mps; got {requested!r}")


def _torch_dtype(preset: RendererPreset, options: LoadOptions, device: str):
    import torch

    name = options.dtype or ("float32" if device == "cpu" else preset.dtype)
    if name not in DTYPES:
        raise ModelError(f"dtype must be one of {', '.join(DTYPES)}; got {name!r}")
    return getattr(torch, name)


def _missing_weights(preset: RendererPreset, error: Exception) -> ModelError:
    from huggingface_hub import constants

    if Path(preset.repo).expanduser().exists():
        return ModelError(f"could not load the pipeline in {preset.repo}: {error}")
    cached = _cached_snapshot(preset.repo)
    if cached is not None:   # the files are there: say what failed, not "download them"
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return ModelError(f"could not load {preset.repo!r} from its cached snapshot {cached}: "
                          f"{first[:400]}")
    return ModelError(
        f"weights for {preset.repo!r} are not in the Hugging Face cache "
        f"({constants.HF_HUB_CACHE}): download them first with "
        f"`hf download {preset.repo}` (gated repos need `hf auth login` and the licence "
        f"accepted on the model page), or point the preset's repo at a local directory")


def own_aligned_memory(module) -> int:
    """Copy every parameter/buffer that lives at a badly aligned address into fresh memory.

    Why: safetensors files are memory-mapped, and a tensor inside one starts wherever the
    header put it (often 8-byte aligned). CPU GEMM kernels take a different code path for
    unaligned operands and round differently (1 ulp per product), which is why a pipeline
    loaded back from ``save_pretrained`` differed from the original by ~1e-6..1e-3 on CPU.
    PyTorch's own allocator aligns to 64 bytes, so a copy makes the loaded model compute
    exactly what the saved one did. (Moving to CUDA copies anyway.)

    Returns:
        How many tensors were copied.
    """
    moved = 0
    for tensors in (module.named_parameters(recurse=True), module.named_buffers(recurse=True)):
        for _, t in tensors:
            if t.data_ptr() % 64:
                t.data = t.data.clone()
                moved += 1
    return moved


def _class(name: str):
    """A diffusers pipeline/model class, or one of limner's own pipelines for generators
    diffusers has none for (model/ar_pipelines.py)."""
    import diffusers

    found = getattr(diffusers, name, None)
    if found is None:
        from model.ar_pipelines import PIPELINES

        found = PIPELINES.get(name)
    if found is None:
        raise ModelError(f"no pipeline or model class {name!r} in diffusers "
                         f"{diffusers.__version__} or limner")
    return found


def dtype_keyword() -> str:
    """The keyword ``from_pretrained``/``from_pipe`` read the dtype from: ``dtype`` from
    diffusers 0.40 (where ``torch_dtype`` is deprecated), ``torch_dtype`` before (where a
    ``dtype=`` is silently ignored and the model loads in float32)."""
    import diffusers
    from packaging.version import Version

    return "dtype" if Version(diffusers.__version__).release >= (0, 40) else "torch_dtype"


def _from_pretrained(preset: RendererPreset, options: LoadOptions, dtype, cls_name: str):
    kwargs: dict[str, Any] = {dtype_keyword(): dtype,
                              "local_files_only": options.local_files_only}
    if preset.variant and dtype != _dtype_float32():
        kwargs["variant"] = preset.variant
    try:
        kwargs.update(_video_free_processors(preset.repo))
        return _class(cls_name).from_pretrained(preset.repo, **kwargs)
    except ImportError as e:   # e.g. a processor class transformers builds only with torchvision
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        hint = (" (install the torchvision build that matches your torch)"
                if "torchvision" in first.lower() else "")
        raise ModelError(f"loading {preset.repo!r} needs a library that is not installed: "
                         f"{first.split('. ')[0][:300]}{hint}") from None
    except (OSError, ValueError) as e:
        raise _missing_weights(preset, e) from None


def _cached_snapshot(repo: str) -> Path | None:
    """The local snapshot directory of a hub repo id in the Hugging Face cache, or None."""
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(repo, local_files_only=True))
    except Exception:  # not cached (or not a repo id): the hub raises many types
        return None


def _video_free_processors(repo: str) -> dict:
    """Image-only VL processors for a pipeline whose processor transformers cannot build
    without torchvision (model/processors.py); empty when torchvision is installed."""
    from model.processors import has_torchvision, video_free_components

    if has_torchvision():
        return {}
    local = Path(repo).expanduser()
    if not local.is_dir():
        local = _cached_snapshot(repo)
        if local is None:   # not in the cache: from_pretrained names what to download
            return {}
    return video_free_components(local)


def _dtype_float32():
    import torch

    return torch.float32


def _load_unet_weights(pipe, spec: WeightsFile, local_files_only: bool) -> None:
    from safetensors.torch import load_file

    local = Path(spec.repo).expanduser() / spec.weight_name
    if local.is_file():
        path = str(local)
    else:
        from huggingface_hub import hf_hub_download

        try:
            path = hf_hub_download(spec.repo, spec.weight_name,
                                   local_files_only=local_files_only)
        except Exception as e:  # hub errors are many types; all mean "not here"
            raise ModelError(
                f"{spec.weight_name} from {spec.repo!r} is not downloaded ({type(e).__name__}):"
                f" run `hf download {spec.repo} {spec.weight_name}`") from None
    state = load_file(path)
    pipe.unet.load_state_dict({k: v.to(pipe.unet.dtype) for k, v in state.items()})


def _place(pipe, device: str, options: LoadOptions) -> None:
    if options.offload not in OFFLOAD:
        raise ModelError(f"offload must be one of {', '.join(OFFLOAD)}; got {options.offload!r}")
    if options.offload != "none" and device == "cpu":
        raise ModelError("offload moves weights between CPU and GPU: it needs a CUDA device")
    if options.offload == "model":
        pipe.enable_model_cpu_offload(device=device)
    elif options.offload == "sequential":
        pipe.enable_sequential_cpu_offload(device=device)
    else:
        pipe.to(device)
    if options.vae_tiling:
        pipe.vae.enable_tiling()
    if options.vae_slicing or (options.vae_slicing is None and device != "cpu"):
        pipe.vae.enable_slicing()


def _load_vae(source: str, dtype, local_files_only: bool):
    """An ``AutoencoderKL`` from a directory or repo (e.g. madebyollin/sdxl-vae-fp16-fix,
    which decodes in float16 without overflowing, where SDXL's own VAE must upcast)."""
    from diffusers import AutoencoderKL

    try:
        return AutoencoderKL.from_pretrained(source, local_files_only=local_files_only,
                                             **{dtype_keyword(): dtype})
    except (OSError, ValueError) as e:
        raise ModelError(f"vae {source!r} could not be loaded ({type(e).__name__}): give a "
                         f"local VAE directory, or download it first with `hf download "
                         f"{source}`") from None


def parse_lora(text: str) -> tuple[str, float]:
    """``PATH[:SCALE]`` → ``(path, scale)`` (scale 1.0 when absent).

    Raises:
        ModelError: an empty path or a scale that is not a number.
    """
    path, sep, tail = text.rpartition(":")
    if not sep or "/" in tail or "\\" in tail or not tail:
        path, scale = text, 1.0
    else:
        try:
            scale = float(tail)
        except ValueError:
            raise ModelError(f"lora {text!r}: the part after the last ':' must be a "
                             "scale such as 0.8 (PATH[:SCALE])") from None
    if not path:
        raise ModelError(f"lora {text!r}: give PATH[:SCALE]")
    return path, scale


def load_loras(pipe, loras) -> None:
    """Load each ``(path, scale)`` LoRA file into ``pipe`` (``load_lora_weights``) and weight
    them with ``set_adapters``; adapters named ``lora0``, ``lora1``, ...

    Raises:
        ModelError: a missing file, or weights that do not fit this model.
    """
    names, scales = [], []
    for i, item in enumerate(loras):
        path, scale = parse_lora(item) if isinstance(item, str) else (str(item[0]),
                                                                      float(item[1]))
        file = Path(path).expanduser()
        if not file.is_file():
            raise ModelError(f"lora {path}: no such file (a .safetensors LoRA)")
        try:
            pipe.load_lora_weights(str(file.parent), weight_name=file.name,
                                   adapter_name=f"lora{i}", local_files_only=True)
        except (ValueError, KeyError, RuntimeError, OSError) as e:
            raise ModelError(f"lora {path} does not fit this model: "
                             f"{str(e).splitlines()[0][:300]}") from None
        names.append(f"lora{i}")
        scales.append(scale)
    pipe.set_adapters(names, adapter_weights=scales)


def denoiser(pipe):
    """The network that runs every step: the UNet (SDXL) or the transformer (others)."""
    return pipe.unet if hasattr(pipe, "unet") and pipe.unet is not None else pipe.transformer


CHECKPOINT_PREFIX = "model.diffusion_model."


def checkpoint_keys(path: str | Path) -> set[str]:
    """The tensor names of a .safetensors checkpoint (read from its header, no weights),
    with the ``model.diffusion_model.`` prefix of original checkpoints removed."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), "pt") as f:
            keys = list(f.keys())
    except Exception as e:   # safetensors raises its own error types for a bad header
        raise ModelError(f"{path} is not a readable .safetensors checkpoint: {e}") from None
    return {k[len(CHECKPOINT_PREFIX):] if k.startswith(CHECKPOINT_PREFIX) else k
            for k in keys}


def _from_single_file(preset: RendererPreset, options: LoadOptions, dtype, cls_name: str,
                      denoiser_spec: tuple[str, str]):
    """A pipeline from a single-file checkpoint (ComfyUI/CivitAI style): the whole pipeline
    when the file holds every component, else the denoiser from the file and the rest
    (VAE, text encoders, scheduler, configs) from ``options.base``."""
    from diffusers.loaders.single_file_utils import SingleFileComponentError

    base = options.base
    if not base:
        raise ModelError(f"{preset.repo}: a single-file checkpoint needs the diffusers "
                         f"pipeline it belongs to for its configs and missing parts: pass "
                         f"base=<directory or cached repo> (CLI: --base)")
    kw = {dtype_keyword(): dtype, "local_files_only": options.local_files_only}
    try:
        with quiet_diffusers():
            try:
                return _class(cls_name).from_single_file(preset.repo, config=base, **kw)
            except SingleFileComponentError:
                name, net_cls = denoiser_spec
                net = _class(net_cls).from_single_file(preset.repo, config=base,
                                                       subfolder=name, **kw)
                return _class(cls_name).from_pretrained(base, **{name: net}, **kw)
    except (OSError, ValueError, KeyError, RuntimeError) as e:
        raise ModelError(f"could not load the checkpoint {preset.repo} with base {base}: "
                         f"{str(e).splitlines()[0][:300]}") from None


def load_pipeline(preset: RendererPreset, options: LoadOptions, name: str = "", *,
                  pipeline_class: str, denoiser_spec: tuple[str, str] | None = None):
    """Load a preset's text-to-image pipeline and place it on its device.

    Args:
        preset: from ``resolve_preset`` (or a family's preset for a local directory).
        pipeline_class: the diffusers class to load (the family's text-to-image pipeline).
        denoiser_spec: ``(attribute, class name)`` of the denoiser, for single files.
        options: device, dtype, offload, VAE tiling/slicing, torch.compile.
        name: the preset's name, for error messages.
    Returns:
        The diffusers pipeline, progress bar off.
    Raises:
        ModelError: no usable device, or weights not found (naming what to download and
            where they are looked for).
    """
    device = resolve_device(options.device, name or preset.repo)
    dtype = _torch_dtype(preset, options, device)
    if preset.repo.endswith(".safetensors"):
        pipe = _from_single_file(preset, options, dtype, pipeline_class, denoiser_spec)
    else:
        pipe = _from_pretrained(preset, options, dtype, pipeline_class)
    if preset.unet_weights is not None:
        _load_unet_weights(pipe, preset.unet_weights, options.local_files_only)
    vae = options.vae or preset.vae
    if vae:
        pipe.vae = _load_vae(vae, dtype, options.local_files_only)
    if options.loras:
        load_loras(pipe, options.loras)
    if preset.scheduler:
        options_ = dict(preset.scheduler_options)
        pipe.scheduler = _class(preset.scheduler).from_config(pipe.scheduler.config, **options_)
    if device == "cpu":   # moving to a GPU copies anyway; a copy here would double host RAM
        for component in pipe.components.values():
            if hasattr(component, "named_parameters"):
                own_aligned_memory(component)
    _place(pipe, device, options)
    if options.compile:
        # Compiles in place (nn.Module.compile) so attention processors stay settable; a new
        # mask shape (another layout) recompiles once.
        denoiser(pipe).compile(mode="max-autotune-no-cudagraphs")
    pipe.set_progress_bar_config(disable=True)
    return pipe


@contextmanager
def quiet_diffusers():
    """Silence diffusers' warnings for the block (errors still show)."""
    import logging

    root = logging.getLogger("diffusers")
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


def _module_dtypes(pipe) -> dict:
    import torch

    return {name: m.dtype for name, m in pipe.components.items()
            if isinstance(m, torch.nn.Module) and hasattr(m, "dtype")}


def derived_pipeline(pipe, cls):
    """A ``cls`` pipeline sharing ``pipe``'s loaded modules, which keep their dtype and device.

    ``from_pipe`` converts every shared module to its ``torch_dtype`` argument (float32 when
    none is given, diffusers >= 0.33): passing the loaded dtype makes that a no-op. A pipeline
    whose modules hold several dtypes (an fp32 VAE beside a half-precision denoiser) is built
    from its components directly, so nothing is converted at all.
    """
    before = _module_dtypes(pipe)
    if len(set(before.values())) <= 1:
        with quiet_diffusers():   # its "cast with to()" warning: the cast is a no-op here
            other = cls.from_pipe(pipe, **{dtype_keyword(): denoiser(pipe).dtype})
    else:
        expected, optional = cls._get_signature_keys(cls)
        comps = {k: v for k, v in pipe.components.items() if k in expected}
        config = {k: pipe.config[k] for k in optional if k in pipe.config}
        other = cls(**comps, **config)
    changed = {k: (v, d) for k, v in before.items()
               if (d := _module_dtypes(pipe).get(k)) is not None and d != v}
    if changed:  # a diffusers version that converts anyway: say so rather than run on
        raise ModelError(f"building {cls.__name__} changed the dtype of {changed}")
    other.set_progress_bar_config(disable=True)
    return other


def hf_allow_download() -> bool:
    """Whether the user allowed downloads (LIMNER_ALLOW_DOWNLOAD=1); off by default."""
    return os.environ.get("LIMNER_ALLOW_DOWNLOAD", "") in ("1", "true", "yes")
