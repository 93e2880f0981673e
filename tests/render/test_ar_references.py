"""GLM-Image takes references and edits natively, on its tiny build in bf16 on CPU: the
caller's references (and, for a global edit, the edited image) reach GlmImagePipeline as
condition images, its generator reads each through its vision tower, and they change the
image; the same seed and references give the same pixels; every module keeps its dtype."""

import numpy as np
import torch
from PIL import Image

from limner.api import Limner

PROMPT = 'a sign that says "HI" above a red apple'


def state(pipe) -> dict:
    return {k: (m.dtype, m.device) for k, m in pipe.components.items()
            if isinstance(m, torch.nn.Module)}


def test_glm_image_takes_references_and_edits_natively(tiny_dir, monkeypatch, tmp_path):
    import diffusers

    seen, grids = [], []
    original = diffusers.GlmImagePipeline.__call__

    def spy(self, *args, **kwargs):
        seen.append(kwargs)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(diffusers.GlmImagePipeline, "__call__", spy)
    lim = Limner(renderer=tiny_dir("glm-image"), device="cpu", dtype="bfloat16", steps=2)
    pipe = lim.renderer.pipe
    before = state(pipe)
    hook = pipe.vision_language_encoder.model.visual.register_forward_hook(
        lambda m, args, kwargs, out: grids.append(kwargs["grid_thw"].tolist()),
        with_kwargs=True)
    ref = Image.new("RGB", (40, 24), (250, 200, 0))
    try:
        plain = lim.generate(PROMPT, size="64x64", seed=3, text="exact")
        assert seen[-1].get("image") is None and grids == []
        made = lim.generate(PROMPT, size="64x64", seed=3, references=[ref], text="exact")
        (sent,) = seen[-1]["image"]
        # the generator's vision tower reads the one condition image (for its codes, then
        # in the prompt it samples after)
        assert sent.size == (64, 64) and grids and all(len(g) == 1 for g in grids)
        # the 40x24 reference fitted into 64x64 on white: yellow in the middle rows
        px = np.asarray(sent)
        assert (np.abs(px[32, 8:56].astype(int) - (250, 200, 0)) < 8).all()
        assert (px[2, 32] == 255).all()
        assert not np.array_equal(np.asarray(plain[0].image), np.asarray(made[0].image))
        again = lim.generate(PROMPT, size="64x64", seed=3, references=[ref], text="exact")
        assert np.array_equal(np.asarray(made[0].image), np.asarray(again[0].image))
        # a global edit: the edited image first, then the reference, both condition images
        path = tmp_path / "made.png"
        made[0].save(str(path))
        seen.clear()
        grids.clear()
        edited = lim.edit("make it watercolor", image=str(path), references=[ref])
    finally:
        hook.remove()
    (call,) = [kw for kw in seen if kw.get("image") is not None]
    assert len(call["image"]) == 2 and "watercolor" in call["prompt"]
    first = np.asarray(call["image"][0]).astype(int)
    assert np.abs(first - np.asarray(made[0].image.convert("RGB")).astype(int)).mean() < 8
    assert grids and all(len(g) == 2 for g in grids)
    assert edited[0].image.size == (64, 64)
    assert "get_image_tokens" not in vars(pipe.vision_language_encoder)   # shim removed
    assert state(pipe) == before
