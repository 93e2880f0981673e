"""Tiny Bria FIBO: the real classes (BriaFiboPipeline) at 1-2 blocks and width 16.

- transformer: ``BriaFiboTransformer2DModel``, 1 dual-stream + 1 single-stream block, 2 heads
  of 8, no patching (``in_channels`` = the VAE's latent channels, as FIBO's 48 = Wan 2.2's);
- text encoder: ``SmolLM3ForCausalLM`` (with its language head, as FIBO ships it), 2 layers of
  width 16. Its vocabulary keeps SmolLM3's 128256 rows: the pipeline encodes an empty prompt
  (the negative of classifier-free guidance) as SmolLM3's ``<|begin_of_text|>`` id 128000
  itself, so the embedding must hold that row. The tokenizer is a small byte-level BPE
  trained in-process on FIBO-style JSON (ids < 1024) with ChatML specials and template (no
  hub);
- VAE: ``AutoencoderKLWan`` in the Wan 2.2 layout (residual blocks, 2 x 2 patching, three
  downsamplings: 16x spatial compression, which BriaFiboPipeline assumes), base width 8.
"""

from __future__ import annotations

TEXT_WIDTH = 16
VOCAB = 128256        # SmolLM3's vocabulary size; 128000 = <|begin_of_text|>
LATENT_CHANNELS = 4

_CORPUS = (
    '{"short_description":"A poster showing three red apples.","objects":[{"description":'
    '"a red apple","location":"top-left","relationship":"left of the blue cup",'
    '"relative_size":"small","shape_and_color":"dominant color red (#ff0000)"}],'
    '"background_setting":"a plain white backdrop","text_render":[{"text":"HELLO",'
    '"location":"top-center","size":"medium","color":"navy","font":"bold sans-serif typeface"'
    '}],"aesthetics":{"composition":"centered","color_scheme":"warm"}}',
    "center-left center-right bottom-center large within frame, spanning the full width",
    'A watercolor of two mugs; the title "OPEN 24/7" written exactly as given.',
    '{"short_description":"An image showing two red apples, the text \\"HI\\".","objects":[{'
    '"description":"a red apple; one of exactly two red apples in the image.","location":'
    '"bottom-center","relationship":"below the text \\"HI\\"; left of another red apple in '
    'the same area","relative_size":"medium","shape_and_color":"dominant color red (#ff0000)",'
    '"appearance_details":"shiny"}],"background_setting":"a plain white backdrop filling the '
    'frame","aesthetics":{"composition":"planned layout of 3 elements, each at its stated '
    'location","color_scheme":"white, red, black","preference_score":"very high",'
    '"aesthetic_score":"very high"},"style_medium":"photograph","text_render":[{"text":"HI",'
    '"location":"top-center","size":"small","color":"black (#000000)","font":"bold sans-serif '
    'typeface","appearance_details":"the title, center-aligned, written exactly as given"}],'
    '"context":"A square poster whose layout is fixed: every object and text sits at its '
    'stated location and size."}',
)
_SPECIALS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")


def tokenizer():
    """The tiny SmolLM3-style tokenizer: byte-level BPE, ChatML specials and template."""
    from model.tiny_llm import CHAT_TEMPLATE, chatml_tokenizer

    # trained on FIBO-style JSON, so a prompt is ~4 characters a token: every token costs
    # a row of 128256 logits in the encoder's forward (the pipeline runs the whole LM)
    return chatml_tokenizer(_CORPUS, _SPECIALS, CHAT_TEMPLATE, vocab_size=1024,
                            max_length=4096)


def build() -> dict:
    """The components of a tiny ``BriaFiboPipeline`` (random init, float32, CPU)."""
    from diffusers import (AutoencoderKLWan, BriaFiboTransformer2DModel,
                           FlowMatchEulerDiscreteScheduler)
    from transformers import SmolLM3Config, SmolLM3ForCausalLM

    tok = tokenizer()
    text_encoder = SmolLM3ForCausalLM(SmolLM3Config(
        vocab_size=VOCAB, hidden_size=TEXT_WIDTH, intermediate_size=32, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=4096,
        pad_token_id=tok.pad_token_id, bos_token_id=None, eos_token_id=tok.eos_token_id,
        no_rope_layer_interval=2, tie_word_embeddings=True)).eval()
    transformer = BriaFiboTransformer2DModel(
        patch_size=1, in_channels=LATENT_CHANNELS, num_layers=1, num_single_layers=1,
        attention_head_dim=8, num_attention_heads=2, joint_attention_dim=2 * TEXT_WIDTH,
        text_encoder_dim=TEXT_WIDTH, axes_dims_rope=[2, 2, 4]).eval()
    vae = AutoencoderKLWan(
        base_dim=8, decoder_base_dim=8, z_dim=LATENT_CHANNELS, dim_mult=[1, 1, 1, 1],
        num_res_blocks=1, temperal_downsample=[False, False, False], is_residual=True,
        in_channels=12, out_channels=12, patch_size=2, scale_factor_spatial=16,
        latents_mean=[0.0] * LATENT_CHANNELS, latents_std=[1.0] * LATENT_CHANNELS).eval()
    return dict(scheduler=FlowMatchEulerDiscreteScheduler(use_dynamic_shifting=True),
                vae=vae, text_encoder=text_encoder, tokenizer=tok, transformer=transformer)
