"""Tiny Z-Image (ZImagePipeline; Img2Img and Inpaint share its components).

Real classes, random weights: ZImageTransformer2DModel (2 layers + 1 refiner, width 32),
an AutoencoderKL with 16-channel latents (Z-Image uses FLUX.1's VAE layout), a 2-layer
Qwen3Model text encoder (the pipeline reads ``hidden_states[-2]``) and an offline byte-level
Qwen2Tokenizer with a Qwen-style chat template (the pipeline calls ``apply_chat_template``
with ``enable_thinking``).
"""

from __future__ import annotations

from model.tiny_builds.llm_text import qwen_tokenizer, token_id

TEXT_WIDTH = 16


def qwen3(tok, hidden: int = TEXT_WIDTH, layers: int = 2, causal_lm: bool = False):
    """A tiny Qwen3 (``Qwen3Model``, or ``Qwen3ForCausalLM`` for FLUX.2 [klein])."""
    from transformers import Qwen3Config, Qwen3ForCausalLM, Qwen3Model

    config = Qwen3Config(hidden_size=hidden, intermediate_size=2 * hidden,
                         num_hidden_layers=layers, num_attention_heads=2,
                         num_key_value_heads=2, head_dim=8, vocab_size=len(tok),
                         max_position_embeddings=2048, bos_token_id=None,
                         eos_token_id=token_id(tok, "<|im_end|>"),
                         pad_token_id=tok.pad_token_id)
    return (Qwen3ForCausalLM if causal_lm else Qwen3Model)(config).eval()


def build() -> dict:
    """The components of a tiny ``ZImagePipeline`` (random init, float32, CPU)."""
    import torch
    from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler, ZImageTransformer2DModel

    transformer = ZImageTransformer2DModel(
        all_patch_size=(2,), all_f_patch_size=(1,), in_channels=16, dim=32, n_layers=2,
        n_refiner_layers=1, n_heads=2, n_kv_heads=2, norm_eps=1e-5, qk_norm=True,
        cap_feat_dim=TEXT_WIDTH, rope_theta=256.0, t_scale=1000.0, axes_dims=[8, 4, 4],
        axes_lens=[1024, 128, 128])   # the first axis must hold the longest caption
    # the pad tokens are allocated with torch.empty: give them values so no NaN sneaks in
    with torch.no_grad():
        transformer.x_pad_token.normal_(0.0, 0.02)
        transformer.cap_pad_token.normal_(0.0, 0.02)
    vae = AutoencoderKL(
        # four blocks: 8x spatial compression, as FLUX.1's VAE that Z-Image uses
        in_channels=3, out_channels=3, block_out_channels=(8, 8, 16, 16), layers_per_block=1,
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
        latent_channels=16, norm_num_groups=4, sample_size=32, use_quant_conv=False,
        use_post_quant_conv=False, scaling_factor=0.3611, shift_factor=0.1159).eval()
    tok = qwen_tokenizer()
    return dict(transformer=transformer, vae=vae,
                scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0),
                text_encoder=qwen3(tok), tokenizer=tok)
