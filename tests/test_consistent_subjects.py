"""The same subject across n images: one look on the draft (shared sprites by subject_id),
and for a model that takes reference images, the first image's subject crops reach it."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
from PIL import Image

from limner.api import Limner, reference_capacity
from planner.schema import box_to_pixels
from render.base import RenderOptions, RenderResult
from render.draft import DraftRenderer


def _crop(image, box, side=48) -> np.ndarray:
    px = box_to_pixels(box, *image.size)
    return np.asarray(image.convert("RGB").crop(px).resize((side, side), Image.BILINEAR),
                      dtype=float)


def test_draft_same_subject_same_look_across_images():
    r = Limner().generate("a red fox next to a tree on a white background", n=3,
                          size="256x256")
    fox = [next(e for e in g.plan.objects if e.label == "fox") for g in r.images]
    assert len({e.subject_id for e in fox}) == 1
    drawn = [json.loads(g.image.info["limner.drawn"]) for g in r.images]
    picked = {next((o.get("icon_set"), o.get("name"), o.get("glyph")) for o in d["objects"]
                   if o["id"] == fox[0].id) for d in drawn}
    assert len(picked) == 1                                   # one picture for the subject
    first = _crop(r.images[0].image, fox[0].box)
    same = [np.abs(_crop(g.image, e.box) - first).mean() for g, e in zip(r.images[1:], fox[1:])]
    tree = next(e for e in r.images[0].plan.objects if e.label == "tree")
    other = np.abs(_crop(r.images[0].image, tree.box) - first).mean()
    # Laid out at other sizes and places, the fox still looks the same; the tree does not.
    assert max(same) < 12 and other > 3 * max(same)


@dataclass
class _Caps:
    references: int = 0


class _Family:
    capabilities = _Caps(references=2)


class RecordingRenderer:
    """A stand-in for a family that takes references: it records what it was given and
    draws with the draft renderer."""

    name = "recording"
    digital_source_type = "trainedAlgorithmicMedia"
    family = _Family()

    def __init__(self):
        self.calls: list[dict] = []
        self._draft = DraftRenderer()

    def render(self, plans, options: RenderOptions | None = None) -> RenderResult:
        options = options or RenderOptions()
        self.calls.append(dict(options.extra.get("subject_references") or {}))
        return self._draft.render(plans, options)


def test_first_image_subjects_become_references_for_the_others():
    lim = Limner()
    rec = RecordingRenderer()
    lim._renderer = rec
    assert reference_capacity(rec) == 2 and reference_capacity(DraftRenderer()) == 0
    r = lim.generate("a cat next to a dog and a small ball", n=3, size="256x256")
    assert len(rec.calls) == 3 and rec.calls[0] == {}
    first = r.images[0]
    by_sid = {e.subject_id: e for e in first.plan.objects}
    for call in rec.calls[1:]:
        assert len(call) == 2                     # the model takes two: the largest two
        for sid, crop in call.items():
            px = box_to_pixels(by_sid[sid].box, *first.image.size)
            assert crop.size == (px[2] - px[0], px[3] - px[1])
            assert np.array_equal(np.asarray(crop), np.asarray(first.image.crop(px)))
    areas = sorted(((e.box[2] - e.box[0]) * (e.box[3] - e.box[1]), e.subject_id)
                   for e in first.plan.objects)
    assert set(rec.calls[1]) == {sid for _a, sid in areas[-2:]}


class _EditCaps:
    references = 3
    instruction_edit = True


class InstructionEditor(RecordingRenderer):
    """A stand-in for a model that edits by instruction: it records the call and inverts
    the picture (so its work is visible)."""

    capabilities = _EditCaps()

    def __init__(self):
        super().__init__()
        self.edits: list[tuple] = []

    def instruction_edit(self, image, instruction, options):
        from PIL import ImageOps

        self.edits.append((image.size, instruction, len(options.references)))
        return ImageOps.invert(image.convert("RGB"))


def test_what_drawing_cannot_do_goes_to_a_model_that_edits_by_instruction():
    rng = np.random.default_rng(0)
    photo = Image.fromarray((rng.random((96, 128, 3)) * 60 + 90).astype(np.uint8))
    lim = Limner()
    lim._renderer = ed = InstructionEditor()
    ref = Image.new("RGB", (32, 32), (0, 0, 255))
    r = lim.edit("make the car blue", image=photo, references=[ref])
    assert ed.edits == [((128, 96), "make the car blue", 1)]
    assert np.array_equal(np.asarray(r.image), 255 - np.asarray(photo))
    assert r.plan.prompt == "make the car blue"
    lim.edit("make it watercolor", image=photo)
    assert ed.edits[-1][1] == "make it watercolor"
    # What drawing can do stays a region edit over the photo's own pixels.
    r = lim.edit("add a red balloon", image=photo)
    assert len(ed.edits) == 2 and any(e.label == "balloon" for e in r.plan.objects)


def test_a_global_edit_of_a_plan_goes_to_the_model_whole_image():
    made = Limner().generate("a red apple next to a cup", size="128x128")[0]
    lim = Limner()
    lim._renderer = ed = InstructionEditor()
    r = lim.edit("make it watercolor", image=made.data)
    assert [e[1] for e in ed.edits] == ["make it watercolor"]
    assert np.array_equal(np.asarray(r.image), 255 - np.asarray(made.image.convert("RGB")))
    assert r.plan.style.text == "watercolor"          # the Plan follows
    r = lim.edit("make the cup green", image=made.data)   # a region edit: the Plan diff
    assert len(ed.edits) == 1 and any(e.color for e in r.plan.objects if e.label == "cup")
