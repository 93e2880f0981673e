"""The diffusion renderer in the dtypes real checkpoints use (bf16; fp16 for SDXL), on CPU.

Each call must leave every loaded module in the dtype and on the device it was loaded with
(img2img and inpaint pipelines share the modules), and classifier-free guidance must see
the real negative prompt, never a copy of the positive one.
"""

import numpy as np
import pytest
import torch
from PIL import Image

from model.tiny import save_tiny
from planner.schema import Background, Canvas, ObjectElement, Plan
from render.diffusion import DiffusionRenderer, encode_segments, prompt_segments
from render.edit import apply_edit

DTYPES = {"sdxl": "float16", "sd3": "bfloat16", "flux": "bfloat16", "pixart": "bfloat16"}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny-dt")
    return {f: DiffusionRenderer.from_preset(str(save_tiny(f, root / f)), device="cpu",
                                             dtype=dt, steps=2)
            for f, dt in DTYPES.items()}


def plan(seed=1, color="red"):
    bg = Background(kind="color", color="#88aacc")
    return Plan(seed=seed, canvas=Canvas(width=32, height=32, background=bg), elements=(
        ObjectElement(id="apple-1", box=(0.1, 0.1, 0.5, 0.5), label="apple", color=color),))


def state(pipe):
    return {k: (m.dtype, m.device) for k, m in pipe.components.items()
            if isinstance(m, torch.nn.Module)}


@pytest.mark.parametrize("family", list(DTYPES))
def test_sdedit_and_edit_keep_the_loaded_dtype(loaded, family):
    r = loaded[family]
    want = getattr(torch, DTYPES[family])
    before = state(r.pipe)
    assert {d for d, _ in before.values()} == {want}
    image = r.render(plan()).image                       # SDEdit from the draft
    assert state(r.pipe) == before
    out = apply_edit(r, image, plan(), plan(color="blue"))  # the inpaint path
    assert state(r.pipe) == before
    m = np.asarray(out.mask) == 0
    assert np.array_equal(np.asarray(out.image)[m], np.asarray(image)[m])


@pytest.mark.parametrize("family", list(DTYPES))
def test_single_segment_negative_is_the_negative_prompt(loaded, family):
    r = loaded[family]
    text = [[prompt_segments(plan())[0][0]]]
    e, _ = encode_segments(r.pipe, r.family, text, r.preset, "blurry", True, r.device)
    assert e.neg_tokens is not None
    assert not torch.equal(e.neg_tokens, e.tokens)
