"""Tiny random-init pipelines of the real diffusers classes, built offline.

Used by the tests and ``scripts/bench_diffusion.py``: every family the diffusion renderer
supports (SDXL, SD3, FLUX.1 schnell/dev, PixArt-Sigma) gets a pipeline of the same classes a
user loads from real weights, only with one or two blocks of width 16-32, so a 32x32 image
takes a fraction of a second on CPU. Tokenizers are built from in-memory vocabularies (no hub).

``save_tiny(family, path)`` writes one with ``save_pretrained``, so a test can load it back
through the user's loading path (``model.diffusion.load_pipeline``).
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

FAMILIES = ("sdxl", "sd3", "flux", "flux-dev", "pixart")

_CHARS = string.ascii_lowercase + string.digits + ".,!?'-#:;()"
_TEXT_WIDTH = 32


def clip_tokenizer(max_length: int = 77):
    """A CLIP BPE tokenizer over single characters (no merges): every word splits into letters."""
    from transformers import CLIPTokenizer

    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in _CHARS:
        vocab.setdefault(c, len(vocab))
        vocab.setdefault(c + "</w>", len(vocab))
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=max_length)


def t5_tokenizer(max_length: int = 512):
    """A T5 Unigram tokenizer over single characters and word-initial characters."""
    from transformers import T5Tokenizer

    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -2.0)]
    pieces += [(c, -3.0) for c in _CHARS] + [("\u2581" + c, -3.5) for c in _CHARS]
    return T5Tokenizer(vocab=pieces, extra_ids=0, model_max_length=max_length)


def _clip_text(with_projection: bool, vocab_size: int):
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    config = CLIPTextConfig(
        hidden_size=_TEXT_WIDTH, intermediate_size=37, num_hidden_layers=2,
        num_attention_heads=4, vocab_size=vocab_size, projection_dim=_TEXT_WIDTH,
        max_position_embeddings=77, bos_token_id=0, eos_token_id=1, pad_token_id=1,
        hidden_act="gelu")
    cls = CLIPTextModelWithProjection if with_projection else CLIPTextModel
    return cls(config).eval()


def _t5_encoder(vocab_size: int):
    from transformers import T5Config, T5EncoderModel

    config = T5Config(vocab_size=vocab_size, d_model=_TEXT_WIDTH, d_kv=8, d_ff=37,
                      num_layers=1, num_heads=4, relative_attention_num_buckets=8,
                      decoder_start_token_id=0, pad_token_id=0, eos_token_id=1)
    return T5EncoderModel(config).eval()


def _vae(latent_channels: int, **kw: Any):
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        block_out_channels=(8, 16), in_channels=3, out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        latent_channels=latent_channels, norm_num_groups=4, sample_size=32, **kw).eval()


def _sdxl() -> dict:
    from diffusers import EulerDiscreteScheduler, UNet2DConditionModel

    tok = clip_tokenizer()
    unet = UNet2DConditionModel(
        block_out_channels=(16, 32), layers_per_block=1, sample_size=16, in_channels=4,
        out_channels=4, down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
        attention_head_dim=(2, 4), norm_num_groups=8, use_linear_projection=True,
        addition_embed_type="text_time", addition_time_embed_dim=8,
        transformer_layers_per_block=(1, 1), cross_attention_dim=2 * _TEXT_WIDTH,
        projection_class_embeddings_input_dim=6 * 8 + _TEXT_WIDTH)
    scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012,
                                       beta_schedule="scaled_linear", steps_offset=1,
                                       timestep_spacing="leading")
    return dict(unet=unet, vae=_vae(4), scheduler=scheduler,
                text_encoder=_clip_text(False, len(tok)), tokenizer=tok,
                text_encoder_2=_clip_text(True, len(tok)), tokenizer_2=clip_tokenizer())


def _sd3() -> dict:
    from diffusers import FlowMatchEulerDiscreteScheduler, SD3Transformer2DModel

    tok, t5 = clip_tokenizer(), t5_tokenizer()
    transformer = SD3Transformer2DModel(
        sample_size=16, patch_size=2, in_channels=16, num_layers=1, attention_head_dim=8,
        num_attention_heads=4, caption_projection_dim=_TEXT_WIDTH,
        joint_attention_dim=_TEXT_WIDTH, pooled_projection_dim=2 * _TEXT_WIDTH,
        out_channels=16)   # 16 latent channels as the real SD3 (its inpaint pipeline checks)
    return dict(transformer=transformer, scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0),
                vae=_vae(16, shift_factor=0.0609, scaling_factor=1.5035),
                text_encoder=_clip_text(True, len(tok)), tokenizer=tok,
                text_encoder_2=_clip_text(True, len(tok)), tokenizer_2=clip_tokenizer(),
                text_encoder_3=_t5_encoder(len(t5)), tokenizer_3=t5,
                image_encoder=None, feature_extractor=None)


def _flux(guidance: bool) -> dict:
    from diffusers import FlowMatchEulerDiscreteScheduler, FluxTransformer2DModel

    tok, t5 = clip_tokenizer(), t5_tokenizer()
    transformer = FluxTransformer2DModel(
        patch_size=1, in_channels=4, num_layers=1, num_single_layers=1, attention_head_dim=16,
        num_attention_heads=2, joint_attention_dim=_TEXT_WIDTH,
        pooled_projection_dim=_TEXT_WIDTH, axes_dims_rope=[4, 4, 8],
        guidance_embeds=guidance)
    return dict(transformer=transformer, scheduler=FlowMatchEulerDiscreteScheduler(),
                vae=_vae(1, use_quant_conv=False, use_post_quant_conv=False,
                         shift_factor=0.0609, scaling_factor=1.5035),
                text_encoder=_clip_text(False, len(tok)), tokenizer=tok,
                text_encoder_2=_t5_encoder(len(t5)), tokenizer_2=t5,
                image_encoder=None, feature_extractor=None)


def _pixart() -> dict:
    from diffusers import DPMSolverMultistepScheduler, PixArtTransformer2DModel

    t5 = t5_tokenizer(max_length=300)
    transformer = PixArtTransformer2DModel(
        sample_size=8, num_layers=1, patch_size=2, attention_head_dim=8, num_attention_heads=3,
        caption_channels=_TEXT_WIDTH, in_channels=4, cross_attention_dim=24, out_channels=8,
        attention_bias=True, activation_fn="gelu-approximate", num_embeds_ada_norm=1000,
        norm_type="ada_norm_single", norm_elementwise_affine=False, norm_eps=1e-6)
    return dict(transformer=transformer, vae=_vae(4), scheduler=DPMSolverMultistepScheduler(),
                text_encoder=_t5_encoder(len(t5)), tokenizer=t5)


_BUILDERS = {"sdxl": _sdxl, "sd3": _sd3, "flux": lambda: _flux(False),
             "flux-dev": lambda: _flux(True), "pixart": _pixart}


def pipeline_class(family: str):
    """The text-to-image pipeline class of a family (``sdxl``, ``sd3``, ``flux``, ``pixart``)."""
    import diffusers

    names = {"sdxl": "StableDiffusionXLPipeline", "sd3": "StableDiffusion3Pipeline",
             "flux": "FluxPipeline", "flux-dev": "FluxPipeline",
             "pixart": "PixArtSigmaPipeline"}
    return getattr(diffusers, names[family])


def build_tiny(family: str, seed: int = 0):
    """Build a tiny random-init text-to-image pipeline of ``family`` on CPU, float32.

    Args:
        family: one of FAMILIES.
        seed: seeds torch before the weights are drawn, so one seed gives one model.
    Returns:
        The diffusers pipeline (e.g. ``StableDiffusionXLPipeline``), progress bar off.
    """
    import torch

    if family not in _BUILDERS:
        raise ValueError(f"family must be one of {', '.join(FAMILIES)}; got {family!r}")
    torch.manual_seed(seed)
    pipe = pipeline_class(family)(**_BUILDERS[family]())
    pipe.set_progress_bar_config(disable=True)
    return pipe


def save_tiny(family: str, path: str | Path, seed: int = 0) -> Path:
    """Build a tiny pipeline and ``save_pretrained`` it to ``path`` (safetensors)."""
    path = Path(path)
    build_tiny(family, seed).save_pretrained(str(path), safe_serialization=True)
    return path
