"""Tiny FLUX.1: ``FluxPipeline`` with 1 double + 1 single block; ``guidance=True`` gives the
guidance-embedding transformer of FLUX.1 [dev], ``False`` that of [schnell]."""

from __future__ import annotations

from model.tiny_builds.common import (TEXT_WIDTH, clip_text, clip_tokenizer, t5_encoder,
                                      t5_tokenizer, vae)


def build(guidance: bool = False) -> dict:
    """The components of a tiny ``FluxPipeline`` (random init, float32, CPU)."""
    from diffusers import FlowMatchEulerDiscreteScheduler, FluxTransformer2DModel

    tok, t5 = clip_tokenizer(), t5_tokenizer()
    transformer = FluxTransformer2DModel(
        patch_size=1, in_channels=4, num_layers=1, num_single_layers=1, attention_head_dim=16,
        num_attention_heads=2, joint_attention_dim=TEXT_WIDTH,
        pooled_projection_dim=TEXT_WIDTH, axes_dims_rope=[4, 4, 8],
        guidance_embeds=guidance)
    return dict(transformer=transformer, scheduler=FlowMatchEulerDiscreteScheduler(),
                vae=vae(1, use_quant_conv=False, use_post_quant_conv=False,
                        shift_factor=0.0609, scaling_factor=1.5035),
                text_encoder=clip_text(False, len(tok)), tokenizer=tok,
                text_encoder_2=t5_encoder(len(t5)), tokenizer_2=t5,
                image_encoder=None, feature_extractor=None)
