"""Autoregressive image generators that diffusers has no pipeline for, as DiffusionPipelines.

``JanusProPipeline`` wraps transformers' ``JanusForConditionalGeneration`` (Janus-Pro 1B/7B,
``deepseek-community/Janus-Pro-*`` in transformers layout) and its ``JanusProcessor``, so the
shared loader, device placement and offload treat it like any other pipeline. It loads from a
transformers repo or directory (``config.json`` + processor files); ``save_pretrained`` writes
that layout plus a ``model_index.json`` naming the classes, so a saved directory is matched to
its family like a diffusers one.

Sampling: each image is generated with its own seed inside ``torch.random.fork_rng`` (the
transformers sampler draws from torch's global generator; forking keeps the caller's state
untouched and makes a seed give the same codes every time).
"""

from __future__ import annotations

import json
from pathlib import Path

from diffusers import DiffusionPipeline


class JanusProPipeline(DiffusionPipeline):
    """Janus-Pro text-to-image: prompt → image codes (the LLM) → pixels (the VQ decoder)."""

    model_cpu_offload_seq = "model"

    def __init__(self, model, processor):
        super().__init__()
        self.register_modules(model=model, processor=processor)

    @property
    def transformer(self):
        """The network that runs every step: the language model sampling image codes."""
        return self.model

    @property
    def vae_scale_factor(self) -> int:
        """Pixels per image code along a side (16 for the real checkpoints: 384 / 24)."""
        side = self.model.config.vision_config.image_size
        return side // self.model.model.vqmodel.config.num_patches

    @classmethod
    def from_pretrained(cls, path, **kwargs):
        """Load from a transformers repo id or directory (``dtype``/``torch_dtype``,
        ``local_files_only`` as diffusers takes them)."""
        from transformers import JanusForConditionalGeneration, JanusProcessor

        dtype = kwargs.pop("dtype", None) or kwargs.pop("torch_dtype", None)
        local = kwargs.pop("local_files_only", True)
        model = JanusForConditionalGeneration.from_pretrained(str(path), dtype=dtype,
                                                              local_files_only=local)
        processor = JanusProcessor.from_pretrained(str(path), local_files_only=local)
        return cls(model.eval(), processor)

    def save_pretrained(self, path, **kwargs) -> None:
        path = Path(path)
        self.model.save_pretrained(path)
        self.processor.save_pretrained(path)
        index = {"_class_name": type(self).__name__,
                 "model": ["transformers", type(self.model).__name__],
                 "processor": ["transformers", type(self.processor).__name__]}
        (path / "model_index.json").write_text(json.dumps(index, indent=2), encoding="utf-8")

    def prompt_ids(self, prompt: str):
        """The chat-formatted prompt with the image-start token, as the model card writes it."""
        messages = [{"role": "user", "content": [{"type": "text", "text": prompt}]}]
        text = self.processor.apply_chat_template(messages, add_generation_prompt=True)
        return self.processor(text=text, generation_mode="image", return_tensors="pt")

    def __call__(self, prompt, generator=None, guidance_scale: float = 5.0,
                 output_type: str = "np", **_ignored):
        """Images for ``prompt`` (a string or list), one seeded sampling run each.

        Returns:
            An object with ``images``: float ``(B, H, W, 3)`` in [0, 1] (numpy), or PIL
            images for ``output_type="pil"``. Height/width and step counts are fixed by the
            model (384 px, 576 codes for the real checkpoints) and ignored here.
        """
        import numpy as np
        import torch

        prompts = [prompt] if isinstance(prompt, str) else list(prompt)
        gens = generator if isinstance(generator, list) else [generator] * len(prompts)
        device = self.model.device
        out = []
        for text, g in zip(prompts, gens):
            inputs = self.prompt_ids(text).to(device)
            devices = [device] if device.type == "cuda" else []
            with torch.random.fork_rng(devices=devices), torch.inference_mode():
                torch.manual_seed(g.initial_seed() if g is not None else 0)
                codes = self.model.generate(**inputs, generation_mode="image", do_sample=True,
                                            use_cache=True, guidance_scale=guidance_scale)
                pixels = self.model.decode_image_tokens(codes)        # (1, H, W, 3) in [-1, 1]
            out.append(((pixels.float().clamp(-1, 1) + 1) / 2).cpu().numpy()[0])
        images = np.stack(out)
        if output_type == "pil":
            from PIL import Image

            images = [Image.fromarray((a * 255).round().astype("uint8")) for a in images]
        return _Output(images)


class _Output:
    def __init__(self, images):
        self.images = images


PIPELINES = {"JanusProPipeline": JanusProPipeline}
