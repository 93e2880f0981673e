"""FLUX.2 [dev]: a 32B rectified-flow transformer reading prompts through Mistral Small 3.1
(24B); guidance-distilled (an embedded guidance scale, no negative prompt).

Conditioning: the Plan as one structured prompt (render/prompting.py), every text quoted
verbatim when the model draws text. diffusers ships no img2img or inpaint pipeline for
[dev]: SDEdit from the draft runs through the text-to-image pipeline itself (the draft's
latents noised to the first kept sigma, then the tail of the schedule; see ``img2img``), and
edits render the Plan whole, composited through the mask by the shared renderer.

Regional attention: not implemented (its double/single-stream attention would need its own
mask processors). References: natively, as the pipeline's ``image=[...]`` (the caller's and
the first image's subject crops; BFL's docs recommend at most 6 for [dev], 4 for [klein]);
edits by instruction send the edited image first, the references after it. Alpha: no
(keying). LoRA: not wired.
"""

from __future__ import annotations

from render.families.base import Capabilities, Embeds
from render.families.structured import StructuredPromptFamily


class Flux2(StructuredPromptFamily):
    key = "flux2"
    pipelines = {"text2img": "Flux2Pipeline", "img2img": None, "inpaint": None, "edit": None}
    components = {"transformer": "Flux2Transformer2DModel", "vae": "AutoencoderKLFlux2",
                  "text_encoder": "Mistral3ForConditionalGeneration"}
    capabilities = Capabilities(regional=False, img2img=True, inpaint=False, native_text=True,
                                negative_prompt=False, references=6, instruction_edit=True)
    presets = ("flux2-dev",)
    # 8 double + 48 single blocks of width 6144; an estimate, not a measurement.
    gib_per_megapixel = 6.0

    def guidance(self, tier, options):
        return False, {"guidance_scale": tier.guidance}

    def encode(self, pipe, texts, max_len, device, region=False) -> Embeds:
        tokens, _ = pipe.encode_prompt(prompt=texts, device=device,
                                       max_sequence_length=max_len or 512)
        return Embeds(tokens)

    def call_kwargs(self, e: Embeds) -> dict:
        kw = dict(prompt_embeds=e.tokens)
        if e.neg_tokens is not None:
            kw["negative_prompt_embeds"] = e.neg_tokens
        return kw

    def reference_sample(self, pipes, inits, references, size, strength, generators, common):
        common = {**common, "image": [reference_image(r) for r in references]}
        return super().reference_sample(pipes, inits, references, size, strength, generators,
                                        common)

    def instruction_edit(self, pipes, image, references, size, generator, common):
        w, h = size
        return pipes.text2img(image=[reference_image(r) for r in [image, *references]],
                              height=h, width=w, generator=generator, **common).images

    def img2img(self, pipes, images, size, strength, generators, common):
        """SDEdit (Meng et al. 2021) with the text-to-image pipeline: the draft's latents
        are noised to the first kept sigma and the pipeline samples from there down
        (see :func:`flux2_sdedit`)."""
        return flux2_sdedit(pipes.text2img, images, size, strength, generators, common)


def flux2_sdedit(pipe, images, size, strength, generators, common):
    """SDEdit on a Flux2Pipeline / Flux2KleinPipeline. ``common`` holds
    ``num_inference_steps`` and the call's other keyword arguments.

    The kept schedule is ``k = round(steps * strength)`` sigmas from ``strength`` down to
    ``strength / k`` (the pipeline's own grid runs from 1 to ``1 / steps``), so the draft
    survives at ``1 - strength`` whatever the step count; the pipeline's resolution shift
    ``mu`` (computed for the full step count) applies on top, as in text-to-image."""
    import numpy as np
    import torch

    steps = common["num_inference_steps"]
    k = max(1, int(round(steps * strength)))
    tail = np.linspace(strength, strength / k, k)
    w, h = size
    x = pipe.image_processor.preprocess(list(images), height=h, width=w)
    vae = pipe.vae
    x = x.to(vae.device, vae.dtype)
    with torch.no_grad():
        # (B, 4C, h/2, w/2): patchified, batch-norm-normalised latents, one generator each
        x0 = torch.cat([pipe._encode_vae_image(x[i:i + 1], g)
                        for i, g in enumerate(generators)])
    seq_len = x0.shape[2] * x0.shape[3]
    pipe.scheduler.set_timesteps(sigmas=tail, mu=_mu(pipe, seq_len, steps), device=x0.device)
    sigma = pipe.scheduler.sigmas[0].to(x0.dtype)
    noise = torch.stack([torch.randn(x0.shape[1:], generator=g, dtype=torch.float32)
                         for g in generators]).to(x0.device, x0.dtype)
    latents = (1.0 - sigma) * x0 + sigma * noise       # the flow-matching forward process
    return pipe(height=h, width=w, latents=latents, sigmas=list(tail), generator=generators,
                **common).images


def reference_image(image, min_side: int = 64, max_aspect: float = 8.0):
    """``image`` (RGB) as FLUX.2's pipelines accept a reference: both sides at least
    ``min_side`` px and an aspect ratio at most ``max_aspect`` (their image processor's
    limits; a small subject crop is scaled up, a sliver padded with white)."""
    from PIL import Image

    image = image.convert("RGB")
    w, h = image.size
    if max(w, h) > max_aspect * min(w, h):
        side = int(max(w, h) / max_aspect) + 1
        canvas = Image.new("RGB", (max(w, side), max(h, side)), (255, 255, 255))
        canvas.paste(image, ((canvas.width - w) // 2, (canvas.height - h) // 2))
        image, (w, h) = canvas, canvas.size
    if min(w, h) < min_side:
        scale = min_side / min(w, h)
        image = image.resize((max(min_side, round(w * scale)), max(min_side, round(h * scale))),
                             Image.LANCZOS)
    return image


def _mu(pipe, seq_len: int, steps: int) -> float:
    """The pipeline's resolution shift for ``seq_len`` tokens and ``steps`` steps."""
    import importlib

    module = importlib.import_module(type(pipe).__module__)
    return module.compute_empirical_mu(image_seq_len=seq_len, num_steps=steps)


FAMILY = Flux2()
