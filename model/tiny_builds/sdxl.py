"""Tiny SDXL: ``StableDiffusionXLPipeline`` with a 2-block UNet of width 16/32."""

from __future__ import annotations

from model.tiny_builds.common import TEXT_WIDTH, clip_text, clip_tokenizer, vae


def build() -> dict:
    """The components of a tiny ``StableDiffusionXLPipeline`` (random init, float32, CPU)."""
    from diffusers import EulerDiscreteScheduler, UNet2DConditionModel

    tok = clip_tokenizer()
    unet = UNet2DConditionModel(
        block_out_channels=(16, 32), layers_per_block=1, sample_size=16, in_channels=4,
        out_channels=4, down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
        attention_head_dim=(2, 4), norm_num_groups=8, use_linear_projection=True,
        addition_embed_type="text_time", addition_time_embed_dim=8,
        transformer_layers_per_block=(1, 1), cross_attention_dim=2 * TEXT_WIDTH,
        projection_class_embeddings_input_dim=6 * 8 + TEXT_WIDTH)
    scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012,
                                       beta_schedule="scaled_linear", steps_offset=1,
                                       timestep_spacing="leading")
    return dict(unet=unet, vae=vae(4), scheduler=scheduler,
                text_encoder=clip_text(False, len(tok)), tokenizer=tok,
                text_encoder_2=clip_text(True, len(tok)), tokenizer_2=clip_tokenizer())
