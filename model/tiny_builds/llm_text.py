"""Offline tokenizers and tiny LLM text encoders for the LLM-encoder families.

Qwen-Image, Z-Image and FLUX.2 read prompts through a chat-tuned LLM (Qwen2.5-VL, Qwen3,
Mistral 3). Their pipelines format the prompt with a chat template and special tokens
(``<|im_start|>``, ``<|vision_start|>``, ``[INST]``...), so a tiny build needs a tokenizer that
knows those tokens and a template that produces the same shape of text. The tokenizer here is
a byte-level BPE without merges: every UTF-8 byte is one token, so any script tokenizes, and
the special tokens are added on top. The chat templates are short Jinja written for these
tests; they follow the layout the real templates produce (role header, content, end marker,
generation prompt) but are not copies of them.
"""

from __future__ import annotations

QWEN_SPECIALS = ("<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
                 "<|image_pad|>", "<|video_pad|>", "<think>", "</think>")

# Qwen-style chat: "<|im_start|>role\ncontent<|im_end|>\n" per message; content may be a
# string or a list of {"type": "text"|"image"} parts. enable_thinking=False (Qwen3) closes
# an empty think block after the generation prompt.
QWEN_CHAT_TEMPLATE = (
    "{%- for m in messages -%}"
    "<|im_start|>{{ m['role'] }}\n"
    "{%- if m['content'] is string -%}{{ m['content'] }}"
    "{%- else -%}{%- for part in m['content'] -%}"
    "{%- if part['type'] == 'text' -%}{{ part['text'] }}"
    "{%- else -%}<|vision_start|><|image_pad|><|vision_end|>{%- endif -%}"
    "{%- endfor -%}{%- endif -%}"
    "<|im_end|>\n"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}<|im_start|>assistant\n"
    "{%- if enable_thinking is defined and enable_thinking is false -%}"
    "<think>\n\n</think>\n\n{%- endif -%}{%- endif -%}")

MISTRAL_SPECIALS = ("<unk>", "<s>", "</s>", "[INST]", "[/INST]", "[SYSTEM_PROMPT]",
                    "[/SYSTEM_PROMPT]", "[IMG]", "[IMG_BREAK]", "[IMG_END]")

# Mistral-3-style chat: "<s>[SYSTEM_PROMPT]...[/SYSTEM_PROMPT][INST]...[/INST]".
MISTRAL_CHAT_TEMPLATE = (
    "{{- bos_token -}}"
    "{%- for m in messages -%}"
    "{%- set text = m['content'] if m['content'] is string else "
    "(m['content'] | selectattr('type', 'equalto', 'text') | map(attribute='text') | join('')) -%}"
    "{%- if m['role'] == 'system' -%}[SYSTEM_PROMPT]{{ text }}[/SYSTEM_PROMPT]"
    "{%- elif m['role'] == 'user' -%}[INST]{{ text }}[/INST]"
    "{%- else -%}{{ text }}{{ eos_token }}{%- endif -%}"
    "{%- endfor -%}")


def byte_vocab(first: tuple[str, ...] = ("<|endoftext|>",)) -> dict[str, int]:
    """``first`` tokens, then the 256 byte-level characters (GPT-2's byte alphabet)."""
    from tokenizers import pre_tokenizers

    vocab = {t: i for i, t in enumerate(first)}
    for c in sorted(pre_tokenizers.ByteLevel.alphabet()):
        vocab.setdefault(c, len(vocab))
    return vocab


def qwen_tokenizer(max_length: int = 4096):
    """A ``Qwen2Tokenizer`` (tokenizers backend) over bytes with Qwen's chat special tokens.

    Returns:
        The tokenizer; ``convert_tokens_to_ids("<|image_pad|>")`` etc. give the special ids.
    """
    from transformers import Qwen2Tokenizer

    tok = Qwen2Tokenizer(vocab=byte_vocab(), merges=[], model_max_length=max_length)
    tok.add_special_tokens({"additional_special_tokens": list(QWEN_SPECIALS)})
    tok.chat_template = QWEN_CHAT_TEMPLATE
    return tok


def mistral_tokenizer(max_length: int = 4096):
    """A byte-level BPE tokenizer with Mistral 3's special tokens and chat layout."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE(vocab=byte_vocab(MISTRAL_SPECIALS), merges=[]))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    tok = PreTrainedTokenizerFast(tokenizer_object=core, model_max_length=max_length,
                                  bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                  pad_token="<unk>")
    tok.add_special_tokens({"additional_special_tokens": list(MISTRAL_SPECIALS[3:])})
    tok.chat_template = MISTRAL_CHAT_TEMPLATE
    return tok


def token_id(tok, token: str) -> int:
    """The id of one special token (raises if the tokenizer does not know it)."""
    i = tok.convert_tokens_to_ids(token)
    if i is None or i == tok.unk_token_id and token != tok.unk_token:
        raise KeyError(token)
    return i
