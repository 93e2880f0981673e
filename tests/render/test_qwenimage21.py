"""Qwen-Image-2.1 (render/families/qwenimage21.py) on its tiny build, in bf16 on CPU: native
alpha (the decoder's fourth channel, never keyed; other families still key), condition images
from references and edits, SDEdit through the text-to-image class, the structured prompt.
The family contract (tests/render/test_family_contract.py) covers n > 1, seeds, dtypes, the
mask edit's kept pixels and the CLI."""

import numpy as np
import pytest
import torch
from PIL import Image

from limner.api import Limner
from planner.rules import RulesPlanner
from render.diffusion import explain

PROMPT = 'a sign that says "HI" above a red apple'


@pytest.fixture(scope="module")
def lim(tiny_dir):
    return Limner(renderer=tiny_dir("qwenimage21"), device="cpu", dtype="bfloat16", steps=2,
                  native=(32, 32))


@pytest.fixture
def calls(monkeypatch):
    """Keyword arguments of every QwenImage21Pipeline call."""
    import diffusers

    cls = diffusers.QwenImage21Pipeline
    seen = []
    original = cls.__call__

    def spy(self, **kw):
        seen.append(kw)
        return original(self, **kw)

    monkeypatch.setattr(cls, "__call__", spy)
    return seen


@pytest.fixture
def keyings(monkeypatch):
    """How many times the shared renderer keys out a background."""
    import render.keying

    count = []
    original = render.keying.extract_alpha

    def spy(*a, **kw):
        count.append(1)
        return original(*a, **kw)

    monkeypatch.setattr(render.keying, "extract_alpha", spy)
    return count


def plan_of(prompt, **kw):
    return RulesPlanner().plan(prompt, size=(32, 32), seed=1, **kw)


def test_transparent_asks_the_model_for_alpha_and_others_for_a_key_colour():
    plan = plan_of("a red apple", background="transparent")
    ours = explain("qwen-image-2.1", plan)[0][0]
    keyed = explain("qwen-image", plan)[0][0]
    assert "fully transparent background" in ours and "cut out" not in ours
    assert "cut out" in keyed and "isolated on a plain flat" in keyed    # a key colour


def test_text_modes_reach_the_prompt():
    plan = plan_of(PROMPT)
    native = explain("qwen-image-2.1", plan, "native")[0][0]
    exact = explain("qwen-image-2.1", plan, "exact")[0][0]
    assert '"HI"' in native and '"HI"' not in exact and "leave a clean empty area" in exact


def test_native_alpha_is_the_decoders_fourth_channel_not_keyed(lim, keyings):
    # (that every other family keys: tests/render/test_family_contract.py)
    from tests.render.test_family_contract import decoded_alpha, spy_decoder

    pipe = lim.renderer.pipe
    decoded = spy_decoder(pipe)
    try:
        out = lim.generate("a red apple on a transparent background", size="32x32", seed=4,
                           text="exact")[0].image
    finally:
        pipe.vae.__dict__.pop("decode")
    assert out.mode == "RGBA" and not keyings
    assert decoded[-1].shape[1] == 4                       # the VAE decodes RGBA
    alpha = np.asarray(out)[..., 3].astype(int)
    assert np.abs(alpha - decoded_alpha(decoded)).max() <= 1
    # an opaque Plan: the same model's output flattened to RGB
    assert lim.generate("a red apple", size="32x32", seed=4)[0].image.mode == "RGB"


def test_draft_init_is_sdedit_through_the_text_to_image_class(lim, calls):
    lim.generate("a red apple next to a blue cup", size="32x32", seed=2)
    call = calls[-1]
    tier = lim.renderer.tier("auto")
    k = max(1, round(tier.steps * tier.strength))
    assert len(call["sigmas"]) == k and call["sigmas"][0] == pytest.approx(tier.strength)
    assert call["latents"].shape[0] == 1 and "image" not in call


def test_sdedit_follows_a_checkpoints_own_sigma_grid(lim):
    from render.families.qwenimage21 import sdedit_latents

    pipe = lim.renderer.pipe
    init = [Image.new("RGB", (32, 32), (200, 30, 30))]
    gens = [torch.Generator("cpu").manual_seed(0)]
    _, tail = sdedit_latents(pipe, init, (32, 32), 0.6, gens, 4)
    assert tail == pytest.approx([0.6, 0.3])          # round(4 x 0.6) = 2 steps of the tail
    pipe.register_to_config(sample_sigmas=[1.0, 0.75, 0.5, 0.25])
    try:
        latents, tail = sdedit_latents(pipe, init, (32, 32), 0.6, gens, 4)
    finally:
        pipe.register_to_config(sample_sigmas=None)
    assert tail == [0.6, 0.5, 0.25] and latents.shape == (1, 4, 4)  # (B, h*w, C)


def test_references_are_condition_images(lim, calls, tmp_path):
    ref = Image.new("RGB", (40, 24), (200, 30, 30))
    r = lim.generate("the apple from reference 1 on a table", size="32x32", seed=3,
                     references=[ref])
    assert r[0].image.size == (32, 32)
    given = calls[-1]["image"]
    assert len(given) == 1 and np.array_equal(np.asarray(given[0]), np.asarray(ref))
    # n > 1: image 1 is drawn without, image 2 gets image 1's subject crops (consistent
    # subjects across the n images)
    start = len(calls)
    lim.generate("a red robot", size="32x32", seed=7, n=2)
    conditioned = ["image" in c for c in calls[start:]]
    assert conditioned[0] is False and conditioned[-1] is True
    # the CLI's -r reaches the same place
    from limner.cli import main

    ref_png, out = tmp_path / "ref.png", tmp_path / "out.png"
    ref.save(ref_png)
    assert main(["generate", "the apple from reference 1 on a table", "-r", str(ref_png),
                 "--renderer", str(lim.renderer.preset.repo),
                 "--size", "32x32", "--seed", "3", "--device", "cpu", "--dtype",
                 "bfloat16", "--steps", "2", "-o", str(out)]) == 0
    assert np.array_equal(np.asarray(calls[-1]["image"][0]), np.asarray(ref))


def test_instruction_edit_sends_the_picture_whole(lim, calls, tmp_path):
    photo = Image.new("RGB", (32, 32), (40, 90, 160))
    photo.paste((230, 200, 40), (8, 8, 24, 24))
    path = tmp_path / "photo.png"
    photo.save(path)
    ref = Image.new("RGB", (32, 32), (10, 200, 10))
    edited = lim.edit("make it watercolor", image=str(path), seed=5, references=[ref])
    assert edited[0].image.size == (32, 32)
    given = calls[-1]["image"]
    assert np.array_equal(np.asarray(given[0].convert("RGB")), np.asarray(photo))
    assert len(given) == 2 and np.array_equal(np.asarray(given[1]), np.asarray(ref))
    assert "latents" not in calls[-1]                       # redrawn whole, not SDEdit


def test_mask_edit_conditions_on_the_picture_and_keeps_the_rest(lim, calls, tmp_path):
    photo = Image.new("RGB", (32, 32), (40, 90, 160))
    path, mask_path = tmp_path / "photo.png", tmp_path / "mask.png"
    photo.save(path)
    mask = Image.new("RGBA", (32, 32), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (8, 8, 24, 24))
    mask.save(mask_path)
    out = np.asarray(lim.edit("add a yellow star", image=str(path), mask=str(mask_path))[0]
                     .image.convert("RGB"))
    keep = np.ones((32, 32), bool)
    keep[8:24, 8:24] = False
    assert (out[keep] == (40, 90, 160)).all()
    call = calls[-1]
    assert "latents" in call and len(call["image"]) == 1    # SDEdit + the picture as context
