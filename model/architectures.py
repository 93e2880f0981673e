"""Published real-size architectures: configs/architectures.yaml → frozen dataclasses.

Used by scripts/simulate_gpu.py, which builds each model at its real size on torch's meta
device (no weights, no memory) to count FLOPs and activation memory without a GPU. Loaded
strictly like every configs/*.yaml: an unknown key is an error naming the key and the entry;
a component's ``config`` is checked against its class when the class is known to the installed
diffusers/transformers (``check_component``), so a misspelt config value fails loudly instead
of silently building a different model.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.config import CONFIG_DIR, ConfigError, build


@dataclass(frozen=True)
class Component:
    """One module of a pipeline at its published size.

    Args:
        cls: the diffusers or transformers class name (``FluxTransformer2DModel``,
            ``T5EncoderModel``, ...).
        config: constructor values (diffusers) or config values (transformers), as in the
            model repo's ``<component>/config.json``.
        source: where the values come from (repo and file).
    """

    cls: str
    config: dict = field(default_factory=dict)
    source: str = ""


@dataclass(frozen=True)
class Sampling:
    """Steps and guidance of a family without a renderers.yaml preset (from its model card)."""

    steps: int
    guidance: float
    size: tuple[int, int] = (1024, 1024)


@dataclass(frozen=True)
class Generator:
    """The autoregressive part of a family (GLM-Image, Janus-Pro): what its ``generate`` runs.

    Args:
        component: the ``components`` entry holding the generator model.
        language_model: attribute path (from that model) of its decoder stack.
        head: attribute path of the head over image codes (logits of one position).
        new_tokens: image codes sampled per image at the preset's native size.
        prompt_overhead: tokens the chat template and size markers add to the prompt's own.
        batch: sequences decoded together (2 under classifier-free guidance).
        step_input: attribute path of a module a sampled code's embedding passes through
            before the decoder stack (Janus' generation aligner), or None (a table lookup).
        source: where ``new_tokens``, ``batch`` and ``prompt_overhead`` come from.
    """

    component: str
    language_model: str
    head: str
    new_tokens: int
    prompt_overhead: int
    batch: int = 1
    step_input: str | None = None
    source: str = ""


@dataclass(frozen=True)
class Architecture:
    """A family (or preset) at its published size.

    Args:
        pipeline: the diffusers text-to-image pipeline class.
        repo: the model repo the values describe.
        dtype: the dtype the weights ship in (bfloat16 / float16).
        components: pipeline argument name → Component (denoiser, vae, text encoders).
        scheduler: the scheduler Component (config as in ``scheduler/scheduler_config.json``).
        preset: the configs/renderers.yaml preset that loads it (sampling comes from it).
        sampling: steps/guidance when there is no preset yet.
        family: limner's family key (render/families) when limner has an adapter.
        simulated_by: a pipeline class over the same modules that the simulation calls
            instead of ``pipeline`` (when ``pipeline`` needs something meta cannot give).
        notes: what is not published or what the simulation leaves out.
        generator: the autoregressive generator of an AR family (``Generator``), else None.
    """

    pipeline: str
    repo: str
    dtype: str
    components: dict
    scheduler: Component | None = None
    preset: str | None = None
    sampling: Sampling | None = None
    family: str | None = None
    simulated_by: str | None = None
    notes: str = ""
    generator: Generator | None = None


def _component(data: Any, where: str) -> Component:
    comp = build(Component, data, where)
    if not isinstance(comp.config, dict):
        raise ConfigError(f"{where}.config: expected a mapping")
    return comp


def load_architectures(path: str | Path | None = None) -> dict[str, Architecture]:
    """All entries of configs/architectures.yaml (or another file), strictly validated."""
    import yaml

    p = Path(path) if path else CONFIG_DIR / "architectures.yaml"
    with open(p, encoding="utf-8") as f:
        raw = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{p}: expected a mapping of names")
    out = {}
    for name, entry in raw.items():
        if str(name).startswith("_"):   # shared blocks referenced by YAML anchors
            continue
        where = f"{p.name}:{name}"
        arch = build(Architecture, entry, where)
        if not isinstance(arch.components, dict) or not arch.components:
            raise ConfigError(f"{where}.components: expected a non-empty mapping")
        comps = {k: _component(v, f"{where}.components.{k}") for k, v in arch.components.items()}
        sched = (_component(arch.scheduler, f"{where}.scheduler")
                 if isinstance(arch.scheduler, dict) else arch.scheduler)
        sampling = arch.sampling
        if isinstance(sampling, dict):
            sampling = build(Sampling, sampling, f"{where}.sampling")
            sampling = Sampling(sampling.steps, sampling.guidance, tuple(sampling.size))
        if arch.preset is None and sampling is None:
            raise ConfigError(f"{where}: needs a preset (renderers.yaml) or sampling")
        out[name] = Architecture(pipeline=arch.pipeline, repo=arch.repo, dtype=arch.dtype,
                                 components=comps, scheduler=sched, preset=arch.preset,
                                 sampling=sampling, family=arch.family,
                                 simulated_by=arch.simulated_by, notes=arch.notes,
                                 generator=build(Generator, arch.generator,
                                                 f"{where}.generator")
                                 if isinstance(arch.generator, dict) else arch.generator)
    return out


def component_class(name: str):
    """The diffusers or transformers class ``name``, or None when neither has it."""
    import diffusers

    cls = getattr(diffusers, name, None)
    if cls is None:
        import transformers

        cls = getattr(transformers, name, None)
    return cls


def check_component(comp: Component, where: str) -> None:
    """Refuse config keys the class does not take.

    diffusers models: keys must be ``__init__`` parameters. transformers models: keys must be
    attributes of the class's default config (nested ``*_config`` mappings are checked
    against their sub-config the same way).
    """
    cls = component_class(comp.cls)
    if cls is None:
        raise ConfigError(f"{where}: class {comp.cls!r} is in neither diffusers nor "
                          "transformers as installed")
    config_class = getattr(cls, "config_class", None)
    if config_class is not None and hasattr(config_class, "model_type"):
        _check_hf_config(config_class(), comp.config, where)
        return
    params = inspect.signature(cls.__init__).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return
    unknown = sorted(set(comp.config) - set(params))
    if unknown:
        raise ConfigError(f"{where}.config: {comp.cls} takes no {', '.join(unknown)}")


def _check_hf_config(default, values: dict, where: str) -> None:
    known = set(default.to_dict()) | set(getattr(default, "attribute_map", {}))
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"{where}.config: {type(default).__name__} has no "
                          f"{', '.join(unknown)}")
    for key, sub in values.items():
        if key.endswith("_config") and isinstance(sub, dict):
            child = getattr(default, key, None)
            if child is not None and hasattr(child, "to_dict"):
                _check_hf_config(child, sub, f"{where}.config.{key}")
