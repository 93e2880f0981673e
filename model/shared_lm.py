"""One model load: the instruct LM (or VLM) a loaded image pipeline already holds.

Qwen-Image holds a Qwen2.5-VL (``Qwen2_5_VLForConditionalGeneration``), Qwen-Image-2.1 a
Qwen3-VL, FLUX.2 [dev] Mistral-Small-3.2 (``Mistral3ForConditionalGeneration``), FLUX.2
[klein] a ``Qwen3ForCausalLM``, Janus-Pro is itself a language model. Those modules keep their
language heads, so the planner can decode with them: no second download, no second copy.

A component qualifies when it is a transformers model that can generate text: its output
embedding (the language head) maps to its text vocabulary. Head-less encoders (Z-Image's
``Qwen3Model``, Ideogram 4's ``Qwen3VLModel``) and heads over image codes only (GLM-Image's
generator samples VQ codes) do not. Nothing here names a family: the test is what the module
is.

A VL module also answers questions about an image (``limner describe --question``) through
``vision_reader``: the pipeline's own processor when it holds one (Qwen-Image-Edit), else one
built from the module's config with transformers' own class tables (the processor and the PIL
image processor registered for its ``model_type``, patch and merge sizes from its vision
config), video-free where torchvision is missing (model/processors.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SharedLM:
    """A language model found inside a pipeline: ``module`` is the pipeline's own object
    (never a copy), ``tokenizer`` its tokenizer, ``component`` the attribute it sits in,
    ``vision`` whether it also reads images (a VLM)."""

    module: Any
    tokenizer: Any
    component: str
    vision: bool


def _text_lm(module: Any) -> bool:
    try:
        from transformers import PreTrainedModel
    except ImportError:
        return False
    if not isinstance(module, PreTrainedModel) or not module.can_generate():
        return False
    head = module.get_output_embeddings()
    if head is None or not hasattr(head, "out_features"):
        return False
    vocab = getattr(module.config.get_text_config(), "vocab_size", None)
    return vocab is not None and head.out_features == vocab


def _tokenizer_of(pipe: Any) -> Any:
    tok = getattr(pipe, "tokenizer", None)
    if tok is not None and hasattr(tok, "apply_chat_template"):
        return tok
    proc = getattr(pipe, "processor", None)
    return getattr(proc, "tokenizer", None)


def find_language_model(pipe: Any) -> SharedLM | None:
    """The first component of ``pipe`` (``pipe.components`` or its attributes) that is a
    text-generating LM with a chat tokenizer; None when the pipeline holds none."""
    if pipe is None:
        return None
    components = getattr(pipe, "components", None) or vars(pipe)
    tok = _tokenizer_of(pipe)
    if tok is None or not getattr(tok, "chat_template", None):
        return None
    for name, module in components.items():
        if _text_lm(module):
            vision = getattr(module.config, "vision_config", None) is not None
            return SharedLM(module, tok, name, vision)
    return None


def planner_llm(shared: SharedLM):
    """A planner model (``generate_json``) decoding with the pipeline's own module."""
    from model.llm import TransformersLLM

    device = str(getattr(shared.module, "device", "cpu"))
    return TransformersLLM(shared.module, shared.tokenizer, device)


FULL_TRUST_PARAMS = 7e9   # from about 7B parameters up a model's own additions are trusted


def planner_preset(shared: SharedLM):
    """The planner preset of a pipeline's LM: trust follows its size, as in planners.yaml
    (grounded below ~7B parameters, full above); reply bounds are the defaults."""
    from model.llm import PlannerPreset

    n = sum(p.numel() for p in shared.module.parameters())
    return PlannerPreset(path=f"<{shared.component} of the loaded pipeline>",
                         trust="full" if n >= FULL_TRUST_PARAMS else "grounded",
                         description=f"the renderer's {type(shared.module).__name__}")


# image-processor / processor arguments -> where a VL model's config keeps their value
_CONFIG_NAMES = {"patch_size": ("patch_size",), "temporal_patch_size": ("temporal_patch_size",),
                 "merge_size": ("spatial_merge_size", "merge_size"),
                 "spatial_merge_size": ("spatial_merge_size", "merge_size")}


def _config_values(config: Any, wanted) -> dict:
    """``{arg: value}`` for the args in ``wanted`` that the vision config (first) or the
    model config sets."""
    found = {}
    for arg in wanted:
        for source in (getattr(config, "vision_config", None), config):
            value = next((getattr(source, n) for n in _CONFIG_NAMES.get(arg, ())
                          if getattr(source, n, None) is not None), None)
            if value is not None:
                found[arg] = value
                break
    return found


def build_processor(module: Any, tokenizer: Any) -> Any | None:
    """The processor transformers registers for ``module``'s ``model_type``, built from a
    PIL image processor sized from the module's config and ``tokenizer``; None when
    transformers has no such pair or the processor cannot be built on this machine."""
    import inspect

    import transformers
    from transformers.models.auto.image_processing_auto import IMAGE_PROCESSOR_MAPPING_NAMES
    from transformers.models.auto.processing_auto import PROCESSOR_MAPPING_NAMES

    from model.processors import build_image_only

    kind = module.config.model_type
    names = IMAGE_PROCESSOR_MAPPING_NAMES.get(kind)
    image_name = names.get("pil") if isinstance(names, dict) else None
    proc_cls = getattr(transformers, PROCESSOR_MAPPING_NAMES.get(kind) or "", None)
    image_cls = getattr(transformers, image_name or "", None)
    if proc_cls is None or image_cls is None:
        return None
    valid = getattr(getattr(image_cls, "valid_kwargs", None), "__annotations__", {})
    extra = set(inspect.signature(proc_cls.__init__).parameters) - {"self", "kwargs"}
    try:
        return build_image_only(proc_cls, image_cls(**_config_values(module.config, valid)),
                                tokenizer, **_config_values(module.config, extra))
    except ImportError:    # a processor class that needs torchvision in any case (Pixtral)
        return None


def vision_reader(shared: SharedLM | None, pipe: Any = None):
    """A ``model.vlm.VLM`` that answers with ``shared.module`` itself (same object, same
    dtype and device), or None when ``shared`` reads no images or no processor can be had.

    Args:
        shared: what ``find_language_model(pipe)`` found.
        pipe: the pipeline; its own ``processor`` is used when it has an image processor.
    """
    if shared is None or not shared.vision:
        return None
    from model.vlm import VLM, VLMPreset

    # FLUX.2 [dev] ships its PixtralProcessor as the pipeline's "tokenizer"
    proc = next((p for p in (getattr(pipe, "processor", None), shared.tokenizer)
                 if getattr(p, "image_processor", None) is not None), None)
    if proc is None:
        proc = build_processor(shared.module, shared.tokenizer)
    if proc is None or not getattr(proc, "chat_template", None):
        return None
    return VLM(shared.module, proc, VLMPreset(repo=f"<{shared.component} of the loaded "
                                                    "pipeline>", chat=True))
