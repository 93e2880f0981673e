"""SDXL (base, Lightning, Turbo): a UNet with cross-attention to two CLIP text encoders."""

from __future__ import annotations

from pathlib import Path

from render.families.base import Capabilities, Embeds, Family

_CLIP_TOKENS = 77


class SDXL(Family):
    key = "sdxl"
    pipelines = {"text2img": "StableDiffusionXLPipeline",
                 "img2img": "StableDiffusionXLImg2ImgPipeline",
                 "inpaint": "StableDiffusionXLInpaintPipeline", "edit": None}
    components = {"unet": "UNet2DConditionModel", "vae": "AutoencoderKL",
                  "text_encoder": "CLIPTextModel",
                  "text_encoder_2": "CLIPTextModelWithProjection"}
    config_values = {"unet": {"addition_embed_type": "text_time"}}
    capabilities = Capabilities(regional=True, img2img=True, inpaint=True,
                                negative_prompt=True, lora=True, single_file=True)
    presets = ("sdxl", "sdxl-lightning", "sdxl-turbo")
    single_file_keys = ("label_emb.0.0.weight", "input_blocks.0.0.weight")   # LDM UNet + SDXL
    gib_per_megapixel = 1.5
    attention_kwargs = "cross_attention_kwargs"

    def variant_of(self, pipe, source: str) -> str:
        """Turbo / Lightning by name (their UNets have the base architecture); a scheduler
        with trailing timestep spacing marks a few-step distilled UNet (Lightning's tiers)."""
        name = Path(source).name.lower()
        if "turbo" in name:
            return "sdxl-turbo"
        spacing = getattr(pipe.scheduler.config, "timestep_spacing", None)
        if "lightning" in name or spacing == "trailing":
            return "sdxl-lightning"
        return "sdxl"

    def encode(self, pipe, texts, max_len, device, region=False) -> Embeds:
        pe, _, pp, _ = pipe.encode_prompt(prompt=texts, device=device,
                                          do_classifier_free_guidance=False)
        return Embeds(pe, None, pp)

    def trim_region(self, pipe, e, texts):
        return trim_clip(pipe, e, texts, keep_after=False)

    def negative(self, pipe, e, text):
        """An empty negative prompt is zeros where the model was trained so
        (``force_zeros_for_empty_prompt``), as diffusers' own encode does."""
        if text or not pipe.config.force_zeros_for_empty_prompt:
            return e
        import torch

        return Embeds(torch.zeros_like(e.tokens), None, torch.zeros_like(e.pooled))

    def region_processor(self, module_name):
        from render.regional import CrossAttnRegionProcessor

        return CrossAttnRegionProcessor if ".attn2." in module_name else None

    def img2img(self, pipes, images, size, strength, generators, common):
        # SDXL img2img takes its size from the image (it has no height/width arguments)
        return pipes.get("img2img")(image=list(images), strength=strength,
                                    generator=generators, **common).images


def needed_tokens(tokenizer, texts: list[str], cap: int) -> int:
    """Tokens the longest text needs (with its special tokens), rounded up to 8, ≤ cap."""
    longest = max(len(ids) for ids in tokenizer(texts).input_ids)
    return min(cap, max(8, -(-longest // 8) * 8))


def trim_clip(pipe, e: Embeds | None, texts: list[str], keep_after: bool) -> Embeds | None:
    """Keep only the CLIP positions element prompts use (``keep_after``: the tokens after
    CLIP's 77, SD3's T5 half, stay).

    CLIP's text encoder is causal, so the states up to a prompt's end token do not depend on
    the padding after it: dropping the trailing padding keeps every word and the summary at
    the end token, and shortens each element segment from 77 tokens to a few.
    """
    if e is None:
        return e
    import torch

    keep = needed_tokens(pipe.tokenizer, texts, _CLIP_TOKENS)
    t = e.tokens
    tokens = (torch.cat([t[:, :keep], t[:, _CLIP_TOKENS:]], dim=1) if keep_after
              else t[:, :keep])
    return Embeds(tokens, e.mask, e.pooled)


FAMILY = SDXL()
