"""SD3 / SD3.5: an MMDiT with joint attention over image tokens and CLIP-L/G + T5 text."""

from __future__ import annotations

from render.families.base import Capabilities, Embeds, Family
from render.families.sdxl import trim_clip


class SD3(Family):
    key = "sd3"
    pipelines = {"text2img": "StableDiffusion3Pipeline",
                 "img2img": "StableDiffusion3Img2ImgPipeline",
                 "inpaint": "StableDiffusion3InpaintPipeline", "edit": None}
    components = {"transformer": "SD3Transformer2DModel", "vae": "AutoencoderKL",
                  "text_encoder": "CLIPTextModelWithProjection",
                  "text_encoder_2": "CLIPTextModelWithProjection",
                  "text_encoder_3": ("T5EncoderModel", None)}   # T5 may be dropped
    capabilities = Capabilities(regional=True, img2img=True, inpaint=True,
                                negative_prompt=True, lora=True, single_file=True)
    presets = ("sd35",)
    single_file_keys = ("joint_blocks.0.x_block.attn.qkv.weight", "context_embedder.weight")
    attention_kwargs = "joint_attention_kwargs"
    gib_per_megapixel = 2.5
    region_tokenizer = "tokenizer_3"

    def encode(self, pipe, texts, max_len, device, region=False) -> Embeds:
        pe, _, pp, _ = pipe.encode_prompt(prompt=texts, prompt_2=None, prompt_3=None,
                                          device=device, do_classifier_free_guidance=False,
                                          max_sequence_length=max_len or 256)
        return Embeds(pe, None, pp)

    def trim_region(self, pipe, e, texts):
        return trim_clip(pipe, e, texts, keep_after=True)

    def region_grids(self, latent_hw):
        """One grid: 2x2 latent patches (SD3's patch_size 2; FLUX packs 2x2 latents)."""
        return [((latent_hw[0] + 1) // 2, (latent_hw[1] + 1) // 2)]

    def region_processor(self, module_name):
        from render.regional import SD3RegionProcessor

        return SD3RegionProcessor if ".attn." in module_name else None


FAMILY = SD3()
