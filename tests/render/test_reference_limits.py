"""No silent drop of references: every family that takes references natively
(``capabilities.references`` > 0) refuses more than it takes, by name and limit, before any
sampling, on its tiny build in bf16 on CPU: text-to-image with references (limit), an
instruction edit (the edited image and limit references), through the API, the CLI (exit 2,
one line, nothing written) and a session (a refused edit keeps the session as it was).
limner's own subject crops (consistent subjects across n images) are trimmed with a note."""

import numpy as np
import pytest
import torch
from PIL import Image

from limner.api import Limner
from render.base import RenderError, RenderOptions
from render.families import FAMILIES, get_family

PROMPT = "a red apple on a table"
TAKING = [k for k in FAMILIES if get_family(k).capabilities.references]
# the tiny build of a family (FLUX.2 [dev]'s is named by its variant)
TINY = {"flux2": "flux2-dev"}


def refs(k: int) -> list:
    return [Image.new("RGB", (32, 32), (30 * i, 200, 250 - 30 * i)) for i in range(k)]


def photo() -> Image.Image:
    ramp = np.linspace(0, 255, 32, dtype=np.uint8)
    return Image.fromarray(np.stack([np.tile(ramp, (32, 1)), np.tile(ramp[::-1], (32, 1)),
                                     np.full((32, 32), 90, np.uint8)], axis=-1), "RGB")


def forwards(pipe) -> list:
    """Every forward of the pipeline's torch modules (nothing may run before a refusal)."""
    seen = []
    for name, m in pipe.components.items():
        if isinstance(m, torch.nn.Module):
            m.register_forward_pre_hook(lambda mod, args, _n=name: seen.append(_n))
    return seen


def test_the_families_that_take_references_are_all_checked():
    assert {"flux-kontext", "flux2", "qwenimage-edit", "glm-image", "qwenimage21",
            "fibo-edit"} <= set(TAKING)


@pytest.mark.parametrize("key", TAKING)
def test_more_references_than_the_model_takes_are_refused(key, tiny_dir, tmp_path):
    family = get_family(key)
    limit = family.capabilities.references
    edit_limit = min(limit, family.edit_images - 1) if family.edit_images else limit
    lim = Limner(renderer=tiny_dir(TINY.get(key, key)), device="cpu", dtype="bfloat16",
                 steps=1, native=(32, 32))
    renderer = lim.renderer
    assert renderer.family.key == key
    ran = forwards(renderer.pipe)
    name = renderer.name
    # what it takes passes the check
    renderer.check_references(limit)
    renderer.check_references(edit_limit, edit=True)
    if family.draws_from_text:
        with pytest.raises(RenderError, match=f"at most {limit} reference images") as e:
            lim.generate(PROMPT, size="32x32", seed=1, references=refs(limit + 1))
        assert name in str(e.value) and key in str(e.value)
        assert e.value.param == "references"
        assert "\n" not in str(e.value)
    if family.capabilities.instruction_edit:
        options = RenderOptions(references=tuple(refs(edit_limit + 1)), extra={"seed": 0})
        with pytest.raises(RenderError, match=f"at most {edit_limit + 1} images") as e:
            renderer.instruction_edit(photo(), "make it watercolor", options)
        assert name in str(e.value) and e.value.param == "image"
        path = tmp_path / "photo.png"
        photo().save(path)
        with pytest.raises(RenderError, match=f"at most {edit_limit + 1} images"):
            lim.edit("make it watercolor", image=str(path), references=refs(edit_limit + 1))
    assert ran == []      # refused before any module ran


@pytest.fixture(scope="module")
def kontext(tiny_dir):
    return tiny_dir("flux-kontext")


def test_cli_refuses_in_one_line_and_writes_nothing(kontext, tmp_path, capsys):
    from limner.cli import main

    paths = []
    for i, ref in enumerate(refs(4)):
        ref.save(tmp_path / f"r{i}.png")
        paths += ["-r", str(tmp_path / f"r{i}.png")]
    out = tmp_path / "out"
    out.mkdir()
    common = ["--renderer", kontext, "--device", "cpu", "--dtype", "bfloat16", "--steps", "1"]
    code = main(["generate", PROMPT, *paths, "--size", "32x32", "-n", "2",
                 "-o", str(out / "g.png"), *common])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 2 and err.startswith("limner: error:") and "at most 3 reference" in err
    assert "flux-kontext" in err
    photo().save(tmp_path / "p.png")
    code = main(["edit", str(tmp_path / "p.png"), "make it watercolor", *paths,
                 "-o", str(out / "e.png"), *common])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 2 and err.startswith("limner: error:") and "at most 4 images" in err
    assert list(out.iterdir()) == []


def test_a_refused_session_edit_leaves_the_session_as_it_was(kontext, tmp_path):
    from render.session import Session, edit_turn, start_from_image

    lim = Limner(renderer=kontext, device="cpu", dtype="bfloat16", steps=1, native=(32, 32))
    session = Session.open(tmp_path / "s", create=True)
    start_from_image(session, photo())
    with pytest.raises(RenderError, match="at most 4 images"):
        edit_turn(lim, session, "make it watercolor", references=refs(4))
    session = Session.open(tmp_path / "s")
    assert session.references == [] and len(session.turns) == 1


def test_subject_crops_left_out_are_noted(kontext, monkeypatch):
    """Two caller references leave room for one subject crop: of a Plan with two subjects
    the larger goes along to the other images, and the result says the other was left out.
    (The renderer's sampling is replaced by the draft's: what is checked is what the front
    door hands it.)"""
    from render.draft import DraftRenderer
    from render.photo import subject_count

    lim = Limner(renderer=kontext, device="cpu", dtype="bfloat16", steps=1, native=(32, 32))
    sent, draft = [], DraftRenderer()

    def render(plans, options):
        sent.append(options)
        return draft.render(plans, options)

    monkeypatch.setattr(lim.renderer, "render", render)
    plans = lim.plans("a red apple and a blue cup on a table", n=2, size="64x64", seed=1)
    assert subject_count(plans[0]) == 2
    result = lim.render(plans, references=refs(2))
    assert len(sent[1].extra["subject_references"]) == 1
    assert any("1 of the first image's 2 subjects" in n for n in result.notes)
    sent.clear()
    result = lim.render(plans, references=refs(1))     # room for both: no note
    assert len(sent[1].extra["subject_references"]) == 2 and not result.notes


def test_references_a_model_cannot_see_are_noted(tiny_dir):
    # FIBO takes no reference images and has no draft init: the pixels cannot reach it
    lim = Limner(renderer=tiny_dir("fibo"), device="cpu", dtype="bfloat16", steps=1)
    result = lim.generate("the robot from reference 1 on a table", size="32x32",
                          references=refs(1), seed=1)
    (note,) = [n for n in result.notes if "did not reach its model" in n]
    assert "1 reference image(s)" in note and lim.renderer.name in note
    assert not [n for n in lim.generate(PROMPT, size="32x32", seed=1).notes
                if "did not reach" in n]
    # the draft draws the reference's pixels itself; a family with img2img starts from them
    draft = Limner().generate("the robot from reference 1 on a table", size="32x32",
                              references=refs(1), seed=1)
    assert not [n for n in draft.notes if "did not reach" in n]
