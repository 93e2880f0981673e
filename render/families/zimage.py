"""Z-Image (Z-Image-Turbo and the undistilled Z-Image): a 6B single-stream DiT reading
prompts through Qwen3-4B.

Conditioning: the Plan as one structured prompt (render/prompting.py; Z-Image's card asks for
long, detailed prompts), every text quoted verbatim when the model draws text. SDEdit from the
draft through ZImageImg2ImgPipeline; edits inpaint through ZImageInpaintPipeline. Turbo runs
without guidance (8 steps); the base model uses classifier-free guidance with the negative
prompt. The pipeline takes its embeddings as a list of variable-length tensors; this adapter
pads them for the shared encoder cache and unpads them for the call.

Regional attention: not implemented (a single-stream transformer mixes text and image tokens
in one sequence; it would need its own mask processor). References, alpha, LoRA: not wired.
Variants: a directory or repo whose name says "turbo" gets the Turbo tiers, any other the
base tiers (the two checkpoints share one architecture and config, so the name is what tells
them apart).
"""

from __future__ import annotations

from pathlib import Path

from render.families.base import Capabilities, Embeds
from render.families.structured import StructuredPromptFamily, padded, unpadded


class ZImage(StructuredPromptFamily):
    key = "zimage"
    pipelines = {"text2img": "ZImagePipeline", "img2img": "ZImageImg2ImgPipeline",
                 "inpaint": "ZImageInpaintPipeline", "edit": None}
    components = {"transformer": "ZImageTransformer2DModel", "vae": "AutoencoderKL",
                  "text_encoder": "Qwen3Model"}
    capabilities = Capabilities(regional=False, img2img=True, inpaint=True, native_text=True,
                                negative_prompt=True)
    presets = ("z-image-turbo", "z-image")
    # 30 layers of width 3840 over 16x-compressed tokens; an estimate, not a measurement.
    gib_per_megapixel = 3.0

    def variant_of(self, pipe, source: str) -> str:
        return "z-image-turbo" if "turbo" in Path(str(source)).name.lower() else "z-image"

    def guidance(self, tier, options):
        return tier.guidance > 1.0, {"guidance_scale": tier.guidance}

    def encode(self, pipe, texts, max_len, device, region=False) -> Embeds:
        # encode_prompt writes the chat-templated text back into the list it is given
        rows, _ = pipe.encode_prompt(prompt=list(texts), device=device,
                                     do_classifier_free_guidance=False,
                                     max_sequence_length=max_len or 512)
        return Embeds(*padded(rows))

    def call_kwargs(self, e: Embeds) -> dict:
        # Padded tensors with their masks (the shared renderer repeats call arguments for
        # tiles); the sampling hooks below hand the pipeline its list of unpadded rows.
        kw = dict(prompt_embeds=e.tokens, prompt_embeds_mask=e.mask)
        if e.neg_tokens is not None:
            kw.update(negative_prompt_embeds=e.neg_tokens, negative_prompt_embeds_mask=e.neg_mask)
        return kw

    def text2img(self, pipes, size, generators, common):
        return super().text2img(pipes, size, generators, _listed(common))

    def img2img(self, pipes, images, size, strength, generators, common):
        return super().img2img(pipes, images, size, strength, generators, _listed(common))

    def inpaint(self, pipes, image, mask, size, strength, generator, common):
        return super().inpaint(pipes, image, mask, size, strength, generator, _listed(common))


def _listed(common: dict) -> dict:
    """Call arguments with padded embeddings turned into ZImagePipeline's lists of rows."""
    out = dict(common)
    for name in ("prompt_embeds", "negative_prompt_embeds"):
        mask = out.pop(f"{name}_mask", None)
        if out.get(name) is not None and mask is not None:
            out[name] = unpadded(out[name], mask)
    return out


FAMILY = ZImage()
