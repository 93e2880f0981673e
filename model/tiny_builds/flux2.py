"""Tiny FLUX.2: [klein] (Flux2KleinPipeline, Qwen3ForCausalLM encoder) and [dev]
(Flux2Pipeline, Mistral3ForConditionalGeneration encoder).

Real classes, random weights: Flux2Transformer2DModel (1 double + 1 single block, 2 heads of
16), AutoencoderKLFlux2 (four blocks of width 8-16, 2 latent channels patched 2x2 to 8), and an LLM
encoder of width 16. The pipelines stack the hidden states of fixed layers ((9, 18, 27) for
[klein], (10, 20, 30) for [dev]), so the tiny encoders are that deep (27 / 30 layers of width
16: still a few thousand parameters each) and the real call path runs unchanged.
"""

from __future__ import annotations

from model.tiny_builds.llm_text import mistral_tokenizer, qwen_tokenizer, token_id
from model.tiny_builds.zimage import qwen3

TEXT_WIDTH = 16
KLEIN_LAYERS = 27   # Flux2KleinPipeline reads hidden_states[9], [18], [27]
DEV_LAYERS = 30     # Flux2Pipeline reads hidden_states[10], [20], [30]


def _transformer(guidance: bool):
    from diffusers import Flux2Transformer2DModel

    return Flux2Transformer2DModel(
        patch_size=1, in_channels=8, num_layers=1, num_single_layers=1, attention_head_dim=16,
        num_attention_heads=2, joint_attention_dim=3 * TEXT_WIDTH,
        timestep_guidance_channels=256, axes_dims_rope=(4, 4, 4, 4),
        guidance_embeds=guidance)


def _vae():
    from diffusers import AutoencoderKLFlux2

    # four blocks: 8x spatial compression as the real VAE (then 2x2 patches: 16x per token)
    return AutoencoderKLFlux2(
        sample_size=32, in_channels=3, out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(8, 8, 16, 16), layers_per_block=1,
        latent_channels=2, norm_num_groups=4, use_quant_conv=False,
        use_post_quant_conv=False).eval()


def _scheduler():
    from diffusers import FlowMatchEulerDiscreteScheduler

    # FLUX.2 shifts its timesteps with the image size (dynamic shifting), as FLUX.1 does
    return FlowMatchEulerDiscreteScheduler(use_dynamic_shifting=True, base_shift=0.5,
                                           max_shift=1.15, base_image_seq_len=256,
                                           max_image_seq_len=4096)


def _klein() -> dict:
    tok = qwen_tokenizer()
    return dict(transformer=_transformer(False), vae=_vae(), scheduler=_scheduler(),
                text_encoder=qwen3(tok, TEXT_WIDTH, KLEIN_LAYERS, causal_lm=True),
                tokenizer=tok, is_distilled=True)


def mistral3(tok, layers: int = DEV_LAYERS):
    """A tiny Mistral 3 (text ``layers`` of width 16, a 1-layer Pixtral vision tower)."""
    from transformers import Mistral3Config, Mistral3ForConditionalGeneration

    config = Mistral3Config(
        text_config=dict(model_type="mistral", vocab_size=len(tok), hidden_size=TEXT_WIDTH,
                         intermediate_size=2 * TEXT_WIDTH, max_position_embeddings=2048,
                         num_attention_heads=2, num_hidden_layers=layers,
                         num_key_value_heads=2, head_dim=8, rms_norm_eps=1e-5,
                         sliding_window=None, bos_token_id=tok.bos_token_id,
                         eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id),
        vision_config=dict(model_type="pixtral", hidden_size=TEXT_WIDTH, num_hidden_layers=1,
                           num_attention_heads=2, intermediate_size=2 * TEXT_WIDTH,
                           image_size=32, patch_size=8, num_channels=3, head_dim=8),
        image_token_index=token_id(tok, "[IMG]"), vision_feature_layer=-1,
        spatial_merge_size=2)
    return Mistral3ForConditionalGeneration(config).eval()


def _dev() -> dict:
    tok = mistral_tokenizer()
    return dict(transformer=_transformer(True), vae=_vae(), scheduler=_scheduler(),
                # the real repo ships a PixtralProcessor (which needs torchvision); the pipeline
                # only calls apply_chat_template on it, which the tokenizer itself answers
                text_encoder=mistral3(tok), tokenizer=tok)


def build(variant: str = "klein") -> dict:
    """The components of a tiny ``Flux2KleinPipeline`` (``variant="klein"``) or
    ``Flux2Pipeline`` (``"dev"``), random init, float32, CPU."""
    if variant not in ("klein", "dev"):
        raise ValueError(f"variant must be klein or dev; got {variant!r}")
    return _klein() if variant == "klein" else _dev()
