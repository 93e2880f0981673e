"""Tiny Qwen-Image (QwenImagePipeline; Img2Img and Inpaint share its components).

Real classes, random weights: QwenImageTransformer2DModel (2 blocks, 2 heads of 16),
AutoencoderKLQwenImage (base width 8, 4-channel latents, 8x spatial compression as the real one),
Qwen2_5_VLForConditionalGeneration (2 text layers of width 16, a 1-block vision tower) and an
offline byte-level Qwen2Tokenizer with the chat special tokens the pipeline's template uses.
Published sizes live in configs/architectures.yaml; this only has the same shape of parts.
"""

from __future__ import annotations

from model.tiny_builds.llm_text import qwen_tokenizer, token_id

TEXT_WIDTH = 16


def qwen25_vl_encoder(tok, hidden: int = TEXT_WIDTH, layers: int = 2):
    """A tiny Qwen2.5-VL (text 2 layers, vision 1 block) whose special ids match ``tok``."""
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    config = Qwen2_5_VLConfig(
        text_config=dict(hidden_size=hidden, intermediate_size=2 * hidden,
                         num_hidden_layers=layers, num_attention_heads=2,
                         num_key_value_heads=2, vocab_size=len(tok),
                         max_position_embeddings=2048, bos_token_id=None,
                         eos_token_id=token_id(tok, "<|im_end|>"),
                         rope_parameters=dict(rope_type="default", rope_theta=1e6,
                                              mrope_section=[1, 1, 2])),
        vision_config=dict(depth=1, hidden_size=hidden, intermediate_size=hidden,
                           num_heads=2, out_hidden_size=hidden, fullatt_block_indexes=[0]),
        vocab_size=len(tok),
        image_token_id=token_id(tok, "<|image_pad|>"),
        video_token_id=token_id(tok, "<|video_pad|>"),
        vision_start_token_id=token_id(tok, "<|vision_start|>"),
        vision_end_token_id=token_id(tok, "<|vision_end|>"),
        pad_token_id=tok.pad_token_id, eos_token_id=token_id(tok, "<|im_end|>"))
    return Qwen2_5_VLForConditionalGeneration(config).eval()


def build() -> dict:
    """The components of a tiny ``QwenImagePipeline`` (random init, float32, CPU)."""
    from diffusers import (AutoencoderKLQwenImage, FlowMatchEulerDiscreteScheduler,
                           QwenImageTransformer2DModel)

    z_dim = 4
    transformer = QwenImageTransformer2DModel(
        patch_size=2, in_channels=4 * z_dim, out_channels=z_dim, num_layers=2,
        attention_head_dim=16, num_attention_heads=2, joint_attention_dim=TEXT_WIDTH,
        guidance_embeds=False, axes_dims_rope=(8, 4, 4))
    vae = AutoencoderKLQwenImage(
        base_dim=8, z_dim=z_dim, dim_mult=[1, 1, 2, 2], num_res_blocks=1,
        temperal_downsample=[False, True, True], latents_mean=[0.0] * z_dim,
        latents_std=[1.0] * z_dim)
    tok = qwen_tokenizer()
    # Qwen-Image's scheduler config shifts timesteps with the image size (use_dynamic_shifting)
    scheduler = FlowMatchEulerDiscreteScheduler(
        use_dynamic_shifting=True, base_shift=0.5, max_shift=0.9, base_image_seq_len=256,
        max_image_seq_len=8192, shift_terminal=0.02, time_shift_type="exponential")
    return dict(transformer=transformer, vae=vae.eval(), scheduler=scheduler,
                text_encoder=qwen25_vl_encoder(tok), tokenizer=tok)
