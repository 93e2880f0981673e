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
multiple and resized.

References and edits by instruction go in natively as the pipeline's condition images
(``image=[...]``): the generator reads each as image codes before it samples, and the decoder
attends to each one's latents. The model card shows several condition images
("[image, image1]") without a limit; limner sends at most 4 (the limit of Z.ai's hosted edit
service). Each condition image is fitted, padded with white, into the output's size (a multiple
of 32 inside the processor's pixel bounds): the generator's processor halves a condition image
and the decoder encodes it whole, so both grids agree only for such sizes, and the pipeline
stacks the images' features, which needs one size for all.

Not available: SDEdit, inpainting (an edit is the Plan rendered whole and composited through
the mask), regional attention, negative prompt, LoRA.
"""

from __future__ import annotations

from contextlib import contextmanager

from render.families.base import Capabilities
from render.families.prompted import PromptedFamily

MAX_REFERENCES = 4


class GlmImage(PromptedFamily):
    key = "glm-image"
    pipelines = {"text2img": "GlmImagePipeline", "img2img": None, "inpaint": None,
                 "edit": None}
    components = {"transformer": "GlmImageTransformer2DModel", "vae": "AutoencoderKL",
                  "text_encoder": "T5EncoderModel",
                  "vision_language_encoder": "GlmImageForConditionalGeneration"}
    capabilities = Capabilities(native_text=True, references=MAX_REFERENCES,
                                instruction_edit=True)
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

    def reference_sample(self, pipes, inits, references, size, strength, generators, common):
        """Text-to-image with ``references`` as condition images (there is no SDEdit init)."""
        pipe = pipes.text2img
        w32, h32 = (-(-v // 32) * 32 for v in size)
        target = condition_size(pipe, (w32, h32))
        images = [fit_condition(r, target) for r in references]
        with per_image_tokens(pipe.vision_language_encoder):
            return self.text2img(pipes, size, generators, {**common, "image": images})

    def instruction_edit(self, pipes, image, references, size, generator, common):
        """The edited image first, the references after it, all as condition images; the
        prompt is the instruction."""
        return self.reference_sample(pipes, None, [image, *references], size, 1.0,
                                     [generator], common)


def condition_size(pipe, size: tuple[int, int]) -> tuple[int, int]:
    """``size`` scaled into the generator processor's pixel bounds, sides multiples of 32."""
    import math

    bounds = pipe.processor.image_processor.size
    lo = math.sqrt(bounds["shortest_edge"])
    hi = math.sqrt(bounds["longest_edge"])
    w, h = size
    scale = max(1.0, lo / min(w, h))
    scale = min(scale, hi / max(w, h))
    return tuple(min(int(hi // 32) * 32, max(math.ceil(lo / 32) * 32, round(v * scale / 32) * 32))
                 for v in (w, h))


def fit_condition(image, size: tuple[int, int]):
    """``image`` (RGB) scaled to fit inside ``size`` and centred on white."""
    from PIL import Image

    image = image.convert("RGB")
    scale = min(size[0] / image.width, size[1] / image.height)
    inner = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                         Image.LANCZOS)
    canvas = Image.new("RGB", size, (255, 255, 255))
    canvas.paste(inner, ((size[0] - inner.width) // 2, (size[1] - inner.height) // 2))
    return canvas


@contextmanager
def per_image_tokens(generator):
    """diffusers 0.42's GlmImagePipeline concatenates the condition images' features before
    ``get_image_tokens``; transformers 5 returns them per image as ``(D, h, w)`` and quantises a
    list of those, so the concatenated ``(n*D, h, w)`` reads as n*D one-channel images and the
    call fails. For the duration of a call, the generator's ``get_image_tokens`` (an instance
    attribute over the class method) splits such a tensor back into its n images."""
    import torch

    real = generator.get_image_tokens

    def get_image_tokens(hidden_states, image_grid_thw=None):
        if torch.is_tensor(hidden_states) and hidden_states.dim() == 3 \
                and image_grid_thw is not None:
            hidden_states = list(hidden_states.chunk(len(image_grid_thw)))
        return real(hidden_states, image_grid_thw)

    generator.get_image_tokens = get_image_tokens
    try:
        yield
    finally:
        del generator.get_image_tokens


FAMILY = GlmImage()
