"""A tiny Qwen-style chat tokenizer, built offline: byte-level BPE trained in-process with the
``tokenizers`` library, ChatML and vision specials, and a chat template that accepts content
as a string or as a list of ``{"type": "text"|"image", ...}`` parts (as Qwen2.5/3-VL do)."""

from __future__ import annotations

SPECIALS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>",
            "<|vision_end|>", "<|image_pad|>", "<|video_pad|>")

CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'text' %}{{ part['text'] }}"
    "{% else %}<|vision_start|><|image_pad|><|vision_end|>{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")

_CORPUS = (
    '{"high_level_description":"A poster","compositional_deconstruction":{"background":'
    '"plain white","elements":[{"type":"obj","bbox":[100,200,500,800],"desc":"red apple"},'
    '{"type":"text","text":"HELLO","bbox":[0,0,100,1000],"desc":"title"}]}}',
    "Three green apples to the right of a red banana, on a transparent background.",
    'A poster with the title "OPEN 24/7" above two mugs; a rocket on the left.',
    "in the top-left third of the frame, large, small, medium-sized, bold type, centered",
)


def chat_tokenizer(vocab_size: int = 512, max_length: int = 4096):
    """A ``PreTrainedTokenizerFast`` (byte-level BPE) with the specials and chat template."""
    from model.tiny_llm import chatml_tokenizer

    return chatml_tokenizer(_CORPUS, SPECIALS, CHAT_TEMPLATE, vocab_size, max_length)
