"""Tiny Qwen-Image-2.1 (QwenImage21Pipeline: text-to-image and condition images, RGBA out).

Real classes, random weights: QwenImage21Transformer2DModel (2 single-stream blocks, 2 heads
of 16, latents read unpatched as the real one does), AutoencoderKLQwenImage21 (base width 8,
4 input and 4 output channels = RGBA as the real one, 4-channel latents, 16x spatial
compression as the pipeline assumes), Qwen3VLForConditionalGeneration (2 text layers of
width 16, a 1-block vision tower with Qwen3-VL's 16 px patches) and a Qwen3VLProcessor built
from a Qwen2VLImageProcessorPil and an offline byte-level Qwen2Tokenizer
(model/processors.py: without torchvision, a processor without the video half).
Published sizes live in configs/architectures.yaml; this only has the same shape of parts.
"""

from __future__ import annotations

from model.tiny_builds.llm_text import qwen_tokenizer, token_id

TEXT_WIDTH = 16


def qwen3_vl_encoder(tok, hidden: int = TEXT_WIDTH, layers: int = 2):
    """A tiny Qwen3VLForConditionalGeneration (text 2 layers, vision 1 block of 16 px
    patches merged 2x2, as Qwen3-VL's) whose special ids match ``tok``."""
    from transformers import Qwen3VLConfig, Qwen3VLForConditionalGeneration

    config = Qwen3VLConfig(
        text_config=dict(vocab_size=len(tok), hidden_size=hidden, intermediate_size=2 * hidden,
                         num_hidden_layers=layers, num_attention_heads=2,
                         num_key_value_heads=1, head_dim=8, max_position_embeddings=4096,
                         rope_parameters={"rope_type": "default", "rope_theta": 5e6,
                                          "mrope_section": [2, 1, 1],
                                          "mrope_interleaved": True},
                         pad_token_id=tok.pad_token_id),
        vision_config=dict(depth=1, hidden_size=16, intermediate_size=32, num_heads=2,
                           patch_size=16, spatial_merge_size=2, temporal_patch_size=2,
                           out_hidden_size=hidden, num_position_embeddings=16,
                           deepstack_visual_indexes=[0]),
        image_token_id=token_id(tok, "<|image_pad|>"),
        video_token_id=token_id(tok, "<|video_pad|>"),
        vision_start_token_id=token_id(tok, "<|vision_start|>"),
        vision_end_token_id=token_id(tok, "<|vision_end|>"))
    return Qwen3VLForConditionalGeneration(config).eval()


def processor(tok):
    """A Qwen3VLProcessor over ``tok`` with Qwen3-VL's image processor settings (16 px
    patches, 2x2 merge), small pixel bounds for tests."""
    from transformers import Qwen2VLImageProcessorPil, Qwen3VLProcessor

    from model.processors import build_image_only

    images = Qwen2VLImageProcessorPil(patch_size=16, merge_size=2, temporal_patch_size=2,
                                      min_pixels=32 * 32, max_pixels=128 * 128,
                                      image_mean=[0.5] * 3, image_std=[0.5] * 3)
    return build_image_only(Qwen3VLProcessor, images, tok)


def build() -> dict:
    """The components of a tiny ``QwenImage21Pipeline`` (random init, float32, CPU)."""
    from diffusers import (AutoencoderKLQwenImage21, FlowMatchEulerDiscreteScheduler,
                           QwenImage21Transformer2DModel)

    z_dim = 4
    transformer = QwenImage21Transformer2DModel(
        patch_size=1, in_channels=z_dim, out_channels=z_dim, num_layers=2,
        attention_head_dim=16, num_attention_heads=2, context_in_dim=TEXT_WIDTH,
        mlp_ratio=2, axes_dims_rope=(4, 6, 6))
    # five levels = four 2x downsamples: the 16x spatial compression the pipeline assumes
    vae = AutoencoderKLQwenImage21(
        base_dim=8, decoder_base_dim=8, z_dim=z_dim, dim_mult=[1, 1, 1, 1, 1],
        num_res_blocks=1, temperal_downsample=[False, True, True, True],
        latents_mean=[0.0] * z_dim, latents_std=[1.0] * z_dim)
    tok = qwen_tokenizer()
    # the real scheduler config's values (configs/architectures.yaml, qwen-image-2.1)
    scheduler = FlowMatchEulerDiscreteScheduler(
        use_dynamic_shifting=True, base_shift=0.5, max_shift=0.9, base_image_seq_len=256,
        max_image_seq_len=8192, shift_terminal=0.02, time_shift_type="exponential")
    return dict(transformer=transformer, vae=vae.eval(), scheduler=scheduler,
                text_encoder=qwen3_vl_encoder(tok), processor=processor(tok))
