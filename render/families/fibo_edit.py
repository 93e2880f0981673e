"""Bria Fibo-Edit (diffusers ``BriaFiboEditPipeline``): FIBO's architecture (the same
transformer, SmolLM3 encoder and Wan 2.2 VAE classes) trained by Bria to edit: it reads one or
more input images as extra latent tokens (each on its own RoPE time plane) and a JSON prompt
that must hold an ``edit_instruction``; with a mask, the masked pixels are painted grey in the
input and regenerated.

An edit-only family here (``pipelines["text2img"]`` None, as Qwen-Image-Edit): the weights
are trained for editing, so ``limner generate`` with it is a clear error and ``limner edit``
is what it does:
- a whole-image edit (a restyle, a global change) sends ``{"edit_instruction": INSTRUCTION}``
  with the image first and at most two references after it (three images in all: a limit of
  limner's; the pipeline's own example passes two);
- a region edit (a Plan diff, a user's mask) sends the revised Plan in FIBO's schema
  (render/families/fibo_prompt.py: every element with its grid cell, size class, colour,
  every text verbatim) plus an ``edit_instruction`` asking to redraw the grey masked area to
  match it; the renderer composites through the mask (pixels outside it are the old ones).

What is not known: Bria's own edit prompts come from its VLM (a full description of the
target image plus the instruction); the instruction-only JSON and the wording of the masked
edit's instruction are limner's. Sizes are multiples of 16 (the pipeline warns below 32).
Checked only on a tiny random-init build; never run on Bria's weights.
"""

from __future__ import annotations

import json

from render.families.base import Capabilities
from render.families.fibo import Fibo

MASK_INSTRUCTION = ("Redraw only the grey masked area so that the image matches this "
                    "description; keep everything outside it unchanged.")


def edit_prompt(instruction: str) -> str:
    """An instruction as the edit JSON BriaFiboEditPipeline requires."""
    return json.dumps({"edit_instruction": instruction}, ensure_ascii=False,
                      separators=(",", ":"))


class FiboEdit(Fibo):
    key = "fibo-edit"
    pipelines = {"text2img": None, "img2img": None, "inpaint": "BriaFiboEditPipeline",
                 "edit": "BriaFiboEditPipeline"}
    capabilities = Capabilities(native_text=True, inpaint=True, instruction_edit=True,
                                references=2)
    presets = ("fibo-edit", "fibo-edit-turbo")
    edit_images = 3

    def variant_of(self, pipe, source: str) -> str:
        # Bria publishes the 4-step distilled weights as Fibo-Edit-*-turbo
        return self.presets[1] if "turbo" in str(source).lower() else self.presets[0]

    def conditioning(self, plan, key_name=None, text_mode: str = "exact"):
        from render.families.fibo_prompt import plan_prompt_dict
        from render.text_modes import effective_mode

        mode = effective_mode(text_mode, self.capabilities.native_text)
        data = {**plan_prompt_dict(plan, mode, key_name), "edit_instruction": MASK_INSTRUCTION}
        return [(json.dumps(data, ensure_ascii=False, separators=(",", ":")), (), True)]

    def instruction_edit(self, pipes, image, references, size, generator, common):
        prompts, rest = self.prompts(common)
        w, h = size
        return pipes.get("edit")(prompt=[edit_prompt(p) for p in prompts],
                                 image=[image, *references], height=h, width=w,
                                 generator=generator, **rest).images

    def inpaint(self, pipes, image, mask, size, strength, generator, common):
        # no strength: the masked area is regenerated whole from grey
        prompts, rest = self.prompts(common)
        w, h = size
        return pipes.get("inpaint")(prompt=prompts, image=image, mask=mask.convert("L"),
                                    height=h, width=w, generator=generator, **rest).images


FAMILY = FiboEdit()
