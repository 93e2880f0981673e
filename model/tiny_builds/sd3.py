"""Tiny SD3/SD3.5: ``StableDiffusion3Pipeline`` with a 1-block MMDiT over 16 latent channels
(the real count: SD3's inpaint pipeline checks it)."""

from __future__ import annotations

from model.tiny_builds.common import (TEXT_WIDTH, clip_text, clip_tokenizer, t5_encoder,
                                      t5_tokenizer, vae)


def build() -> dict:
    """The components of a tiny ``StableDiffusion3Pipeline`` (random init, float32, CPU)."""
    from diffusers import FlowMatchEulerDiscreteScheduler, SD3Transformer2DModel

    tok, t5 = clip_tokenizer(), t5_tokenizer()
    transformer = SD3Transformer2DModel(
        sample_size=16, patch_size=2, in_channels=16, num_layers=1, attention_head_dim=8,
        num_attention_heads=4, caption_projection_dim=TEXT_WIDTH,
        joint_attention_dim=TEXT_WIDTH, pooled_projection_dim=2 * TEXT_WIDTH,
        out_channels=16)
    return dict(transformer=transformer, scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0),
                vae=vae(16, shift_factor=0.0609, scaling_factor=1.5035),
                text_encoder=clip_text(True, len(tok)), tokenizer=tok,
                text_encoder_2=clip_text(True, len(tok)), tokenizer_2=clip_tokenizer(),
                text_encoder_3=t5_encoder(len(t5)), tokenizer_3=t5,
                image_encoder=None, feature_extractor=None)
