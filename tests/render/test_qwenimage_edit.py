"""Qwen-Image-Edit-2511 (QwenImageEditPlusPipeline) on its tiny real-class build, bf16 on CPU,
through the public API and the CLI: a global edit goes whole-image to the edit pipeline with
the edited image and the references (1-3 images, encoded by the VL processor together with
the instruction); a region edit goes to QwenImageEditInpaintPipeline and keeps the pixels
outside its mask; a fourth image is refused naming the 3-image limit; text-to-image is
refused (the family cannot draw from a prompt alone)."""

import numpy as np
import pytest
import torch
from PIL import Image

from limner.api import Limner
from pipeline_spies import masked_photo, spy_pipeline_calls
from render.base import RenderError

PROMPT = "a red apple on a table"


def state(pipe) -> dict:
    return {k: (m.dtype, m.device) for k, m in pipe.components.items()
            if isinstance(m, torch.nn.Module)}


@pytest.fixture(scope="module")
def qwen_edit(tiny_dir, tmp_path_factory):
    path = tiny_dir("qwenimage-edit")
    lim = Limner(renderer=path, device="cpu", dtype="bfloat16", steps=2, native=(32, 32))
    first = tmp_path_factory.mktemp("qe") / "first.png"
    Limner().generate(PROMPT, size="32x32", seed=1)[0].save(str(first))   # a limner file
    return lim, path, first, state(lim.renderer.pipe)


@pytest.fixture
def calls(monkeypatch):
    """(pipeline class, call kwargs) of every Qwen-Image-Edit pipeline call."""
    return spy_pipeline_calls(monkeypatch, "QwenImageEditPlusPipeline",
                              "QwenImageEditInpaintPipeline")


def test_directory_is_its_own_family(qwen_edit):
    from render.families import family_for_directory

    family = family_for_directory(qwen_edit[1])
    assert family.key == "qwenimage-edit" and not family.draws_from_text
    assert family.loaded_pipeline == "QwenImageEditPlusPipeline"


def test_global_edit_with_references_goes_whole_image(qwen_edit, calls):
    lim, _, first, before = qwen_edit
    refs = [Image.new("RGB", (24, 40), (250, 200, 0)), Image.new("RGB", (32, 32), (0, 90, 200))]
    edited = lim.edit("make it watercolor", image=str(first), references=refs, seed=2)
    (name, kw), = calls
    assert name == "QwenImageEditPlusPipeline"
    images = kw["image"]
    assert len(images) == 3 and images[0].size == (32, 32)
    assert np.asarray(images[1]).reshape(-1, 3)[0].tolist() == [250, 200, 0]
    # the instruction goes as text: the pipeline encodes it together with the images
    assert kw["prompt"] == "make it watercolor" and kw.get("prompt_embeds") is None
    assert kw["negative_prompt"].strip() != "make it watercolor" and kw["true_cfg_scale"] > 1
    assert edited[0].image.size == (32, 32)
    assert "watercolor" in (edited[0].plan.style.preset or "") + edited[0].plan.style.text
    again = lim.edit("make it watercolor", image=str(first), references=refs, seed=2)
    assert np.array_equal(np.asarray(edited[0].image), np.asarray(again[0].image))
    assert state(lim.renderer.pipe) == before


def test_a_fourth_image_is_refused_naming_the_limit(qwen_edit, calls, tmp_path, capsys):
    from limner.cli import main

    lim, path, first, before = qwen_edit
    refs = [Image.new("RGB", (32, 32), c) for c in ("red", "green", "blue")]
    with pytest.raises(RenderError, match="at most 3 images"):
        lim.renderer.instruction_edit(Image.open(first), "put them on a table",
                                      _options(*refs))
    assert not calls
    paths = []
    for i, ref in enumerate(refs):
        paths += ["-r", str(tmp_path / f"r{i}.png")]
        ref.save(paths[-1])
    code = main(["edit", str(first), "make it watercolor", *paths, "--renderer", path,
                 "--device", "cpu", "--dtype", "bfloat16", "--steps", "2",
                 "-o", str(tmp_path / "x.png")])
    err = capsys.readouterr().err.strip().splitlines()[-1]   # (after the load's progress)
    assert code == 2 and err.startswith("limner: error:") and "at most 3 images" in err


def test_region_edit_inpaints_only_its_mask(qwen_edit, calls, tmp_path):
    lim, _, first, before = qwen_edit
    photo, mask, pixels, keep = masked_photo(tmp_path)
    out = lim.edit("add a yellow star", image=str(photo), mask=str(mask))
    got = np.asarray(out[0].image.convert("RGB"))
    assert (got[keep] == pixels[keep]).all()
    assert [n for n, _ in calls] == ["QwenImageEditInpaintPipeline"]
    assert calls[0][1]["mask_image"] is not None and isinstance(calls[0][1]["prompt"], str)
    assert state(lim.renderer.pipe) == before


def test_cli_generate_is_refused(qwen_edit, tmp_path, capsys):
    from limner.cli import main

    lim, path, first, _ = qwen_edit
    common = ["--device", "cpu", "--dtype", "bfloat16", "--steps", "2"]
    code = main(["generate", PROMPT, "--size", "32x32", "--renderer", path, *common,
                 "-o", str(tmp_path / "g.png")])
    err = capsys.readouterr().err.strip().splitlines()[-1]   # (after the load's progress)
    assert code == 2 and err.startswith("limner: error:")
    assert "cannot draw one from a prompt alone" in err and "limner edit" in err


def _options(*refs):
    from render.base import RenderOptions

    return RenderOptions(references=refs, extra={"seed": 0})


def test_two_image_edit_at_a_new_size_is_composed_by_the_model(qwen_edit, calls, tmp_path):
    """OpenAI's ``images.edit(image=[a, b], prompt="put both on a table", size=...)``: an
    edit-only family composes the pictures itself (both go to its edit pipeline)."""
    lim = qwen_edit[0]
    a, b = Image.new("RGB", (32, 48), (200, 30, 30)), Image.new("RGB", (40, 32), (30, 30, 200))
    out = lim.edit("put both on a table", image=a, references=[b], size="64x32", seed=4)
    (name, kw), = calls
    assert name == "QwenImageEditPlusPipeline" and len(kw["image"]) == 2
    assert kw["image"][0].size == (64, 32) and kw["image"][1].size == (40, 32)
    assert out[0].image.size == (64, 32) and out[0].plan.prompt == "put both on a table"
    from limner.api import LimnerError

    with pytest.raises(LimnerError, match="transparency") as e:
        lim.edit("put both on a table", image=a, references=[b], size="64x32",
                 background="transparent")
    assert e.value.param == "background"


def test_a_photo_scene_edit_is_one_whole_image_call(qwen_edit, calls):
    """A new scene around a photo without a Plan goes to the model whole-image, planned
    first and drawn once: no inpainting pass is made and then thrown away."""
    lim = qwen_edit[0]
    rng = np.random.default_rng(0)
    photo = Image.fromarray((rng.random((32, 48, 3)) * 60 + 90).astype(np.uint8))
    out = lim.edit("make it rainy", image=photo, seed=1)
    assert [name for name, _ in calls] == ["QwenImageEditPlusPipeline"]
    assert out[0].image.size == (48, 32) and out[0].plan.prompt == "make it rainy"
