"""Hostile Plans into the draft renderer and the encoder (issue 16): any valid Plan gives an
image or a clear RenderError; text is never drawn illegibly small or dropped silently."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from planner.schema import (MAX_ELEMENTS, SCENES, Background, Canvas, ObjectElement, Plan,
                            TextElement)
from render.base import RenderError, get_renderer
from render.encode import encode_image
from render.text import legible_floor

RENDERER = get_renderer("draft")
LABELS = ["apple", "cup", "cat", "tree", "sun", "zorblax", "palm tree", "🍕", "x" * 40]
TEXTS = ["HI", "Sale 特价 セール 세일 تخفيض", "€$ 100%", "a b c " * 20, "السلام عليكم",
         "안녕하세요", "\u200f!?", "Ω≈ç√∫", "line\nbreak", "🍕 pizza"]
COLORS = [None, "red", "#123456", "not-a-colour", "transparent", "#fff"]


@st.composite
def boxes(draw):
    x0 = draw(st.floats(0, 0.95))
    y0 = draw(st.floats(0, 0.95))
    return (x0, y0, draw(st.floats(x0 + 0.01, 1.0)), draw(st.floats(y0 + 0.01, 1.0)))


@st.composite
def plans(draw):
    """Random valid Plans: small canvases (every size rule kept), any background kind,
    objects and texts with any label, colour, script and box."""
    w = draw(st.sampled_from([32, 48, 64, 96, 128]))
    h = draw(st.sampled_from([s for s in (32, 48, 64, 96, 128) if max(w, s) / min(w, s) <= 3]))
    kind = draw(st.sampled_from(["color", "gradient", "scene", "transparent"]))
    bg = Background(kind=kind, color=draw(st.sampled_from(COLORS)),
                    colors=("red", "blue") if kind == "gradient" else (),
                    scene=draw(st.sampled_from(SCENES)) if kind == "scene" else None)
    n = draw(st.integers(0, 6))
    elements = []
    for i in range(n):
        if draw(st.booleans()):
            elements.append(ObjectElement(id=f"o{i}", box=draw(boxes()), z=draw(st.integers(-3, 12)),
                                          label=draw(st.sampled_from(LABELS)),
                                          color=draw(st.sampled_from(COLORS))))
        else:
            elements.append(TextElement(
                id=f"t{i}", box=draw(boxes()), content=draw(st.sampled_from(TEXTS)),
                script=draw(st.sampled_from(["Latn", "Hans", "Arab", "Kore", "Zyyy"])),
                color=draw(st.sampled_from(COLORS)),
                role=draw(st.sampled_from(["title", "heading", "label", "body", "caption"]))))
    return Plan(seed=draw(st.integers(0, 2**31 - 1)), canvas=Canvas(width=w, height=h, background=bg),
                elements=tuple(elements))


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(plans(), st.sampled_from(["png", "webp", "jpeg"]))
def test_random_valid_plans_give_an_image_or_a_render_error(plan, fmt):
    from PIL import Image

    try:
        result = RENDERER.render([plan])
    except RenderError as e:
        assert str(e)                   # a clear message, never an empty one
        return
    image = result.images[0]
    assert image.size == plan.size
    if fmt == "jpeg" and plan.transparent:
        return
    data = encode_image(image, plan, seed=plan.seed, renderer="draft",
                        digital_source_type="trainedAlgorithmicMedia", fmt=fmt)
    assert Image.open(io.BytesIO(data)).size == plan.size


def test_long_text_in_a_tiny_box_is_refused_naming_the_element():
    plan = Plan(canvas=Canvas(width=1024, height=1024), elements=(
        TextElement(id="quote", box=(0.1, 0.1, 0.9, 0.12), content="lorem ipsum " * 50),))
    with pytest.raises(RenderError, match="'quote'.*below the legible 8 px"):
        RENDERER.render([plan])


def test_a_hundred_word_quote_is_planned_and_drawn_legibly():
    from planner.rules import RulesPlanner

    quote = " ".join(["lorem", "ipsum", "dolor", "sit", "amet"] * 20)
    plan = RulesPlanner().plan(f'a poster that says "{quote}" above three red apples')
    text = plan.texts[0]
    assert text.content == quote
    # the box grew into a paragraph: tall enough for legible lines (was 0.022 of the height)
    assert text.box[3] - text.box[1] > 0.15
    image = RENDERER.render([plan]).images[0]
    assert image.size == plan.size
    assert legible_floor(*plan.size) == 8


def test_plans_at_the_caps_render():
    el = ObjectElement(id="a", box=(0, 0, 0.05, 0.05), label="apple")
    plan = Plan(canvas=Canvas(width=128, height=128), elements=tuple(
        el.model_copy(update={"id": f"a{i}", "box": ((i % 20) / 20, (i // 20) / 10,
                                                      (i % 20) / 20 + 0.05, (i // 20) / 10 + 0.1)})
        for i in range(MAX_ELEMENTS)))
    assert RENDERER.render([plan]).images[0].size == (128, 128)


MIXED = "Sale 特价 セール 세일 تخفيض"


def test_mixed_scripts_are_shaped_per_run_with_a_font_each():
    from PIL import Image

    from render.fonts import cmap
    from render.text import MixedFont, draw_text_element, shaping_for

    sh = shaping_for(MIXED, "Latn")
    assert len(sh.chain) >= 2
    font = MixedFont(sh.chain, 40)
    runs = font.runs(MIXED)
    # every character is drawn by a face that has it; the Arabic word is one RTL run
    for run, f, direction, _lang in runs:
        face = sh.chain[font.fonts.index(f)]
        assert all(ch.isspace() or ord(ch) in cmap(face) for ch in run)
    arabic = [r for r in runs if "تخفيض" in r[0]]
    assert len(arabic) == 1 and arabic[0][2] == "rtl"
    assert font.getlength(MIXED) == pytest.approx(
        sum(f.getlength(r, direction=d, language=lang) for r, f, d, lang in runs))
    img = Image.new("RGB", (800, 200), "white")
    el = TextElement(id="t", box=(0.02, 0.1, 0.98, 0.9), content=MIXED, color="#000000")
    draw_text_element(img, el)
    assert img.convert("L").getextrema()[0] < 80          # ink was drawn


def test_a_missing_font_for_one_run_names_that_scripts_package(monkeypatch):
    import render.fonts as fonts
    from render.text import shaping_for

    real = fonts._candidates

    def no_arabic(script, weight):
        return iter(()) if script == "Arab" else real(script, weight)

    monkeypatch.setattr(fonts, "_candidates", no_arabic)
    with pytest.raises(RenderError, match=r"'تخفيض' \(script Arab\).*fonts-noto-core"):
        shaping_for(MIXED, "Latn")
