"""Janus-Pro (transformers ``JanusForConditionalGeneration``, 1B and 7B): one autoregressive
LLM that samples 576 VQ codes (24 x 24) after the prompt, decoded to a 384 x 384 image, with
classifier-free guidance inside the sampler. limner wraps it as ``JanusProPipeline``
(model/ar_pipelines.py).

Conditioning: the Plan as one structured prompt (render/prompting.py). Layout is controlled
only as far as the model follows position words; there is no init image, no attention mask,
and the model always draws a square: other aspect ratios are resized (stretched) to the
canvas, larger canvases upscaled. Text: Janus-Pro spells poorly, so it is not asked to draw
text (native_text off): the text engine draws every text exactly after it.
Not available: SDEdit, inpainting (an edit is the Plan rendered whole and composited through
the mask), references, LoRA. The same model also plans and answers (model/shared_lm.py).
"""

from __future__ import annotations

from render.families.base import Capabilities
from render.families.prompted import PromptedFamily


class JanusPro(PromptedFamily):
    key = "janus-pro"
    pipelines = {"text2img": "JanusProPipeline", "img2img": None, "inpaint": None,
                 "edit": None}
    components = {"model": "JanusForConditionalGeneration", "processor": "JanusProcessor"}
    capabilities = Capabilities(native_text=False)
    presets = ("janus-pro", "janus-pro-1b")
    gib_per_megapixel = 2.0   # a KV cache of ~600 tokens per image, twice for guidance

    @property
    def denoiser(self):
        return "model", "JanusForConditionalGeneration"

    def variant_of(self, pipe, source: str) -> str:
        layers = pipe.model.config.text_config.num_hidden_layers
        return "janus-pro-1b" if layers <= 24 else "janus-pro"

    def conditioning(self, plan, key_name=None, text_mode: str = "exact"):
        from render.prompting import structured_prompt

        return [(structured_prompt(plan, "exact", key_name), (), True)]

    def text2img(self, pipes, size, generators, common):
        prompts, rest = self.prompts(common)
        return pipes.text2img(prompt=prompts, generator=generators,
                              guidance_scale=rest["guidance_scale"], output_type="np").images


FAMILY = JanusPro()
