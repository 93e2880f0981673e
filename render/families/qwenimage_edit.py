"""Qwen-Image-Edit-2511: Qwen-Image's 20B MMDiT trained to edit, reading 1-3 input images.

Each input image reaches the model twice: as vision tokens in the prompt (Qwen2.5-VL reads
"Picture 1: <image> ... <instruction>", so the prompt is encoded together with the images:
``prompt_with_images``) and as VAE latents appended to the image sequence.
QwenImageEditPlusPipeline takes 1-3 images (the model card's range): the edited image, then
at most two references (``edit_images = 3``; a fourth is refused, naming the limit).

It cannot draw from a prompt alone (``pipelines["text2img"]`` is None; the edit pipeline is
what loads): ``limner generate`` with it is a clear error, ``limner edit`` is what it does.
Global edits go whole-image to the edit pipeline; region edits (a Plan diff, a user's mask)
go to QwenImageEditInpaintPipeline over the same modules, which inpaints the mask while the
encoder reads the picture, and the renderer composites through the mask (pixels outside it
are the old ones).

Sizes: the pipelines scale every input image to 1 MP for the VAE (and the inpaint output to
1 MP of the input's aspect). Here they work at the generation area instead (the preset's
native 1024x1024 is that same 1 MP; a smaller native, as in the tiny test builds, keeps the
image tokens in proportion to the output).
"""

from __future__ import annotations

import contextlib
import importlib
import threading

from render.families.base import Capabilities
from render.families.qwenimage import QwenImage

_AREA_LOCK = threading.Lock()


@contextlib.contextmanager
def working_area(pipe, area: int, images=()):
    """The Qwen-Image-Edit pipelines' fixed 1 MP working area set to ``area`` pixels for one
    call: the edit-plus module's ``VAE_IMAGE_SIZE`` and the 1 MP target its inpaint module
    passes to ``calculate_dimensions``. Module globals, so calls take a lock.

    The pipelines round each side to a multiple of 32: the area is raised so that every one
    of ``images`` (PIL) keeps both sides at least 32 px at its aspect ratio (a 2:1 image at
    32x32's area would get a 0-pixel side)."""
    module = importlib.import_module(type(pipe).__module__)
    for im in images:
        area = max(area, int(32 * 32 * max(im.width / im.height, im.height / im.width)) + 1)
    with _AREA_LOCK:
        saved = {k: getattr(module, k) for k in ("VAE_IMAGE_SIZE", "calculate_dimensions")
                 if hasattr(module, k)}
        if "VAE_IMAGE_SIZE" in saved:
            module.VAE_IMAGE_SIZE = area
        if "calculate_dimensions" in saved and "VAE_IMAGE_SIZE" not in saved:
            original = saved["calculate_dimensions"]
            module.calculate_dimensions = lambda target, ratio: original(
                area if target == 1024 * 1024 else target, ratio)
        try:
            yield
        finally:
            for k, v in saved.items():
                setattr(module, k, v)


class QwenImageEdit(QwenImage):
    key = "qwenimage-edit"
    pipelines = {"text2img": None, "img2img": None,
                 "inpaint": "QwenImageEditInpaintPipeline", "edit": "QwenImageEditPlusPipeline"}
    components = {"transformer": "QwenImageTransformer2DModel",
                  "vae": "AutoencoderKLQwenImage",
                  "text_encoder": "Qwen2_5_VLForConditionalGeneration",
                  "processor": "Qwen2VLProcessor"}
    capabilities = Capabilities(regional=False, img2img=False, inpaint=True, native_text=True,
                                negative_prompt=True, references=2, instruction_edit=True)
    presets = ("qwen-image-edit",)
    prompt_with_images = True
    edit_images = 3

    def instruction_edit(self, pipes, image, references, size, generator, common):
        w, h = size
        pipe = pipes.get("edit")
        images = [image, *references]
        with working_area(pipe, w * h, images):
            return pipe(image=images, height=h, width=w, generator=generator,
                        **common).images

    def inpaint(self, pipes, image, mask, size, strength, generator, common):
        w, h = size
        pipe = pipes.get("inpaint")
        with working_area(pipe, w * h, [image]):
            return pipe(image=image, mask_image=mask, strength=strength, generator=generator,
                        **common).images


FAMILY = QwenImageEdit()
