"""FLUX.1 [schnell] and [dev]: an MMDiT (double + single blocks) over CLIP-L (pooled) and
T5 tokens, guidance-distilled.

FLUX.1 reads no negative prompt by default: [dev]'s ``guidance`` is an embedding of the
distilled guidance scale, [schnell] takes none. ``true_cfg`` > 1 (a DiffusionOptions knob)
turns on true classifier-free guidance with the negative prompt, at twice the compute.
"""

from __future__ import annotations

from render.families.base import Capabilities, Embeds, Family


class Flux(Family):
    key = "flux"
    pipelines = {"text2img": "FluxPipeline", "img2img": "FluxImg2ImgPipeline",
                 "inpaint": "FluxInpaintPipeline", "edit": None}
    components = {"transformer": "FluxTransformer2DModel", "vae": "AutoencoderKL",
                  "text_encoder": "CLIPTextModel", "text_encoder_2": "T5EncoderModel"}
    capabilities = Capabilities(regional=True, img2img=True, inpaint=True,
                                negative_prompt=False, lora=True, single_file=True)
    presets = ("flux-schnell", "flux-dev")
    single_file_keys = ("double_blocks.0.img_attn.qkv.weight", "single_blocks.0.linear1.weight")
    attention_kwargs = "joint_attention_kwargs"
    gib_per_megapixel = 3.0
    region_tokenizer = "tokenizer_2"

    def variant_of(self, pipe, source: str) -> str:
        """[dev] embeds the guidance scale (``guidance_embeds``); [schnell] does not."""
        return "flux-dev" if pipe.transformer.config.guidance_embeds else "flux-schnell"

    def guidance(self, tier, options):
        true_cfg = getattr(options, "true_cfg", None) or 1.0
        return true_cfg > 1.0, {"guidance_scale": tier.guidance, "true_cfg_scale": true_cfg}

    def encode(self, pipe, texts, max_len, device, region=False) -> Embeds:
        if region:   # element segments add T5 tokens only; the pooled CLIP is the global's
            return Embeds(pipe._get_t5_prompt_embeds(prompt=texts, max_sequence_length=max_len,
                                                     device=device))
        pe, pp, _ = pipe.encode_prompt(prompt=texts, prompt_2=None, device=device,
                                       max_sequence_length=max_len or 512)
        return Embeds(pe, None, pp)

    def region_grids(self, latent_hw):
        """One grid: 2x2 latent patches (SD3's patch_size 2; FLUX packs 2x2 latents)."""
        return [((latent_hw[0] + 1) // 2, (latent_hw[1] + 1) // 2)]

    def region_processor(self, module_name):
        from render.regional import FluxRegionProcessor

        return FluxRegionProcessor


FAMILY = Flux()
