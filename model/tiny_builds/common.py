"""Pieces shared by the tiny builds: offline CLIP/T5 tokenizers, text encoders, a 2-block VAE.

Tokenizers are built from in-memory vocabularies over single characters (no hub); encoders
are 1-2 layers of width 32. Every builder seeds nothing itself: ``model.tiny.build_tiny``
seeds torch once before the components are drawn.
"""

from __future__ import annotations

import string
from typing import Any

CHARS = string.ascii_lowercase + string.digits + ".,!?'-#:;()"
TEXT_WIDTH = 32


def clip_tokenizer(max_length: int = 77):
    """A CLIP BPE tokenizer over single characters (no merges): every word splits into letters."""
    from transformers import CLIPTokenizer

    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in CHARS:
        vocab.setdefault(c, len(vocab))
        vocab.setdefault(c + "</w>", len(vocab))
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=max_length)


def t5_tokenizer(max_length: int = 512):
    """A T5 Unigram tokenizer over single characters and word-initial characters."""
    from transformers import T5Tokenizer

    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -2.0)]
    pieces += [(c, -3.0) for c in CHARS] + [("\u2581" + c, -3.5) for c in CHARS]
    return T5Tokenizer(vocab=pieces, extra_ids=0, model_max_length=max_length)


def clip_text(with_projection: bool, vocab_size: int):
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    config = CLIPTextConfig(
        hidden_size=TEXT_WIDTH, intermediate_size=37, num_hidden_layers=2,
        num_attention_heads=4, vocab_size=vocab_size, projection_dim=TEXT_WIDTH,
        max_position_embeddings=77, bos_token_id=0, eos_token_id=1, pad_token_id=1,
        hidden_act="gelu")
    cls = CLIPTextModelWithProjection if with_projection else CLIPTextModel
    return cls(config).eval()


def t5_encoder(vocab_size: int):
    from transformers import T5Config, T5EncoderModel

    config = T5Config(vocab_size=vocab_size, d_model=TEXT_WIDTH, d_kv=8, d_ff=37,
                      num_layers=1, num_heads=4, relative_attention_num_buckets=8,
                      decoder_start_token_id=0, pad_token_id=0, eos_token_id=1)
    return T5EncoderModel(config).eval()


def vae(latent_channels: int, **kw: Any):
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        block_out_channels=(8, 16), in_channels=3, out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        latent_channels=latent_channels, norm_num_groups=4, sample_size=32, **kw).eval()
