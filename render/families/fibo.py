"""Bria FIBO (diffusers ``BriaFiboPipeline``): an 8B flow-matching DiT (8 dual-stream + 38
single-stream blocks) trained only on long structured JSON captions, read through SmolLM3-3B
(``SmolLM3ForCausalLM``; every block sees its own encoder layer, "DimFusion"), decoded by the
Wan 2.2 VAE (16x spatial compression, 48 latent channels). Guidance is classic CFG: the
pipeline runs two passes per step.

Conditioning: the Plan written in FIBO's own JSON schema (render/families/fibo_prompt.py):
every object instance with its colour, a location word (the 3 x 3 grid cell of its box) and a
relative size word, every text verbatim in ``text_render`` with its placement, colour and
font, the background and style. FIBO takes no coordinates, so layout is controlled only to a
grid cell and a size class (coarser than Ideogram 4's boxes); there is no SDEdit init and no
attention mask. The negative prompt is Bria's: empty, or for a photograph a JSON steering
away from illustration (``fibo_prompt.negative_prompt``); limner's own negative prompt is not
used. Text modes: native/auto let the model draw the texts (auto reads them back with OCR);
exact leaves ``text_render`` empty and names an empty area at each text's place.

Not available: img2img/SDEdit and inpainting (diffusers ships only text-to-image for FIBO's
weights; an edit is the Plan rendered whole and composited through the change mask), regional
attention, references, instruction edits (``BriaFiboEditPipeline`` needs Bria's separately
trained Fibo-Edit weights: the ``fibo-edit`` family, render/families/fibo_edit.py). LoRA
loads through the pipeline's own ``FluxLoraLoaderMixin`` (checked with a random LoRA on the
tiny build, not with one Bria trained). Sizes are multiples of 16.
"""

from __future__ import annotations

from render.families.base import Capabilities
from render.families.prompted import PromptedFamily


class Fibo(PromptedFamily):
    key = "fibo"
    pipelines = {"text2img": "BriaFiboPipeline", "img2img": None, "inpaint": None,
                 "edit": None}
    components = {"transformer": "BriaFiboTransformer2DModel", "vae": "AutoencoderKLWan",
                  "text_encoder": "SmolLM3ForCausalLM"}
    capabilities = Capabilities(native_text=True, lora=True)
    presets = ("fibo",)
    # peak activations of limner's path at 1024x1024 with CFG (4096 image tokens, the Plan's
    # JSON as text): 3.27 GB = 3.05 GiB, scripts/simulate_gpu.py on the meta device; longer
    # captions (Bria's prompt writer: ~1,000 words, up to 3000 tokens) need more
    gib_per_megapixel = 3.5

    def conditioning(self, plan, key_name=None, text_mode: str = "exact"):
        from render.families.fibo_prompt import plan_prompt
        from render.text_modes import effective_mode

        mode = effective_mode(text_mode, self.capabilities.native_text)
        return [(plan_prompt(plan, mode, key_name), (), True)]

    def text2img(self, pipes, size, generators, common):
        from render.families.fibo_prompt import negative_prompt

        prompts, rest = self.prompts(common)
        w, h = size
        if rest.get("guidance_scale", 0) > 1:   # Bria's: photographs steer off illustration
            rest["negative_prompt"] = [negative_prompt(p) for p in prompts]
        return pipes.text2img(prompt=prompts, height=h, width=w, generator=generators,
                              **rest).images


FAMILY = Fibo()
