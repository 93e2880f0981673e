"""Qwen-Image-2.1 (diffusers ``QwenImage21Pipeline``): a 7B single-stream DiT reading the
prompt, and any condition images with it, through Qwen3-VL-8B; its VAE decodes RGBA.

Conditioning: the Plan as one structured prompt (render/prompting.py), every text quoted
verbatim when the model draws text (``--text native|auto``). The pipeline encodes prompt and
condition images together (the images fill vision slots inside the prompt), so this adapter
hands it the prompt strings at call time (``PromptedFamily``) rather than embeddings computed
without the images (the prompt's UTF-8 bytes travel through the shared encoder cache as
``render/families/prompted.py``'s do). Sampled without guidance by default (diffusers: "meant to be sampled
without guidance"); a tier with guidance > 1 runs true CFG with the negative prompt.

What it does natively:
- alpha: the decoder's fourth channel is the image's alpha. A transparent Plan asks for a
  transparent background in the prompt and keeps that channel (no key colour, no keying); an
  opaque Plan's output is flattened on white by the shared renderer.
- references (condition images, ``image=``): the caller's references and the first image's
  subject crops, at most ``MAX_REFERENCES``.
- edit by instruction: the picture (then its references) as condition images, the instruction
  as the prompt, redrawn whole.
diffusers has no img2img or inpaint class for it. SDEdit from the draft runs through the
text-to-image pipeline itself (``img2img``: the draft's latents noised to the first kept
sigma, then the tail of the schedule). A mask edit (``inpaint``) is that SDEdit from the
picture with the new Plan's draft pasted into the mask, that same picture also being the
condition image so the model reads the context; the shared renderer composites the result
through the mask, so pixels outside it stay identical. Regional attention: not implemented.
LoRA: not wired.

Sizes: the pipeline floors height and width to multiples of 32 (16x VAE, 2x2 token groups);
other sizes are sampled at the next multiple of 32 and resized. ``output_resolution`` (the
side whose square is the area condition images are resized to) is set from the generation
size, so a condition image never blows a small render up to the pipeline's 1 MP default.
"""

from __future__ import annotations

from typing import Sequence

from render.families.base import Capabilities, Embeds
from render.families.prompted import text_rows, texts_of
from render.families.structured import StructuredPromptFamily

# No published limit on condition images was found; three is what the Qwen-Image edit
# models are documented for (Qwen-Image-Edit-2511: 1-3 images).
MAX_REFERENCES = 3
MULTIPLE = 32
# Condition images are resized to about this side squared at least (the VL processor's and
# the VAE's smallest useful size); more only when the generation area is larger.
MIN_CONDITION_SIDE = 64


class QwenImage21(StructuredPromptFamily):
    key = "qwenimage21"
    # Masked redraws run through the text-to-image class itself (SDEdit plus the picture as
    # condition image, see ``inpaint``); diffusers has no img2img/inpaint/edit class for 2.1.
    pipelines = {"text2img": "QwenImage21Pipeline", "img2img": None,
                 "inpaint": "QwenImage21Pipeline", "edit": None}
    components = {"transformer": "QwenImage21Transformer2DModel",
                  "vae": "AutoencoderKLQwenImage21",
                  "text_encoder": "Qwen3VLForConditionalGeneration"}
    capabilities = Capabilities(regional=False, img2img=True, inpaint=True, native_text=True,
                                references=MAX_REFERENCES, alpha=True, negative_prompt=False,
                                instruction_edit=True)
    presets = ("qwen-image-2.1",)
    # 32 blocks of width 4096 over 16x-compressed tokens (a quarter of Qwen-Image's tokens per
    # megapixel); an estimate, not a measurement.
    gib_per_megapixel = 2.0

    def guidance(self, tier, options):
        cfg = tier.guidance > 1.0
        return cfg, {"true_cfg_scale": tier.guidance if cfg else 1.0}

    def encode(self, pipe, texts, max_len, device, region=False) -> Embeds:
        return Embeds(*text_rows(list(texts)))

    def call_kwargs(self, e: Embeds) -> dict:
        kw = dict(prompt_bytes=e.tokens, prompt_mask=e.mask)
        if e.neg_tokens is not None:
            kw.update(negative_bytes=e.neg_tokens, negative_mask=e.neg_mask)
        return kw

    # --- sampling ------------------------------------------------------------------------
    def text2img(self, pipes, size, generators, common):
        return _call(pipes.text2img, size, generators, common)

    def img2img(self, pipes, images, size, strength, generators, common):
        return _call(pipes.text2img, size, generators, common, inits=images,
                     strength=strength)

    def inpaint(self, pipes, image, mask, size, strength, generator, common):
        # ``image`` is the picture with the new Plan's draft pasted into the mask: the init;
        # the model reads it as its condition image too. The caller composites through mask.
        return _call(pipes.text2img, size, [generator], common, inits=[image],
                     strength=strength, condition=[image])

    def reference_sample(self, pipes, inits, references, size, strength, generators, common):
        return _call(pipes.text2img, size, generators, common, inits=inits,
                     strength=strength, condition=list(references))

    def instruction_edit(self, pipes, image, references, size, generator, common):
        return _call(pipes.text2img, size, [generator], common,
                     condition=[image, *references])


def _strings(common: dict) -> dict:
    """Call arguments with the prompt (and negative prompt) bytes back as strings."""
    rest = dict(common)
    rest["prompt"] = texts_of(rest.pop("prompt_bytes"), rest.pop("prompt_mask"))
    if "negative_bytes" in rest:
        rest["negative_prompt"] = texts_of(rest.pop("negative_bytes"),
                                           rest.pop("negative_mask"))
    return rest


def condition_image(image, max_aspect: float = 4.0):
    """``image`` as a condition image: RGB or RGBA kept, an aspect ratio above
    ``max_aspect`` padded with white (the pipeline rounds both sides of the resized image
    to multiples of 32, which would make a sliver's short side 0)."""
    from PIL import Image

    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGB")
    w, h = image.size
    if max(w, h) <= max_aspect * min(w, h):
        return image
    side = int(max(w, h) / max_aspect) + 1
    canvas = Image.new(image.mode, (max(w, side), max(h, side)), (255,) * len(image.mode))
    canvas.paste(image, ((canvas.width - w) // 2, (canvas.height - h) // 2))
    return canvas


def _call(pipe, size: tuple[int, int], generators: list, common: dict,
          inits: Sequence | None = None, strength: float = 1.0,
          condition: Sequence | None = None):
    """One QwenImage21Pipeline call at ``size`` → float ``(B, H, W, 4)`` (RGBA).

    ``inits``: SDEdit from these images (see :func:`sdedit_latents`); ``condition``: the
    condition images (one set shared by the batch)."""
    import numpy as np

    rest = _strings(common)
    w, h = size
    w32, h32 = -(-w // MULTIPLE) * MULTIPLE, -(-h // MULTIPLE) * MULTIPLE
    kw = dict(height=h32, width=w32, generator=generators,
              output_resolution=max(MIN_CONDITION_SIDE, round((w32 * h32) ** 0.5)))
    if condition:
        kw["image"] = [condition_image(c) for c in condition]
    if inits is not None and strength < 1.0:
        latents, tail = sdedit_latents(pipe, inits, (w32, h32), strength, generators,
                                       rest["num_inference_steps"])
        kw.update(latents=latents, sigmas=tail)
    out = pipe(**kw, **rest).images
    if (w32, h32) == (w, h):
        return out
    return np.stack([_resized(a, size) for a in out])


def _resized(array, size):
    import numpy as np
    from PIL import Image

    mode = "RGBA" if array.shape[-1] == 4 else "RGB"
    img = Image.fromarray((np.clip(array, 0, 1) * 255).round().astype(np.uint8), mode)
    return np.asarray(img.resize(size, Image.LANCZOS), dtype=np.float32) / 255.0


def sdedit_latents(pipe, images: Sequence, size: tuple[int, int], strength: float,
                   generators: list, steps: int):
    """SDEdit (Meng et al. 2021) start for a QwenImage21Pipeline: the packed latents of
    ``images`` noised to the first kept sigma, and the kept sigmas to pass as ``sigmas``.

    The kept schedule is ``k = round(steps * strength)`` sigmas from ``strength`` down to
    ``strength / k`` (the pipeline's own grid runs from 1 to ``1 / steps``), so the init
    survives at ``1 - strength`` whatever the step count. A checkpoint that sets its own grid
    (``sample_sigmas`` in its config, which text-to-image then samples whatever the step count)
    keeps that grid's sigmas below ``strength``, after ``strength`` itself. The pipeline's
    resolution shift ``mu`` applies to them as it does in text-to-image (computed here the same
    way to find the first sigma).

    Returns:
        ``(latents (B, h*w, C), sigmas list)``.
    """
    import importlib

    import numpy as np
    import torch

    grid = pipe.config.get("sample_sigmas")
    if grid:
        tail = [float(strength)] + [float(s) for s in grid if s < strength]
    else:
        k = max(1, int(round(steps * strength)))
        tail = [float(s) for s in np.linspace(strength, strength / k, k)]
    w, h = size
    vae = pipe.vae
    # RGBA in: the VAE reads four channels (an RGB init is opaque)
    x = pipe.image_processor.preprocess([im.convert("RGBA") for im in images], height=h,
                                        width=w).unsqueeze(2).to(vae.device, vae.dtype)
    with torch.no_grad():
        # (B, C, 1, h/16, w/16), normalised by the VAE's latents mean/std
        x0 = torch.cat([pipe._encode_vae_image(x[i:i + 1], g)
                        for i, g in enumerate(generators)])
    b, c, _, lh, lw = x0.shape
    x0 = pipe._pack_latents(x0, b, c, lh, lw)
    cfg = pipe.scheduler.config
    module = importlib.import_module(type(pipe).__module__)
    mu = module.calculate_shift(lh * lw, cfg.get("base_image_seq_len", 256),
                                cfg.get("max_image_seq_len", 4096),
                                cfg.get("base_shift", 0.5), cfg.get("max_shift", 1.15))
    pipe.scheduler.set_timesteps(sigmas=tail, mu=mu, device=x0.device)
    sigma = pipe.scheduler.sigmas[0].to(x0.dtype)
    noise = torch.stack([torch.randn(x0.shape[1:], generator=g, dtype=torch.float32)
                         for g in generators]).to(x0.device, x0.dtype)
    return (1.0 - sigma) * x0 + sigma * noise, tail   # the flow-matching forward process


FAMILY = QwenImage21()
