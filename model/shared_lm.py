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
