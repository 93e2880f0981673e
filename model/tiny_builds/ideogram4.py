"""Tiny Ideogram 4: the real classes (Ideogram4Pipeline) at one block and width 16-32.

The text encoder is a head-less ``Qwen3VLModel`` (the class Ideogram 4 ships) with 36 decoder
layers of width 16: the pipeline taps hidden states at fixed layers up to 35
(``QWEN3_VL_ACTIVATION_LAYERS``), so the depth is the real one and the width is tiny. The
VAE is ``AutoencoderKLFlux2`` (two blocks, scale factor 2), both transformers one block.
The tokenizer is a byte-level BPE trained in-process with ChatML specials and a chat template
that reads content given as a list of parts, as Qwen3-VL's does (no hub).
"""

from __future__ import annotations

TEXT_LAYERS = 36     # the pipeline taps layers (0, 3, ..., 33, 35)
TEXT_WIDTH = 16
TAPS = 13            # len(QWEN3_VL_ACTIVATION_LAYERS)


def build() -> dict:
    """The components of a tiny ``Ideogram4Pipeline`` (random init, float32, CPU)."""
    from diffusers import (AutoencoderKLFlux2, FlowMatchEulerDiscreteScheduler,
                           Ideogram4Transformer2DModel)
    from transformers import Qwen3VLConfig, Qwen3VLModel

    from model.tiny_builds.qwen_tokenizer import chat_tokenizer

    tok = chat_tokenizer()
    config = Qwen3VLConfig(
        text_config=dict(vocab_size=len(tok), hidden_size=TEXT_WIDTH, intermediate_size=32,
                         num_hidden_layers=TEXT_LAYERS, num_attention_heads=2,
                         num_key_value_heads=1, head_dim=8, max_position_embeddings=4096,
                         rope_parameters={"rope_type": "default", "rope_theta": 10000.0,
                                          "mrope_section": [2, 1, 1],
                                          "mrope_interleaved": True},
                         pad_token_id=tok.pad_token_id),
        vision_config=dict(depth=1, hidden_size=16, intermediate_size=32, num_heads=2,
                           patch_size=8, out_hidden_size=TEXT_WIDTH,
                           num_position_embeddings=16, deepstack_visual_indexes=[0]),
        image_token_id=tok.convert_tokens_to_ids("<|image_pad|>"),
        video_token_id=tok.convert_tokens_to_ids("<|video_pad|>"),
        vision_start_token_id=tok.convert_tokens_to_ids("<|vision_start|>"),
        vision_end_token_id=tok.convert_tokens_to_ids("<|vision_end|>"))
    text_encoder = Qwen3VLModel(config).eval()
    vae = AutoencoderKLFlux2(
        block_out_channels=(8, 16), down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2, layers_per_block=1, latent_channels=4,
        norm_num_groups=4, sample_size=32).eval()
    def transformer():
        return Ideogram4Transformer2DModel(
            in_channels=4 * 4, num_layers=1, attention_head_dim=16, num_attention_heads=2,
            intermediate_size=32, adaln_dim=16, llm_features_dim=TEXT_WIDTH * TAPS,
            mrope_section=(4, 2, 2)).eval()
    return dict(scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae,
                text_encoder=text_encoder, tokenizer=tok, transformer=transformer(),
                unconditional_transformer=transformer())
