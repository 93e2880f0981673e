"""GLM-Image (diffusers ``GlmImagePipeline``): an autoregressive generator
(``GlmImageForConditionalGeneration``, 9B, samples a grid of image codes after the prompt)
whose codes condition a diffusion decoder (7B DiT), with a ByT5 glyph encoder that reads
every quoted text of the prompt.

Conditioning: the Plan as one structured prompt (render/prompting.py): scene, each element
with count, colour, size and position words from its box, every text verbatim in quotes (the
glyph encoder reads exactly those). Layout is controlled only as far as the generator follows
the position words: there is no SDEdit init, no attention mask.

Each image is sampled on its own (the pipeline's generator runs one prompt at a time) inside
``torch.random.fork_rng``: the pipeline seeds torch's global generator from the image's
generator, so forking keeps the caller's random state and a seed gives the same pixels.
Sizes are multiples of 32 (codes on a 32 px grid); other sizes are sampled at the next
multiple and resized. Not available: SDEdit, inpainting (an edit is the Plan rendered whole and
composited through the mask), regional attention, negative prompt, LoRA.
"""

from __future__ import annotations

from render.families.base import Capabilities
from render.families.prompted import PromptedFamily


class GlmImage(PromptedFamily):
    key = "glm-image"
    pipelines = {"text2img": "GlmImagePipeline", "img2img": None, "inpaint": None,
                 "edit": None}
    components = {"transformer": "GlmImageTransformer2DModel", "vae": "AutoencoderKL",
                  "text_encoder": "T5EncoderModel",
                  "vision_language_encoder": "GlmImageForConditionalGeneration"}
    capabilities = Capabilities(native_text=True)
    presets = ("glm-image",)
    gib_per_megapixel = 4.0   # a 7B DiT at 1 MP plus the generator's cache; an estimate

    def conditioning(self, plan, key_name=None, text_mode: str = "exact"):
        from render.prompting import structured_prompt
        from render.text_modes import effective_mode

        mode = effective_mode(text_mode, self.capabilities.native_text)
        return [(structured_prompt(plan, mode, key_name), (), True)]

    def text2img(self, pipes, size, generators, common):
        import numpy as np
        import torch
        from PIL import Image

        prompts, rest = self.prompts(common)
        w, h = size
        w32, h32 = -(-w // 32) * 32, -(-h // 32) * 32
        out = []
        for text, g in zip(prompts, generators):
            with torch.random.fork_rng(devices=[]):
                a = pipes.text2img(prompt=text, height=h32, width=w32, generator=g,
                                   **rest).images[0]
            if (w32, h32) != (w, h):
                img = Image.fromarray((np.clip(a, 0, 1) * 255).round().astype(np.uint8))
                a = np.asarray(img.resize((w, h), Image.LANCZOS), dtype=np.float32) / 255.0
            out.append(a)
        return np.stack(out)


FAMILY = GlmImage()
