"""PixArt-Sigma: a DiT with cross-attention to T5 tokens. diffusers ships no img2img or
inpaint pipeline for it: SDEdit runs through the text-to-image pipeline with custom
timesteps, and edits render the Plan whole (the caller composites through the mask)."""

from __future__ import annotations

from render.families.base import Capabilities, Embeds, Family


class PixArt(Family):
    key = "pixart"
    pipelines = {"text2img": "PixArtSigmaPipeline", "img2img": None, "inpaint": None,
                 "edit": None}
    components = {"transformer": "PixArtTransformer2DModel", "vae": "AutoencoderKL",
                  "text_encoder": "T5EncoderModel"}
    config_values = {"transformer": {"norm_type": "ada_norm_single"}}
    capabilities = Capabilities(regional=True, img2img=True, inpaint=False,
                                negative_prompt=True, lora=False, single_file=False)
    presets = ("pixart",)
    gib_per_megapixel = 1.5
    region_tokenizer = "tokenizer"

    def encode(self, pipe, texts, max_len, device, region=False) -> Embeds:
        pe, pm, _, _ = pipe.encode_prompt(texts, do_classifier_free_guidance=False,
                                          device=device, clean_caption=False,
                                          max_sequence_length=max_len or 300)
        return Embeds(pe, pm)

    def call_kwargs(self, e):
        kw = dict(prompt_embeds=e.tokens, prompt_attention_mask=e.mask, negative_prompt=None)
        if e.neg_tokens is not None:
            kw.update(negative_prompt_embeds=e.neg_tokens,
                      negative_prompt_attention_mask=e.neg_mask)
        return kw

    def region_processor(self, module_name):
        from render.regional import CrossAttnRegionProcessor

        return CrossAttnRegionProcessor if ".attn2." in module_name else None

    def text2img(self, pipes, size, generators, common):
        w, h = size
        return pipes.text2img(height=h, width=w, generator=generators,
                              use_resolution_binning=False, **common).images

    def img2img(self, pipes, images, size, strength, generators, common):
        """SDEdit (Meng et al. 2021): noise the init latents to the first kept timestep,
        then sample the remaining timesteps with the text-to-image pipeline."""
        import torch

        from render.families.base import vae_encode

        pipe = pipes.text2img
        steps = common["num_inference_steps"]
        sched = pipe.scheduler
        sched.set_timesteps(steps)
        start = min(int(round(steps * (1.0 - strength))), steps - 1)
        tail = sched.timesteps[start:]
        x0 = vae_encode(pipe, images, generators)
        noise = torch.stack([torch.randn(x0.shape[1:], generator=g, dtype=x0.dtype)
                             for g in generators]).to(x0.device)
        latents = sched.add_noise(x0, noise, tail[:1].repeat(len(x0)))
        w, h = size
        call = {k: v for k, v in common.items() if k != "num_inference_steps"}
        return pipe(height=h, width=w, timesteps=[int(t) for t in tail], latents=latents,
                    generator=generators, use_resolution_binning=False, **call).images


FAMILY = PixArt()
