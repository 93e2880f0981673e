"""FLUX.2 [klein] 4B (Apache-2.0): FLUX.2's transformer at 4B (5 double + 20 single blocks)
reading prompts through Qwen3-4B; step-distilled (4 steps, no guidance) in FLUX.2-klein-4B,
undistilled (classifier-free guidance) in FLUX.2-klein-base-4B.

A variant of FLUX.2 [dev] (render/families/flux2.py): the same structured prompt and SDEdit
through the text-to-image pipeline; it adds an inpaint pipeline (Flux2KleinInpaintPipeline)
for edits. The pipeline config's ``is_distilled`` says which checkpoint it is (guidance is
ignored when distilled). Regional attention: not implemented.
"""

from __future__ import annotations

from render.families.base import Capabilities
from render.families.flux2 import Flux2


class Flux2Klein(Flux2):
    key = "flux2-klein"
    pipelines = {"text2img": "Flux2KleinPipeline", "img2img": None,
                 "inpaint": "Flux2KleinInpaintPipeline", "edit": None}
    components = {"transformer": "Flux2Transformer2DModel", "vae": "AutoencoderKLFlux2",
                  "text_encoder": "Qwen3ForCausalLM"}
    capabilities = Capabilities(regional=False, img2img=True, inpaint=True, native_text=True,
                                negative_prompt=True, references=4, instruction_edit=True)
    presets = ("flux2-klein", "flux2-klein-base")
    gib_per_megapixel = 2.0

    def variant_of(self, pipe, source: str) -> str:
        return "flux2-klein" if pipe.config.get("is_distilled", False) else "flux2-klein-base"

    def guidance(self, tier, options):
        return tier.guidance > 1.0, {"guidance_scale": tier.guidance}


FAMILY = Flux2Klein()
