"""FLUX.1 Kontext [dev]: FLUX.1 [dev]'s transformer, VAE and encoders trained to read a context
image beside the latents (its VAE tokens appended to the sequence), so it edits an image by
instruction and keeps a subject across scenes.

Everything text-side is FLUX.1's (this family subclasses it). Without a context image
``FluxKontextPipeline`` is plain FLUX.1 text-to-image; SDEdit from the draft and inpainting
use FLUX.1's img2img and Kontext's inpainting over the same modules. Kontext reads one context image: several
(an edited image and its references, or several subject crops) are set side by side into
that one image, the usual way of giving Kontext more than one picture. The context image is
kept at its own size (``_auto_resize=False``: the pipeline would otherwise move it to one of
Kontext's preferred ~1 MP sizes), scaled down to the generation area; ``max_area`` is the
generation area (the pipeline scales height and width to ``max_area``, 1 MP by default).
"""

from __future__ import annotations

from typing import Sequence

from render.families.base import Capabilities
from render.families.flux import Flux


def side_by_side(images: Sequence, size: tuple[int, int], multiple: int = 16):
    """``images`` (PIL) at one height, left to right, scaled to at most the area of
    ``size`` with sides multiples of ``multiple``: the one context image Kontext reads."""
    from PIL import Image

    h = size[1]
    widths = [max(1, round(im.width * h / im.height)) for im in images]
    row = Image.new("RGB", (sum(widths), h), (255, 255, 255))
    x = 0
    for im, w in zip(images, widths):
        row.paste(im.convert("RGB").resize((w, h), Image.LANCZOS), (x, 0))
        x += w
    scale = min(1.0, (size[0] * size[1] / (row.width * row.height)) ** 0.5)
    w = max(multiple, int(row.width * scale) // multiple * multiple)
    h = max(multiple, int(row.height * scale) // multiple * multiple)
    return row.resize((w, h), Image.LANCZOS)


class FluxKontext(Flux):
    key = "flux-kontext"
    pipelines = {"text2img": "FluxKontextPipeline", "img2img": "FluxImg2ImgPipeline",
                 "inpaint": "FluxKontextInpaintPipeline", "edit": "FluxKontextPipeline"}
    capabilities = Capabilities(regional=True, img2img=True, inpaint=True,
                                negative_prompt=False, references=3, instruction_edit=True,
                                lora=True)
    presets = ("flux-kontext",)
    single_file_keys = ()

    def matches(self, index, path):
        # A directory saved from FLUX.1's own img2img/inpaint classes is FLUX.1's.
        return (index.get("_class_name") in {"FluxKontextPipeline",
                                             "FluxKontextInpaintPipeline"}
                and super().matches(index, path))

    def variant_of(self, pipe, source: str) -> str:
        return self.presets[0]

    def text2img(self, pipes, size, generators, common):
        w, h = size
        return pipes.text2img(max_area=w * h, height=h, width=w, generator=generators,
                              **common).images

    def reference_sample(self, pipes, inits, references, size, strength, generators, common):
        w, h = size
        context = side_by_side(references, size)
        if inits is None:
            return pipes.get("text2img")(image=context, _auto_resize=False, max_area=w * h,
            height=h, width=w,
                                         generator=generators, **common).images
        # SDEdit from the draft with the references as context: Kontext's inpainting over
        # a mask that covers everything.
        from PIL import Image

        everything = Image.new("L", (w, h), 255)
        return pipes.get("inpaint")(
            image=list(inits), image_reference=context, mask_image=[everything] * len(inits),
            strength=strength, _auto_resize=False, max_area=w * h,
            height=h, width=w, generator=generators,
            **common).images

    def inpaint(self, pipes, image, mask, size, strength, generator, common):
        # Kontext's inpainting reads the picture itself as its context image
        w, h = size
        return pipes.get("inpaint")(image=image, mask_image=mask, strength=strength,
                                    _auto_resize=False, max_area=w * h, height=h, width=w,
                                    generator=generator, **common).images

    def instruction_edit(self, pipes, image, references, size, generator, common):
        w, h = size
        context = side_by_side([image, *references], size) if references else \
            side_by_side([image], size)
        return pipes.get("edit")(image=context, _auto_resize=False, max_area=w * h,
            height=h, width=w,
                                 generator=generator, **common).images


FAMILY = FluxKontext()
