"""Tiny PixArt-Sigma: ``PixArtSigmaPipeline`` with a 1-block DiT and a 1-layer T5."""

from __future__ import annotations

from model.tiny_builds.common import TEXT_WIDTH, t5_encoder, t5_tokenizer, vae


def build() -> dict:
    """The components of a tiny ``PixArtSigmaPipeline`` (random init, float32, CPU)."""
    from diffusers import DPMSolverMultistepScheduler, PixArtTransformer2DModel

    t5 = t5_tokenizer(max_length=300)
    transformer = PixArtTransformer2DModel(
        sample_size=8, num_layers=1, patch_size=2, attention_head_dim=8, num_attention_heads=3,
        caption_channels=TEXT_WIDTH, in_channels=4, cross_attention_dim=24, out_channels=8,
        attention_bias=True, activation_fn="gelu-approximate", num_embeds_ada_norm=1000,
        norm_type="ada_norm_single", norm_elementwise_affine=False, norm_eps=1e-6)
    return dict(transformer=transformer, vae=vae(4), scheduler=DPMSolverMultistepScheduler(),
                text_encoder=t5_encoder(len(t5)), tokenizer=t5)
