"""Native edit models through the public API, on the tiny FLUX.1 Kontext build in bf16 on CPU:
global edits go to the model whole-image and the Plan follows; region edits stay region-only;
a photo without a Plan is edited by instruction; references (the caller's and the first
image's subject crops) reach the pipeline call; every module keeps its dtype and device.
"""

import numpy as np
import pytest
import torch
from PIL import Image

from limner.api import Limner
from pipeline_spies import spy_pipeline_calls

PROMPT = "a red apple on a table"


def state(pipe) -> dict:
    return {k: (m.dtype, m.device) for k, m in pipe.components.items()
            if isinstance(m, torch.nn.Module)}


@pytest.fixture(scope="module")
def kontext(tiny_dir):
    lim = Limner(renderer=tiny_dir("flux-kontext"), device="cpu", dtype="bfloat16", steps=2,
                 native=(32, 32))
    return lim, state(lim.renderer.pipe)


@pytest.fixture
def calls(monkeypatch):
    """(pipeline class, call kwargs) of every Kontext pipeline call."""
    return spy_pipeline_calls(monkeypatch, "FluxKontextPipeline", "FluxKontextInpaintPipeline")


def whole_image_edits(calls):
    return [kw for name, kw in calls if name == "FluxKontextPipeline"
            and kw.get("image") is not None]


def test_global_edit_goes_whole_image_and_the_plan_follows(kontext, calls, tmp_path):
    lim, before = kontext
    made = lim.generate(PROMPT, size="32x32", seed=1)
    path = tmp_path / "made.png"
    made[0].save(str(path))
    calls.clear()
    edited = lim.edit("make it watercolor", image=str(path))
    sent = whole_image_edits(calls)
    assert len(sent) == 1 and sent[0]["image"].size == (32, 32)
    assert edited[0].image.size == (32, 32)
    assert "watercolor" in (edited[0].plan.style.preset or "") + edited[0].plan.style.text
    assert edited[0].plan.style != made[0].plan.style
    assert state(lim.renderer.pipe) == before


def test_region_edit_stays_in_its_region(kontext, calls, tmp_path):
    lim, before = kontext
    photo = tmp_path / "plain.png"
    Image.new("RGB", (32, 32), (40, 90, 160)).save(photo)
    mask = Image.new("RGBA", (32, 32), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (8, 8, 24, 24))
    mask_png = tmp_path / "mask.png"
    mask.save(mask_png)
    out = np.asarray(lim.edit("add a yellow star", image=str(photo),
                              mask=str(mask_png))[0].image.convert("RGB"))
    keep = np.ones((32, 32), bool)
    keep[8:24, 8:24] = False
    assert (out[keep] == (40, 90, 160)).all()
    assert not whole_image_edits(calls)
    assert state(lim.renderer.pipe) == before


def test_photo_without_plan_edited_by_instruction(kontext, calls, tmp_path):
    lim, before = kontext
    ramp = np.linspace(0, 255, 48, dtype=np.uint8)
    pixels = np.stack([np.tile(ramp, (32, 1)), np.tile(ramp[::-1], (32, 1)),
                       np.full((32, 48), 90, np.uint8)], axis=-1)
    photo = tmp_path / "photo.png"
    Image.fromarray(pixels, "RGB").save(photo)
    out = lim.edit("make it rainy", image=str(photo), seed=3)
    sent = whole_image_edits(calls)
    assert len(sent) == 1
    assert out[0].image.size == (48, 32)
    assert out[0].plan.prompt == "make it rainy"
    again = lim.edit("make it rainy", image=str(photo), seed=3, n=2)
    assert np.array_equal(np.asarray(out[0].image), np.asarray(again[0].image))
    assert not np.array_equal(np.asarray(again[0].image), np.asarray(again[1].image))
    assert state(lim.renderer.pipe) == before


def test_references_reach_the_pipeline(kontext, calls, tmp_path):
    lim, before = kontext
    # consistent subjects: image 1 is FLUX.1 SDEdit from its draft; image 2 reads image 1's
    # subject crops as Kontext's context image
    two = lim.generate(PROMPT, size="32x32", seed=5, n=2)
    contexts = [kw.get("image_reference") for _, kw in calls]
    assert len(contexts) == 1 and contexts[0] is not None
    assert state(lim.renderer.pipe) == before
    # the same seed gives the same pixels, references included
    again = lim.generate(PROMPT, size="32x32", seed=5, n=2)
    for a, b in zip(two.images, again.images):
        assert np.array_equal(np.asarray(a.image), np.asarray(b.image))
    # an edit with a reference: the edited image and the reference side by side
    path = tmp_path / "two.png"
    two[0].save(str(path))
    ref = Image.new("RGB", (32, 32), (250, 200, 0))
    calls.clear()
    lim.renderer.instruction_edit(Image.open(path), "put the yellow square on the table",
                                  _options(ref))
    (sent,) = whole_image_edits(calls)
    ctx = np.asarray(sent["image"])
    assert sent["image"].width > sent["image"].height
    assert (np.abs(ctx[:, -4:].astype(int) - (250, 200, 0)) < 8).all()
    assert state(lim.renderer.pipe) == before


def _options(*refs):
    from render.base import RenderOptions

    return RenderOptions(references=refs, extra={"seed": 0})


def test_flux2_takes_references_and_edits_natively(tiny_dir, monkeypatch, tmp_path):
    """FLUX.2 reads references as ``image=[...]``: the first image's subject crops reach the
    second image's call, and a global edit sends the edited image (then references) there.
    (On [klein]; [dev] shares the family code, only its pipeline class differs.)"""
    import diffusers

    key, cls = "flux2-klein", "Flux2KleinPipeline"
    seen = []
    original = getattr(diffusers, cls).__call__

    def spy(self, *args, **kwargs):
        seen.append(kwargs)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(getattr(diffusers, cls), "__call__", spy)
    lim = Limner(renderer=tiny_dir(key), device="cpu", dtype="bfloat16", steps=2,
                 native=(32, 32))
    before = state(lim.renderer.pipe)
    two = lim.generate(PROMPT, size="32x32", seed=5, n=2)
    assert seen[0].get("image") is None
    refs = seen[1]["image"]
    assert 1 <= len(refs) <= lim.renderer.capabilities.references
    assert all(min(r.size) >= 64 for r in refs)     # the pipeline's smallest reference side
    assert state(lim.renderer.pipe) == before
    path = tmp_path / "made.png"
    two[0].save(str(path))
    seen.clear()
    edited = lim.edit("make it watercolor", image=str(path),
                      references=[Image.new("RGB", (40, 24), (250, 200, 0))])
    (call,) = [kw for kw in seen if kw.get("image") is not None]
    assert len(call["image"]) == 2 and call["image"][0].size == (64, 64)
    assert edited[0].image.size == (32, 32)
    assert "watercolor" in (edited[0].plan.style.preset or "") + edited[0].plan.style.text
    assert state(lim.renderer.pipe) == before
