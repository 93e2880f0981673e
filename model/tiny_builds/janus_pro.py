"""Tiny Janus-Pro: ``JanusForConditionalGeneration`` (transformers) at 2 layers, built offline.

Janus-Pro generates an image autoregressively: its Llama decoder samples VQ codes from a
generation head, the VQ-VAE decodes them (384 px, 24x24 codes for the real 1B/7B). Here: 2 text
layers of width 32, a 1-layer SigLIP-style vision tower of 32 px with 8 px patches (16 image
tokens, a 4x4 grid), a VQ-VAE with a 64-code book whose decoder upsamples x8 (32 px images),
and a byte-level BPE tokenizer trained in-process with Janus's special tokens, saved with a
``JanusProcessor`` and a generation config holding the image-start token, as the real repos.
"""

from __future__ import annotations

SPECIALS = ("<|end▁of▁sentence|>", "<｜▁pad▁｜>", "<image_placeholder>", "<begin_of_image>",
            "<end_of_image>", "<|User|>", "<|Assistant|>")
CHAT_TEMPLATE = ("{% for message in messages %}"
                 "{% if message['role'] == 'user' %}<|User|>: {% else %}<|Assistant|>: {% endif %}"
                 "{% if message['content'] is string %}{{ message['content'] }}"
                 "{% else %}{% for part in message['content'] %}"
                 "{% if part['type'] == 'text' %}{{ part['text'] }}"
                 "{% else %}<image_placeholder>{% endif %}{% endfor %}{% endif %}\n\n"
                 "{% endfor %}{% if add_generation_prompt %}<|Assistant|>:{% endif %}")
_CORPUS = ('A poster that says "OPEN 24/7" above three red apples, in the top-left third.',
           "a red apple on the left of a blue cup; the title at the top, centered, large.",
           '{"objects": [{"name": "apple", "count": 3, "color": "red"}], "texts": []}')


def tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=512, special_tokens=list(SPECIALS),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(_CORPUS * 4, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<|end▁of▁sentence|>", eos_token="<|end▁of▁sentence|>",
        pad_token="<｜▁pad▁｜>", model_max_length=4096,
        extra_special_tokens={"image_token": "<image_placeholder>",
                              "boi_token": "<begin_of_image>", "eoi_token": "<end_of_image>"})
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build() -> dict:
    """The components of a tiny ``JanusProPipeline`` (model/ar_pipelines.py): a
    ``JanusForConditionalGeneration`` and its ``JanusProcessor`` (random init, float32, CPU),
    the generation config set for image generation."""
    from transformers import (JanusConfig, JanusForConditionalGeneration,
                              JanusImageProcessorPil, JanusProcessor)

    tok = tokenizer()
    ids = tok.convert_tokens_to_ids
    config = JanusConfig(
        text_config={"model_type": "llama", "vocab_size": len(tok), "hidden_size": 32,
                     "intermediate_size": 37, "num_hidden_layers": 2, "num_attention_heads": 4,
                     "num_key_value_heads": 2, "max_position_embeddings": 1024,
                     "pad_token_id": ids("<｜▁pad▁｜>"), "bos_token_id": ids(SPECIALS[0]),
                     "eos_token_id": ids(SPECIALS[0])},
        vision_config={"image_size": 32, "patch_size": 8, "num_image_tokens": 16,
                       "hidden_size": 32, "projection_dim": 32, "num_hidden_layers": 1,
                       "num_attention_heads": 4, "mlp_ratio": 2},
        vq_config={"embed_dim": 8, "num_embeddings": 64, "latent_channels": 8,
                   "base_channels": 32, "channel_multiplier": [1, 1, 2, 2], "num_res_blocks": 1,
                   "num_patches": 4, "projection_dim": 32, "image_token_embed_dim": 32},
        image_token_id=ids("<image_placeholder>"))
    model = JanusForConditionalGeneration(config).eval()
    gc = model.generation_config
    gc.bos_token_id, gc.eos_token_id = ids(SPECIALS[0]), ids(SPECIALS[0])
    gc.pad_token_id = ids("<｜▁pad▁｜>")
    gc.generation_kwargs = {"boi_token_id": ids("<begin_of_image>")}
    gc.guidance_scale = 5.0
    gc._from_model_config = False      # a file of its own, as the real repos ship
    processor = JanusProcessor(
        image_processor=JanusImageProcessorPil(size={"height": 32, "width": 32}),
        tokenizer=tok, chat_template=CHAT_TEMPLATE, num_image_tokens=16)
    return dict(model=model, processor=processor)
