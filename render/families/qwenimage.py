"""Qwen-Image (Qwen-Image-2512): a 20B MMDiT reading prompts through Qwen2.5-VL-7B.

Conditioning: the Plan as one structured prompt (render/prompting.py) in the chat template
the pipeline wraps it in; every text quoted verbatim when the model draws text (``--text
native|auto``). SDEdit from the draft through QwenImageImg2ImgPipeline; edits inpaint through
QwenImageInpaintPipeline. Guidance is "true CFG" (``true_cfg_scale`` with a negative prompt),
not an embedded guidance scale. Regional attention: not implemented for this architecture
(its joint attention would need its own mask processor); layout reaches the model through the
prompt's position words and the draft init. References, alpha, LoRA: not wired (0 / no).
"""

from __future__ import annotations

from render.families.base import Capabilities, Embeds
from render.families.structured import StructuredPromptFamily


class QwenImage(StructuredPromptFamily):
    key = "qwenimage"
    pipelines = {"text2img": "QwenImagePipeline", "img2img": "QwenImageImg2ImgPipeline",
                 "inpaint": "QwenImageInpaintPipeline", "edit": None}
    components = {"transformer": "QwenImageTransformer2DModel",
                  "vae": "AutoencoderKLQwenImage",
                  "text_encoder": "Qwen2_5_VLForConditionalGeneration"}
    capabilities = Capabilities(regional=False, img2img=True, inpaint=True, native_text=True,
                                negative_prompt=True)
    presets = ("qwen-image",)
    # 60 blocks of width 3072 at 16x spatial compression (2x2 patches of the 8x VAE): about
    # FLUX.1's activations per megapixel, doubled by true CFG. An estimate, not a measurement.
    gib_per_megapixel = 4.0

    def guidance(self, tier, options):
        cfg = tier.guidance > 1.0
        return cfg, {"true_cfg_scale": tier.guidance if cfg else 1.0}

    def encode(self, pipe, texts, max_len, device, region=False) -> Embeds:
        tokens, mask = pipe.encode_prompt(prompt=texts, device=device,
                                          max_sequence_length=max_len or 1024)
        if mask is None:   # diffusers drops an all-ones mask; the batch cache needs one
            import torch

            mask = torch.ones(tokens.shape[:2], dtype=torch.long, device=tokens.device)
        return Embeds(tokens, mask)

    def call_kwargs(self, e: Embeds) -> dict:
        kw = dict(prompt_embeds=e.tokens, prompt_embeds_mask=e.mask)
        if e.neg_tokens is not None:
            kw.update(negative_prompt_embeds=e.neg_tokens,
                      negative_prompt_embeds_mask=e.neg_mask)
        return kw


FAMILY = QwenImage()
