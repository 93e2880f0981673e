"""Ideogram 4 (diffusers ``Ideogram4Pipeline``): a 9B flow-matching DiT trained on structured
JSON captions, reading them through Qwen3-VL-8B; asymmetric guidance by a second,
unconditional transformer (no negative prompt).

Conditioning: the Plan written in the model's own caption schema
(render/families/ideogram4_caption.py): every object and text element with its bounding box
``[y_min, x_min, y_max, x_max]`` on the 0-1000 grid, its colour palette and, for texts, the
verbatim string. The layout is given to the model as data it was trained on; no attention
masks. Text modes: native/auto let the model draw each text element (auto reads it back with
OCR); exact turns text boxes into empty areas for the text engine.

Not available: img2img/SDEdit and inpainting (diffusers ships only text-to-image), regional
attention (not needed: boxes are in the caption), references, LoRA (not wired). Sizes are
multiples of 16 (VAE 8 x patch 2).
"""

from __future__ import annotations

from render.families.base import Capabilities
from render.families.prompted import PromptedFamily

POLISH_STEPS = 3          # the published schedule ends with 3 steps at guidance 3.0
POLISH_GUIDANCE = 3.0


class Ideogram4(PromptedFamily):
    key = "ideogram4"
    pipelines = {"text2img": "Ideogram4Pipeline", "img2img": None, "inpaint": None,
                 "edit": None}
    components = {"transformer": "Ideogram4Transformer2DModel",
                  "unconditional_transformer": "Ideogram4Transformer2DModel",
                  "vae": "AutoencoderKLFlux2", "text_encoder": "Qwen3VLModel"}
    capabilities = Capabilities(native_text=True)
    presets = ("ideogram4",)
    # two 9B transformers at 2 MP; an estimate from their widths, not a measurement
    gib_per_megapixel = 4.0

    def conditioning(self, plan, key_name=None, text_mode: str = "exact"):
        from render.families.ideogram4_caption import plan_caption
        from render.text_modes import effective_mode

        mode = effective_mode(text_mode, self.capabilities.native_text)
        return [(plan_caption(plan, mode, key_name), (), True)]

    def text2img(self, pipes, size, generators, common):
        prompts, rest = self.prompts(common)
        steps, g = rest["num_inference_steps"], rest.pop("guidance_scale")
        # The published schedule: the tier's guidance, then a short polish at 3.0 (48 steps:
        # 45 + 3); tiny step counts (tests) keep the tier's guidance throughout.
        polish = POLISH_STEPS if steps >= 16 * POLISH_STEPS else 0
        rest["guidance_schedule"] = [g] * (steps - polish) + [POLISH_GUIDANCE] * polish
        w, h = size
        return pipes.text2img(prompt=prompts, height=h, width=w, generator=generators,
                              max_sequence_length=_text_length(pipes.text2img, prompts),
                              **rest).images


def _text_length(pipe, prompts: list[str], multiple: int = 64) -> int:
    """Text tokens to pad every caption to: the longest chat-formatted caption, rounded up
    (the pipeline's default pads to 2048 whatever the caption; padding is masked out)."""
    tok = pipe.tokenizer
    def length(prompt: str) -> int:    # as Ideogram4Pipeline.encode_prompt tokenizes it
        messages = [{"role": "user", "content": [{"type": "text", "text": prompt}]}]
        text = tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        return len(tok(text, add_special_tokens=False)["input_ids"])

    longest = max(length(p) for p in prompts)
    return -(-longest // multiple) * multiple


FAMILY = Ideogram4()
