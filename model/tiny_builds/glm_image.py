"""Tiny GLM-Image: the real classes of ``GlmImagePipeline`` at 1-2 layers, built offline.

Components: the autoregressive generator ``GlmImageForConditionalGeneration`` (1 text layer
of width 32, a 1-layer vision tower, a 128-code VQ codebook), its ``GlmImageProcessor``
(a ``GlmImageImageProcessorPil`` and a byte-level BPE tokenizer trained in-process), the glyph
encoder ``T5EncoderModel`` with a ``ByT5Tokenizer`` (bytes, no vocabulary file), the diffusion
decoder ``GlmImageTransformer2DModel`` and a 4-block ``AutoencoderKL`` (patch 2 x VAE factor 8
= 16: the AR grid is 32 px, upsampled 2x to the decoder's 16 px grid, as in the real model).

Token ids: the first ``VISION_CODES`` ids are the image codes the generator samples (its
head has that many outputs), then the image start/end markers and the text vocabulary.
"""

from __future__ import annotations

VISION_CODES = 128
_SPECIALS = ("<|image_start|>", "<|image_end|>", "<|endoftext|>", "<|image|>", "<|grid_bos|>",
             "<|grid_eos|>", "[gMASK]", "<sop>", "<|user|>", "<|assistant|>")
CHAT_TEMPLATE = ("[gMASK]<sop>{% for message in messages %}<|{{ message['role'] }}|>\n"
                 "{% if message['content'] is string %}{{ message['content'] }}"
                 "{% else %}{% for part in message['content'] %}"
                 "{% if part['type'] == 'text' %}{{ part['text'] }}{% else %}<|image|>"
                 "{% endif %}{% endfor %}{% endif %}{% endfor %}")
_CORPUS = ('A poster that says "OPEN 24/7" above three red apples, in the top-left third.',
           "a red apple on the left of a blue cup; the title at the top, centered, large.",
           "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 32 64")


def tokenizer():
    """Byte-level BPE with the image code tokens first, then GLM-Image's specials."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    codes = [f"<|code_{i}|>" for i in range(VISION_CODES)]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VISION_CODES + 512,
                                  special_tokens=codes + list(_SPECIALS),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(_CORPUS * 4, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<|image_start|>", eos_token="<|image_end|>",
        pad_token="<|endoftext|>", model_max_length=4096,
        extra_special_tokens={"image_token": "<|image|>", "grid_bos_token": "<|grid_bos|>",
                              "grid_eos_token": "<|grid_eos|>"})
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build() -> dict:
    """The components of a tiny ``GlmImagePipeline`` (random init, float32, CPU)."""
    from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler, GlmImageTransformer2DModel
    from transformers import (ByT5Tokenizer, GlmImageConfig, GlmImageForConditionalGeneration,
                              GlmImageImageProcessorPil, GlmImageProcessor, T5Config,
                              T5EncoderModel)

    tok = tokenizer()
    ids = tok.convert_tokens_to_ids
    config = GlmImageConfig(
        text_config={"vocab_size": len(tok), "hidden_size": 32, "intermediate_size": 32,
                     "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 2,
                     "max_position_embeddings": 2048, "vision_vocab_size": VISION_CODES,
                     "rope_parameters": {"mrope_section": (4, 2, 2)},
                     "pad_token_id": ids("<|endoftext|>"), "eos_token_id": ids("<|image_end|>")},
        vision_config={"depth": 1, "hidden_size": 32, "num_heads": 2, "image_size": 32,
                       "patch_size": 16, "intermediate_size": 32},
        vq_config={"embed_dim": 32, "num_embeddings": VISION_CODES, "latent_channels": 32},
        image_token_id=ids("<|image|>"), image_start_token_id=ids("<|image_start|>"),
        image_end_token_id=ids("<|image_end|>"))
    generator = GlmImageForConditionalGeneration(config).eval()
    processor = GlmImageProcessor(
        image_processor=GlmImageImageProcessorPil(patch_size=16, merge_size=1,
                                                  temporal_patch_size=1, min_pixels=32 * 32,
                                                  max_pixels=512 * 512),
        tokenizer=tok, chat_template=CHAT_TEMPLATE)
    byt5 = ByT5Tokenizer(extra_ids=0)
    glyph = T5EncoderModel(T5Config(vocab_size=len(byt5), d_model=32, d_kv=8, d_ff=37,
                                    num_layers=1, num_heads=4,
                                    relative_attention_num_buckets=8, pad_token_id=0,
                                    eos_token_id=1, decoder_start_token_id=0)).eval()
    transformer = GlmImageTransformer2DModel(
        patch_size=2, in_channels=4, out_channels=4, num_layers=1, attention_head_dim=8,
        num_attention_heads=2, text_embed_dim=32, time_embed_dim=16, condition_dim=8,
        prior_vq_quantizer_codebook_size=VISION_CODES).eval()
    vae = AutoencoderKL(
        block_out_channels=(4, 8, 16, 16), in_channels=3, out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
        latent_channels=4, norm_num_groups=4, sample_size=64, latents_mean=[0.0] * 4,
        latents_std=[1.0] * 4).eval()
    return dict(tokenizer=byt5, processor=processor, text_encoder=glyph,
                vision_language_encoder=generator, vae=vae, transformer=transformer,
                scheduler=FlowMatchEulerDiscreteScheduler())
