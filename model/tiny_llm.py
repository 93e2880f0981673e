"""A tiny random-init instruct LLM of a real class (LlamaForCausalLM), built offline.

For tests and scripts: the same classes a user loads from real weights, with one layer of width
32 and a byte-level BPE tokenizer trained in-process with the ``tokenizers`` library on a few
lines of JSON-like text (no hub). ``save_tiny_llm(path)`` writes it with ``save_pretrained`` so a
test loads it back through ``model.llm.load`` (``from_pretrained``, ``local_files_only``).
"""

from __future__ import annotations

from pathlib import Path

SPECIALS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")

# ChatML, as SmolLM2 and Qwen2.5 use it.
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")

_CORPUS = (
    '{"objects": [{"name": "apple", "count": 3, "color": "green"}], "aspect": "16:9"}',
    '{"texts": [{"content": "HELLO", "role": "title", "position": null}]}',
    '{"relations": [{"a": "cat", "rel": "left of", "b": "dog"}], "background": "sky"}',
    "Three green apples to the right of a red banana, on a transparent background.",
    "A poster with the title above two mugs; a rocket on the left, a moon at the top.",
)


def tiny_tokenizer(vocab_size: int = 400):
    """A byte-level BPE ``PreTrainedTokenizerFast`` with ChatML specials and template."""
    return chatml_tokenizer(_CORPUS, SPECIALS, CHAT_TEMPLATE, vocab_size, max_length=2048)


def chatml_tokenizer(corpus, specials, template: str, vocab_size: int, max_length: int):
    """A byte-level BPE ``PreTrainedTokenizerFast`` trained in-process on ``corpus`` (no
    hub), with ``specials`` as special tokens, ChatML end/pad tokens and ``template``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(specials),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(tuple(corpus) * 4, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>",
                                   pad_token="<|endoftext|>", bos_token=None,
                                   model_max_length=max_length)
    fast.chat_template = template
    return fast


def tiny_llm(seed: int = 0):
    """(model, tokenizer): a 1-layer LlamaForCausalLM with random weights."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = tiny_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=2048,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None, tie_word_embeddings=True)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config).eval()
    return model, tokenizer


def save_tiny_llm(path: str | Path, seed: int = 0) -> Path:
    """Write the tiny model and tokenizer with ``save_pretrained``; returns the directory."""
    path = Path(path)
    model, tokenizer = tiny_llm(seed)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
