"""Reference images and photos without a Plan, through the front door (API, CLI, server).

Every image here is made in the test: plain pictures with no limner metadata.
"""

from __future__ import annotations

import colorsys
import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from limner.api import Limner, LimnerError
from planner.schema import box_to_pixels


def colours(n: int) -> list[tuple[int, int, int]]:
    return [tuple(round(v * 255) for v in colorsys.hsv_to_rgb(i / n, 1.0, 0.9))
            for i in range(n)]


def plain_reference(colour, size=(48, 64)) -> Image.Image:
    """A product shot: one flat-coloured thing on a white ground."""
    im = Image.new("RGB", size, (255, 255, 255))
    w, h = size
    ImageDraw.Draw(im).rounded_rectangle((w // 5, h // 6, w - w // 5, h - h // 8), 4,
                                         fill=colour)
    return im


def photo(size=(192, 128), seed=0) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """A 'photo': a textured ground (no uniform border) with a yellow subject."""
    rng = np.random.default_rng(seed)
    a = (rng.random((size[1], size[0], 3)) * 50 + 90).astype(np.uint8)
    box = (size[0] * 2 // 5, size[1] // 4, size[0] * 3 // 5, size[1] * 4 // 5)
    a[box[1]:box[3], box[0]:box[2]] = (245, 200, 10)
    return Image.fromarray(a), box


def found(image: Image.Image, box, colour, tol: int = 40) -> int:
    """How many pixels of ``colour`` (within ``tol``) lie in ``box`` (normalised)."""
    x0, y0, x1, y1 = box_to_pixels(box, *image.size)
    a = np.asarray(image.convert("RGB"), dtype=np.int16)[y0:y1, x0:x1]
    return int((np.abs(a - np.int16(colour)).max(axis=-1) <= tol).sum())


@pytest.fixture(scope="module")
def lim() -> Limner:
    return Limner()


@pytest.mark.parametrize("n", [2, 4, 16])
def test_blend_references_every_one_visible_in_its_box(lim, n):
    cols = colours(n)
    refs = [plain_reference(c) for c in cols]
    r = lim.generate("put these products on a marble counter", references=refs,
                     size="256x256" if n < 16 else "384x384")
    plan, image = r.plan, r.image
    bound = {e.reference: e for e in plan.objects if e.reference is not None}
    assert sorted(bound) == list(range(n))
    for i, c in enumerate(cols):
        assert found(image, bound[i].box, c) >= 12, f"reference {i + 1} not visible"


def test_generate_named_reference_takes_its_element(lim):
    red = plain_reference((220, 20, 20))
    r = lim.generate("the robot from reference 1 next to a tree", references=[red],
                     size="256x256")
    robot = next(e for e in r.plan.objects if e.label == "robot")
    assert robot.reference == 0 and found(r.image, robot.box, (220, 20, 20)) > 50


def test_backdrop_and_style_references(lim):
    backdrop = Image.new("RGB", (64, 64), (20, 160, 60))
    style = Image.new("RGB", (64, 64), (200, 40, 200))
    r = lim.generate("a cup on the background from image 1", references=[backdrop],
                     size="128x128")
    assert r.plan.canvas.background.reference == 0
    assert found(r.image, (0, 0, 1, 0.1), (20, 160, 60), tol=2) > 0.9 * 128 * 12
    plain = lim.generate("a cup", size="128x128").image
    styled = lim.generate("a cup in the style of image 1", references=[style], size="128x128")
    assert styled.plan.style.reference == 0 and not styled.notes
    # The palette pulls the picture towards magenta.
    hue = np.asarray(styled.image, dtype=float)[..., [0, 2]].mean() - \
        np.asarray(plain, dtype=float)[..., [0, 2]].mean()
    assert hue > 5


def test_cjk_reference_words_bind(lim):
    r = lim.generate("图1中的杯子和图2中的猫", references=[plain_reference((0, 0, 250)),
                                                           plain_reference((250, 0, 0))],
                     size="256x256")
    by_ref = {e.reference: e.label for e in r.plan.objects if e.reference is not None}
    assert by_ref == {0: "cup", 1: "cat"}


def test_too_many_references_names_the_field(lim):
    with pytest.raises(LimnerError) as e:
        lim.generate("a cup", references=[plain_reference((0, 0, 0))] * 17)
    assert e.value.param == "references"


# --- photos without a Plan -------------------------------------------------------------------

def test_new_background_keeps_the_photos_subject(lim):
    im, (x0, y0, x1, y1) = photo()
    r = lim.edit("change the background to a snowy forest", image=im)
    before, after = np.asarray(im), np.asarray(r.image.convert("RGB"))
    assert (after[y0:y1, x0:x1] == before[y0:y1, x0:x1]).all()     # the subject, exactly
    outside = np.ones(before.shape[:2], bool)
    outside[y0 - 4:y1 + 4, x0 - 4:x1 + 4] = False
    changed = (after != before).any(-1)[outside].mean()
    assert changed > 0.8 and r.plan.canvas.background.scene == "snow"


def test_new_elements_avoid_the_subject_and_nothing_else_changes(lim):
    im, (x0, y0, x1, y1) = photo(seed=1)
    r = lim.edit("add a red balloon", image=im)
    before, after = np.asarray(im), np.asarray(r.image.convert("RGB"))
    assert (after[y0:y1, x0:x1] == before[y0:y1, x0:x1]).all()
    balloon = r.plan.objects[0]
    bx0, by0, bx1, by1 = box_to_pixels(balloon.box, *im.size)
    diff = (after != before).any(-1)
    diff[by0:by1, bx0:bx1] = False
    ys, xs = np.nonzero(diff)     # only a soft shadow may spill past the box
    assert len(ys) == 0 or (xs.min() >= bx0 - 16 and xs.max() <= bx1 + 16)
    assert diff.mean() < 0.05


def test_edit_photo_with_a_named_reference(lim, tmp_path):
    im, (x0, y0, x1, y1) = photo(seed=2)
    bag = plain_reference((30, 30, 220))
    r = lim.edit("put it on a table next to the backpack from reference 1", image=im,
                 references=[bag])
    bag_el = next(e for e in r.plan.objects if e.reference == 0)
    assert bag_el.label == "backpack" and found(r.image, bag_el.box, (30, 30, 220)) > 30
    assert (np.asarray(r.image.convert("RGB"))[y0:y1, x0:x1]
            == np.asarray(im)[y0:y1, x0:x1]).all()


def test_style_the_draft_cannot_draw_is_noted(lim):
    im, _ = photo(seed=3)
    r = lim.edit("make it watercolor", image=im)
    assert r.notes and "watercolor" in r.notes[0] and "draft" in r.notes[0]
    made = lim.generate("a cup", size="128x128")
    assert not lim.edit("make it watercolor", image=made[0].data).notes   # drawn
    again = lim.edit("make it anime", image=made[0].data)
    assert again.notes and "anime" in again.notes[0]


def test_recolour_in_a_photo_names_a_renderer_that_can(lim):
    im, _ = photo(seed=4)
    with pytest.raises(Exception) as e:
        lim.edit("make the car blue", image=im)
    assert "renderer" in str(e.value) and "sdxl" in str(e.value)


def test_compose_images_at_a_new_size(lim):
    a, b = plain_reference((230, 20, 20)), plain_reference((20, 20, 230))
    r = lim.edit("put both on a table", image=a, references=[b], size="256x256")
    assert r.image.size == (256, 256)
    bound = {e.reference: e for e in r.plan.objects if e.reference is not None}
    assert sorted(bound) == [0, 1]
    assert found(r.image, bound[0].box, (230, 20, 20)) > 30
    assert found(r.image, bound[1].box, (20, 20, 230)) > 30


def test_cli_generate_with_references_and_a_style_warning(tmp_path, capsys):
    from limner.cli import main
    from render.encode import read_plan

    ref = tmp_path / "ref.png"
    plain_reference((20, 200, 20)).save(ref)
    out = tmp_path / "out.png"
    code = main(["generate", "an anime cup next to reference 1", "-r", str(ref),
                 "--size", "128x128", "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 0 and "warning" in err and "anime" in err
    assert any(e.reference == 0 for e in read_plan(str(out)).objects)
    code = main(["generate", "reference 2", "-r", str(ref), "-o", str(tmp_path / "x.png")])
    err = capsys.readouterr().err
    assert code == 2 and "'reference 2'" in err and len(err.strip().splitlines()) == 1


# --- provenance ----------------------------------------------------------------------------

def test_edit_is_signed_with_its_parent_and_references_as_ingredients(tmp_path, capsys):
    from limner.cli import main
    from render import provenance as pv

    pv.init_keys()
    lim = Limner()
    made = lim.generate("a red apple", size="128x128")[0]
    assert pv.verify(made.data)["actions"] == ["c2pa.created"]
    (tmp_path / "a.png").write_bytes(made.data)
    ref = tmp_path / "bag.png"
    plain_reference((30, 30, 220)).save(ref)
    edited = lim.edit("add the backpack from reference 1", image=str(tmp_path / "a.png"),
                      references=[str(ref)])[0]
    report = pv.verify(edited.data)
    assert report["valid"] and report["actions"][0] == "c2pa.opened"
    assert "c2pa.placed" in report["actions"] and report["actions"][-1] == "c2pa.edited"
    parent, component = report["ingredients"]
    assert parent["relationship"] == "parentOf" and parent["title"] == "a.png"
    assert parent["actions"] == ["c2pa.created"]          # the chain: the parent's manifest
    assert component["relationship"] == "componentOf" and not component["signed"]
    out = tmp_path / "b.png"
    out.write_bytes(edited.data)
    assert main(["verify", str(out)]) == 0
    text = capsys.readouterr().out
    assert "parent a.png: c2pa.created" in text and "reference bag.png: no manifest" in text
    # A photo with no manifest is opened too.
    im, _ = photo(seed=5)
    again = lim.edit("add a red balloon", image=im)[0]
    assert pv.verify(again.data)["ingredients"][0]["signed"] is False


def test_photo_subject_survives_later_turns(lim):
    """After a new background the Plan records the photo's subject; a later edit (a Plan
    diff) places new things beside it and never redraws its pixels."""
    im, (x0, y0, x1, y1) = photo(seed=6)
    first = lim.edit("change the background to a beach", image=im)[0]
    assert any(e.id == "photo-subject" for e in first.plan.objects)
    second = lim.edit("add a bird", image=first.data)[0]
    after = np.asarray(second.image.convert("RGB"))
    assert (after[y0:y1, x0:x1] == np.asarray(im)[y0:y1, x0:x1]).all()
    bird = next(e for e in second.plan.objects if e.label == "bird")
    subject = next(e for e in second.plan.objects if e.id == "photo-subject")
    from planner.revise import _overlap
    assert _overlap(bird.box, subject.box) < 0.1 * (bird.box[2] - bird.box[0]) * (
        bird.box[3] - bird.box[1])


def test_an_edit_that_is_only_its_references(lim):
    made = lim.generate("两个苹果在桌子上", size="256x256")[0]
    refs = [plain_reference((220, 30, 30)), plain_reference((30, 30, 220))]
    for words in ("把这些产品放在桌子上", "둘 다 추가해", "put both on the table"):
        r = lim.edit(words, image=made.data, references=refs)
        assert sorted(e.reference for e in r.plan.objects if e.reference is not None) == [0, 1]


def test_references_named_in_an_edit_reach_the_plan_with_any_reviser():
    """A planner with its own reviser (the LLM planner) may not read reference words; the
    front door still binds what the instruction names."""
    class Reviser:
        name = "stand-in"

        def revise(self, plan, instruction):
            return plan            # reads nothing

    lim = Limner(planner="llm")
    lim._planner = Reviser()
    made = Limner().generate("a lamp on a table", size="256x256")[0]
    r = lim.edit("add the backpack from reference 1", image=made.data,
                 references=[plain_reference((30, 30, 220))])
    bag = [e for e in r.plan.objects if e.reference == 0]
    assert len(bag) == 1 and bag[0].label == "backpack"


def test_cli_plan_reads_reference_words_without_the_images(capsys):
    import json as _json

    from limner.cli import main

    assert main(["plan", "把图1中的杯子放在图2的背景上", "--references", "2", "--json"]) == 0
    plan = _json.loads(capsys.readouterr().out)
    assert plan["canvas"]["background"]["reference"] == 1
    assert [(e["label"], e["reference"]) for e in plan["elements"]] == [("cup", 0)]


def test_session_turn_warns_what_was_not_drawn(tmp_path, capsys):
    from limner.cli import main

    d = str(tmp_path / "s")
    assert main(["edit", "--session-dir", d, "--new", "a cup", "--size", "128x128"]) == 0
    assert main(["edit", "--session-dir", d, "make it anime"]) == 0
    err = capsys.readouterr().err
    assert "warning" in err and "anime" in err


def test_a_reference_as_the_photos_new_backdrop(lim):
    im, (x0, y0, x1, y1) = photo(seed=7)
    green = Image.new("RGB", (64, 64), (20, 160, 60))
    for words in ("put it on the background from image 1", "放在图1的背景上"):
        r = lim.edit(words, image=im, references=[green])
        a = np.asarray(r.image.convert("RGB"))
        assert r.plan.canvas.background.reference == 0
        assert (a[y0:y1, x0:x1] == np.asarray(im)[y0:y1, x0:x1]).all()
        assert (a[:8, :8] == (20, 160, 60)).all()


def test_a_style_source_lends_its_texture(lim):
    stripes = Image.new("RGB", (64, 64), (120, 120, 120))
    d = ImageDraw.Draw(stripes)
    for x in range(0, 64, 4):
        d.line((x, 0, x, 63), fill=(30, 30, 30))
    flat = Image.new("RGB", (64, 64), (120, 120, 120))
    textured = lim.generate("a cup in the style of image 1", references=[stripes],
                            size="128x128").image
    plain = lim.generate("a cup in the style of image 1", references=[flat],
                         size="128x128").image
    def grain(im):
        a = np.asarray(im.convert("L"), dtype=float)[:24]      # the backdrop's top rows
        return np.abs(np.diff(a, axis=1)).mean()
    assert grain(textured) > grain(plain) + 3
