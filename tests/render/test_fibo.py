"""Bria FIBO: Plan → FIBO JSON prompt → parsed back gives the same elements, counts, colours,
texts and grid cells (FIBO takes positions as words, not boxes); the tiny real-class
BriaFiboPipeline receives exactly that prompt in every text mode; `plan --explain` prints it.
Every path's dtype and pixels are covered by tests/render/test_family_contract.py."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pipeline_spies import masked_photo, spy_pipeline_calls

from planner.rules import RulesPlanner
from planner.schema import (Background, Canvas, ObjectElement, Plan, ShapeElement, Style,
                            TextElement)
from render.families.fibo_prompt import (CELLS, EMPTY_AREA, cell_of, plan_prompt,
                                         plan_prompt_dict, read_prompt, size_of)

_COLORS = st.one_of(st.none(), st.sampled_from(["red", "navy", "#3366ff", "gold", "#0a0"]))
_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)


def _hex(value):
    from render.color import parse_color, to_hex

    return to_hex(parse_color(value)).lower() if value else None


@st.composite
def boxes(draw):
    x0 = draw(st.floats(0, 0.98))
    y0 = draw(st.floats(0, 0.98))
    return (x0, y0, draw(st.floats(x0 + 0.001, 1.0)), draw(st.floats(y0 + 0.001, 1.0)))


@st.composite
def plans(draw):
    els = []
    labels = draw(st.lists(_WORD, min_size=1, max_size=3))   # repeated labels: counts
    for i in range(draw(st.integers(0, 7))):
        box, z, color = draw(boxes()), draw(st.integers(0, 20)), draw(_COLORS)
        kind = draw(st.sampled_from(["object", "object", "text", "shape"]))
        if kind == "object":
            els.append(ObjectElement(id=f"o{i}", box=box, z=z, label=draw(st.sampled_from(
                labels)), color=color, description=draw(st.sampled_from(["", "shiny"]))))
        elif kind == "shape":
            els.append(ShapeElement(id=f"s{i}", box=box, z=z, shape="bar", color=color))
        else:
            content = draw(st.text(min_size=1, max_size=12).filter(lambda s: s.strip()))
            els.append(TextElement(id=f"t{i}", box=box, z=z, content=content, color=color))
    bg = draw(st.sampled_from([Background(kind="color", color="white"),
                               Background(kind="transparent"),
                               Background(kind="gradient", colors=("red", "#0000ff")),
                               Background(kind="scene", scene="sky")]))
    return Plan(canvas=Canvas(width=512, height=384, background=bg), elements=tuple(els))


@settings(max_examples=60, deadline=None)
@given(plans(), st.sampled_from(["native", "exact"]))
def test_round_trip_keeps_elements_counts_colours_texts_and_cells(plan, mode):
    parsed = read_prompt(plan_prompt(plan, mode))
    by_z = sorted(plan.elements, key=lambda e: e.z)
    objects = [e for e in by_z if e.kind != "text" or mode == "exact"]
    texts = [e for e in by_z if e.kind == "text"] if mode != "exact" else []
    assert [p.kind for p in parsed] == ["object"] * len(objects) + ["text"] * len(texts)
    for p, e in zip(parsed, objects + texts):
        assert p.cell == cell_of(e.box) and p.size == size_of(e.box)
        if e.kind == "text" and mode == "exact":
            assert p.head == EMPTY_AREA and p.color is None
            continue
        assert p.color == _hex(e.color)
        if e.kind == "text":
            assert p.head == e.content                      # verbatim, any script
        else:
            assert p.head.endswith(e.label if e.kind == "object" else "chart bar")
    # counts per label and colour: one entry per instance, each saying how many there are
    from render.prompting import number_word

    data = json.loads(plan_prompt(plan, mode))
    for entry, e in zip(data.get("objects", ()), objects):
        if e.kind == "object":
            n = sum(o.kind == "object" and o.label == e.label and _hex(o.color) == _hex(e.color)
                    for o in objects)
            assert (f"one of exactly {number_word(n)} " in entry["description"]) == (n > 1)


def test_cells_follow_the_box_centre_on_a_three_by_three_grid():
    assert cell_of((0.0, 0.0, 0.2, 0.2)) == "top-left"
    assert cell_of((0.4, 0.4, 0.6, 0.6)) == "center"
    assert cell_of((0.7, 0.8, 1.0, 1.0)) == "bottom-right"
    assert cell_of((0.0, 0.4, 1.0, 0.6)) == "center"     # a band across the middle
    assert len(set(CELLS)) == 9
    assert size_of((0, 0, 0.1, 0.1)) == "tiny" and size_of((0, 0, 1, 1)) == "large within frame"


def test_twins_in_one_cell_are_told_apart_by_their_relationship():
    apples = (ObjectElement(id="a", label="apple", color="red", box=(0.0, 0.0, 0.12, 0.12)),
              ObjectElement(id="b", label="apple", color="red", box=(0.18, 0.0, 0.3, 0.12)),
              ObjectElement(id="c", label="apple", color="red", box=(0.45, 0.75, 0.6, 0.95)),
              ObjectElement(id="d", label="cup", color="blue", box=(0.4, 0.4, 0.6, 0.6)))
    objects = plan_prompt_dict(Plan(elements=apples))["objects"]
    assert [o["location"] for o in objects] == ["top-left", "top-left", "bottom-center",
                                                "center"]
    assert objects[0]["relationship"].startswith("left of another red apple in the same area")
    assert objects[1]["relationship"].startswith("right of another red apple in the same area")
    assert "another" not in objects[2]["relationship"]        # alone in its cell
    assert objects[2]["relationship"] == "below the blue cup"


def test_a_real_plan_in_fibo_schema():
    plan = RulesPlanner().plan('a watercolor poster that says "OPEN 24/7" above three red '
                               'apples', size=(1024, 768))
    data = plan_prompt_dict(plan)
    assert list(data)[:2] == ["short_description", "objects"]    # Bria's field order
    apples = data["objects"]
    assert len(apples) == 3 and all("one of exactly three red apples" in a["description"]
                                    for a in apples)
    assert all(a["shape_and_color"] == "dominant color red (#ff0000)" for a in apples)
    (title,) = data["text_render"]
    assert title["text"] == "OPEN 24/7" and title["location"].startswith("top")
    assert all(not a["location"].startswith("top") for a in apples)
    assert data["style_medium"] == "watercolor" and "three red apples" in data[
        "short_description"]
    exact = plan_prompt_dict(plan, "exact")
    assert "text_render" not in exact and "OPEN" not in json.dumps(exact)
    assert [o["location"] for o in exact["objects"] if o["description"].startswith(
        EMPTY_AREA)] == [title["location"]]


def test_a_malformed_prompt_is_named():
    with pytest.raises(ValueError, match="short_description"):
        read_prompt('{"objects": []}')
    with pytest.raises(ValueError, match=r"objects\[0\].*location"):
        read_prompt('{"short_description": "x", "objects": [{"description": "a cup", '
                    '"location": "upstairs", "relative_size": "small"}]}')
    with pytest.raises(ValueError, match="not JSON"):
        read_prompt("a red apple")
    with pytest.raises(ValueError, match="text must be one of"):
        plan_prompt(Plan(), "loud")


def sign_plan():
    return Plan(seed=3, canvas=Canvas(width=32, height=32, background=Background(
        kind="color", color="white")), elements=(
        TextElement(id="t1", content="HI", color="black", box=(0.15, 0.05, 0.85, 0.45)),
        ObjectElement(id="apple-1", label="apple", color="red", box=(0.3, 0.55, 0.7, 0.95))))


def test_the_pipeline_receives_the_fibo_prompt_in_every_text_mode(tiny_dir, monkeypatch):
    """The tiny BriaFiboPipeline (bf16, CPU) is called with the Plan's FIBO JSON itself."""
    from diffusers import BriaFiboPipeline

    from limner.api import Limner

    from model.shared_lm import find_language_model

    lim = Limner(renderer=tiny_dir("fibo"), device="cpu", dtype="bfloat16", steps=1,
                 native=(32, 32))
    assert lim.renderer.family.key == "fibo"
    # one model load: the SmolLM3 encoder keeps its language head, the planner can use it
    shared = find_language_model(lim.renderer.pipe)
    assert shared is not None and shared.module is lim.renderer.pipe.text_encoder
    seen = []
    original = BriaFiboPipeline.__call__

    negatives = []

    def spy(self, *args, **kwargs):
        seen.append(kwargs["prompt"])
        negatives.append(kwargs.get("negative_prompt"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(BriaFiboPipeline, "__call__", spy)
    plan = sign_plan()
    reports = {}
    for mode in ("native", "exact", "auto"):
        out = lim.generate(plan=plan, text=mode)[0]
        assert out.image.size == (32, 32)
        assert seen[-1] == [plan_prompt(plan, "exact" if mode == "exact" else "native")]
        reports[mode] = out.texts[0]
    parsed = read_prompt(seen[0][0])
    assert [(p.kind, p.head, p.cell) for p in parsed] == [("object", "red apple", "bottom-center"),
                                                           ("text", "HI", "top-center")]
    assert "HI" not in seen[1][0]
    assert reports["native"]["drawn_by"] == "model" and reports["exact"]["drawn_by"] == (
        "text engine")
    # auto: a random-init model draws no legible "HI": OCR reads it wrong, the engine draws it
    assert reports["auto"]["drawn_by"] == "text engine" and reports["auto"]["ocr"] != "HI"
    # Bria's negative prompt: empty, except that a photograph is steered off illustration
    assert negatives[0] == [""]
    photo = plan.model_copy(update={"style": Style(text="photo", preset="photo")})
    lim.generate(plan=photo, text="native")
    assert json.loads(seen[-1][0])["style_medium"] == "photograph"
    assert json.loads(negatives[-1][0]) == {"style_medium": "digital illustration",
                                            "artistic_style": "non-realistic"}


def test_cli_explains_the_fibo_prompt(capsys):
    from limner.cli import main

    assert main(["plan", 'a sign that says "HI" above a red apple', "--explain",
                 "--renderer", "fibo", "--text", "native"]) == 0
    said = capsys.readouterr().out.split("--renderer fibo reads:")[1]
    parsed = read_prompt(said.strip())
    assert [p.kind for p in parsed] == ["object", "text"] and parsed[1].head == "HI"


# --- Fibo-Edit (BriaFiboEditPipeline): an edit-only family ----------------------------------

@pytest.fixture(scope="module")
def fibo_edit(tiny_dir, tmp_path_factory):
    from limner.api import Limner

    lim = Limner(renderer=tiny_dir("fibo-edit"), device="cpu", dtype="bfloat16", steps=1,
                 native=(32, 32))
    first = tmp_path_factory.mktemp("fe") / "first.png"
    Limner().generate('a sign that says "HI" above a red apple', size="32x32",
                      seed=1)[0].save(str(first))                 # a limner file, by the draft
    return lim, first


@pytest.fixture
def edit_calls(monkeypatch):
    """The keyword arguments of every BriaFiboEditPipeline call."""
    return spy_pipeline_calls(monkeypatch, "BriaFiboEditPipeline")


def test_fibo_edit_whole_image_sends_the_instruction_and_images(fibo_edit, edit_calls):
    from PIL import Image

    lim, first = fibo_edit
    family = lim.renderer.family
    assert family.key == "fibo-edit" and not family.draws_from_text
    assert family.variant_of(None, "/models/Fibo-Edit-1.5-turbo") == "fibo-edit-turbo"
    assert family.variant_of(None, "/models/Fibo-Edit-1.5-base") == "fibo-edit"
    ref = Image.new("RGB", (24, 40), (250, 200, 0))
    out = lim.edit("make it watercolor", image=str(first), references=[ref], seed=2)
    ((_, kw),) = edit_calls
    assert kw["prompt"] == ['{"edit_instruction":"make it watercolor"}']
    edited, reference = kw["image"]                  # the edited image first, then the refs
    assert edited.size == (32, 32) and reference.getpixel((0, 0)) == (250, 200, 0)
    assert kw.get("mask") is None and out[0].image.size == (32, 32)


def test_fibo_edit_region_edit_sends_the_plan_json_and_keeps_pixels(fibo_edit, edit_calls,
                                                                     tmp_path):
    import numpy as np

    from render.families.fibo_edit import MASK_INSTRUCTION

    lim, _ = fibo_edit
    photo, mask, pixels, keep = masked_photo(tmp_path)
    out = lim.edit("add a yellow star", image=str(photo), mask=str(mask))
    got = np.asarray(out[0].image.convert("RGB"))
    assert (got[keep] == pixels[keep]).all()
    _, kw = edit_calls[-1]
    assert kw["mask"].size == kw["image"].size and kw["mask"].mode == "L"
    (prompt,) = kw["prompt"]
    data = json.loads(prompt)
    assert data["edit_instruction"] == MASK_INSTRUCTION
    assert [p.head for p in read_prompt(prompt)] == ["yellow star"]


def test_fibo_edit_refuses_generate_and_a_fourth_image(fibo_edit, edit_calls):
    from PIL import Image

    from render.base import RenderError, RenderOptions

    lim, first = fibo_edit
    with pytest.raises(RenderError, match="cannot draw one from a prompt alone"):
        lim.generate("a red apple", size="32x32")
    refs = [Image.new("RGB", (32, 32), c) for c in ("red", "green", "blue")]
    with pytest.raises(RenderError, match="at most 3 images"):
        lim.renderer.instruction_edit(Image.open(first), "put them on a table",
                                      RenderOptions(references=refs, extra={"seed": 0}))
    assert not edit_calls
