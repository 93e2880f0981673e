"""Vision-language models for `limner describe`: presets, loading, captions and answers.

Weights come from a local directory or the local Hugging Face cache only
(``local_files_only=True``); no remote code is run. ``build_tiny_vlm`` makes a random-init
Idefics3 (the SmolVLM architecture) with its processor and a tokenizer trained in-process,
so the whole path is tested offline.

torch and transformers are imported inside the functions that need them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from model.config import ConfigError, load_presets
from model.errors import ModelError

if TYPE_CHECKING:
    from PIL import Image


class VLMError(ModelError):
    """A VLM that cannot be loaded or asked: says which preset/path and how to get the
    weights (a ModelError, so the CLI prints it on one line)."""


@dataclass(frozen=True)
class VLMPreset:
    repo: str
    model_class: str = "AutoModelForImageTextToText"
    processor_class: str = "AutoProcessor"
    chat: bool = True
    caption_prompt: str = "Describe this image in one sentence."
    question_template: str | None = "{question}"
    max_new_tokens: int | None = None   # None: the model's generation_config, else 96
    dtype: str = "float32"


DTYPES = ("float32", "bfloat16", "float16")


def known_presets() -> dict[str, VLMPreset]:
    """configs/vlm.yaml, strictly loaded."""
    return load_presets("vlm.yaml", VLMPreset)


def resolve(name_or_path: str) -> VLMPreset:
    """A preset by name, or a default preset for a local model directory.

    Raises:
        VLMError: naming the known presets when ``name_or_path`` is neither.
    """
    presets = known_presets()
    if name_or_path in presets:
        preset = presets[name_or_path]
    elif Path(name_or_path).is_dir():
        preset = VLMPreset(repo=str(name_or_path))
    else:
        raise VLMError(f"unknown VLM {name_or_path!r}: use a local model directory or one "
                       f"of {', '.join(presets)} (configs/vlm.yaml)")
    if preset.dtype not in DTYPES:
        raise ConfigError(f"vlm preset {name_or_path}: dtype must be one of "
                          f"{', '.join(DTYPES)}; got {preset.dtype!r}")
    return preset


def _transformers_class(name: str):
    import transformers

    cls = getattr(transformers, name, None)
    if cls is None:
        raise VLMError(f"transformers {transformers.__version__} has no class {name}; "
                       "upgrade transformers or pick another preset")
    return cls


class VLM:
    """A loaded model + processor. ``caption(image)`` and ``ask(image, question)`` → str."""

    def __init__(self, model: Any, processor: Any, preset: VLMPreset):
        self.model = model
        self.processor = processor
        self.preset = preset

    def caption(self, image: "Image.Image") -> str:
        return self.generate(image, self.preset.caption_prompt)

    def ask(self, image: "Image.Image", question: str) -> str:
        """Answer a free-form question about ``image``.

        Raises:
            VLMError: when the preset's model does not take free questions (Florence-2).
        """
        if self.preset.question_template is None:
            raise VLMError(f"the VLM {self.preset.repo} answers no free questions; "
                           "use a chat VLM preset (smolvlm, qwen2-vl)")
        return self.generate(image, self.preset.question_template.format(question=question))

    def _inputs(self, image: "Image.Image", prompt: str):
        rgb = image.convert("RGB")
        if self.preset.chat:
            messages = [{"role": "user", "content": [{"type": "image", "image": rgb},
                                                     {"type": "text", "text": prompt}]}]
            return self.processor.apply_chat_template(
                messages, add_generation_prompt=True, tokenize=True, return_dict=True,
                return_tensors="pt")
        return self.processor(text=prompt, images=rgb, return_tensors="pt")

    def generate(self, image: "Image.Image", prompt: str) -> str:
        """Greedy decoding of the model's reply to ``prompt`` about ``image``."""
        import torch

        inputs = self._inputs(image, prompt).to(self.model.device)
        if "pixel_values" in inputs:
            inputs["pixel_values"] = inputs["pixel_values"].to(self.model.dtype)
        limit = (self.preset.max_new_tokens
                 or getattr(self.model.generation_config, "max_new_tokens", None) or 96)
        with torch.inference_mode():
            out = self.model.generate(**inputs, max_new_tokens=limit, do_sample=False)
        if not self.model.config.is_encoder_decoder:
            out = out[:, inputs["input_ids"].shape[1]:]    # (1, new tokens)
        return self.processor.batch_decode(out, skip_special_tokens=True)[0].strip()


def load_vlm(name_or_path: str, device: str | None = None) -> VLM:
    """Load a VLM preset (configs/vlm.yaml) or a local model directory, offline.

    Args:
        name_or_path: preset name or directory with config.json + processor files.
        device: ``cpu`` (default) or ``cuda``.
    Returns:
        A VLM ready for ``caption``/``ask``.
    Raises:
        VLMError: weights not found locally (says how to download them).
    """
    import torch

    preset = resolve(name_or_path)
    model_cls = _transformers_class(preset.model_class)
    proc_cls = _transformers_class(preset.processor_class)
    dtype = getattr(torch, preset.dtype)
    try:
        processor = proc_cls.from_pretrained(preset.repo, local_files_only=True)
        model = model_cls.from_pretrained(preset.repo, local_files_only=True, dtype=dtype)
    except (OSError, ValueError) as e:
        hint = ("" if Path(preset.repo).is_dir() else
                f"; download it where a hub is reachable: huggingface-cli download "
                f"{preset.repo}")
        raise VLMError(f"cannot load VLM {name_or_path!r} from {preset.repo} (local files "
                       f"only){hint}: {' '.join(str(e).split())[:200]}") from None
    return VLM(model.to(device or "cpu").eval(), processor, preset)


# --- a tiny random-init VLM for tests ---------------------------------------------------------
_TINY_SPECIAL = ("<|endoftext|>", "<|im_start|>", "<end_of_utterance>", "<image>",
                 "<fake_token_around_image>", "<global-img>")
# SmolVLM's prompt shape: "<|im_start|>User:<image>question<end_of_utterance>\nAssistant:"
_TINY_TEMPLATE = (
    "<|im_start|>{% for m in messages %}{{ m['role'] | capitalize }}:"
    "{% if m['content'] is string %}{{ m['content'] }}{% else %}{% for c in m['content'] %}"
    "{% if c['type'] == 'image' %}<image>{% elif c['type'] == 'text' %}{{ c['text'] }}"
    "{% endif %}{% endfor %}{% endif %}<end_of_utterance>\n{% endfor %}"
    "{% if add_generation_prompt %}Assistant:{% endif %}")


def _tiny_tokenizer():
    """A byte-level BPE tokenizer trained in-process on a few sentences (no download)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=list(_TINY_SPECIAL),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    corpus = ["describe this image in one sentence", "what colour is the apple?",
              "a red apple on a white table", "User: Assistant:"]
    tok.train_from_iterator(corpus * 10, trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<|im_start|>", eos_token="<end_of_utterance>",
        pad_token="<|endoftext|>", model_max_length=1024,
        extra_special_tokens={"image_token": "<image>",
                              "fake_image_token": "<fake_token_around_image>",
                              "global_image_token": "<global-img>"})


def build_tiny_vlm(directory: str | Path, seed: int = 0) -> Path:
    """Save a random-init Idefics3ForConditionalGeneration (SmolVLM's class) + processor.

    1 text layer (width 32), 1 vision layer (32 px images, 8 px patches, pixel shuffle 2:
    4 image tokens). Loads back through ``load_vlm(directory)``.

    Returns:
        The directory.
    """
    import torch
    from transformers import (Idefics3Config, Idefics3ForConditionalGeneration,
                              Idefics3ImageProcessor, Idefics3Processor)

    tok = _tiny_tokenizer()
    ids = {t: tok.convert_tokens_to_ids(t) for t in _TINY_SPECIAL}
    image_proc = Idefics3ImageProcessor(do_image_splitting=False, size={"longest_edge": 32},
                                        max_image_size={"longest_edge": 32})
    processor = Idefics3Processor(image_processor=image_proc, tokenizer=tok, image_seq_len=4,
                                  chat_template=_TINY_TEMPLATE)
    config = Idefics3Config(
        text_config=dict(model_type="llama", vocab_size=len(tok), hidden_size=32,
                         intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                         num_key_value_heads=1, max_position_embeddings=1024,
                         bos_token_id=ids["<|im_start|>"],
                         eos_token_id=ids["<end_of_utterance>"],
                         pad_token_id=ids["<|endoftext|>"]),
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                           num_attention_heads=2, image_size=32, patch_size=8),
        scale_factor=2, image_token_id=ids["<image>"], pad_token_id=ids["<|endoftext|>"])
    torch.manual_seed(seed)
    model = Idefics3ForConditionalGeneration(config).eval()
    model.generation_config.max_new_tokens = 8       # keeps tests fast; load_vlm reads it
    out = Path(directory)
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out
