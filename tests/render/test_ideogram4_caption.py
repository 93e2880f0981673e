"""Plan → Ideogram 4 caption → parsed back: same elements, kinds, texts, colours and boxes."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from planner.rules import RulesPlanner
from planner.schema import Background, Canvas, ObjectElement, Plan, TextElement
from render.families.ideogram4_caption import (GRID, from_bbox, plan_caption, read_caption,
                                               to_bbox)

_COLORS = st.one_of(st.none(), st.sampled_from(["red", "navy", "#3366ff", "gold", "#0a0"]))
_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)


@st.composite
def boxes(draw):
    x0 = draw(st.floats(0, 0.98))
    y0 = draw(st.floats(0, 0.98))
    x1 = draw(st.floats(x0 + 0.001, 1.0))
    y1 = draw(st.floats(y0 + 0.001, 1.0))
    return (x0, y0, x1, y1)


@st.composite
def plans(draw):
    n = draw(st.integers(0, 6))
    els = []
    for i in range(n):
        box, z, color = draw(boxes()), draw(st.integers(0, 20)), draw(_COLORS)
        if draw(st.booleans()):
            label = " ".join(draw(st.lists(_WORD, min_size=1, max_size=3)))
            els.append(ObjectElement(id=f"o{i}", box=box, z=z, label=label, color=color,
                                     description=draw(st.sampled_from(["", "shiny"]))))
        else:
            content = draw(st.text(min_size=1, max_size=12).filter(lambda s: s.strip()))
            els.append(TextElement(id=f"t{i}", box=box, z=z, content=content, color=color))
    bg = draw(st.sampled_from([Background(kind="color", color="white"),
                               Background(kind="transparent"),
                               Background(kind="gradient", colors=("red", "#0000ff")),
                               Background(kind="scene", scene="sky")]))
    return Plan(canvas=Canvas(width=512, height=384, background=bg), elements=tuple(els))


@settings(max_examples=150, deadline=None)
@given(plans())
def test_round_trip_keeps_every_element_and_box(plan):
    parsed = read_caption(plan_caption(plan))
    expected = sorted(plan.elements, key=lambda e: e.z)
    assert [p.kind for p in parsed] == [e.kind for e in expected]
    for p, e in zip(parsed, expected):
        if e.kind == "text":
            assert p.head == e.content                       # verbatim, any script
        else:
            assert p.head.endswith(e.label)
        assert len(p.colors) == (1 if e.color else 0)
        # boxes come back to the grid step; a side shorter than a step keeps one step
        for a, b in zip(p.box, e.box):
            assert abs(a - b) <= 1.0 / GRID + 1e-9
        assert p.box[0] < p.box[2] and p.box[1] < p.box[3]


def test_bbox_is_y_first_on_the_thousand_grid():
    assert to_bbox((0.1, 0.2, 0.5, 0.9)) == [200, 100, 900, 500]
    assert from_bbox([200, 100, 900, 500]) == (0.1, 0.2, 0.5, 0.9)


def test_real_plan_caption_names_every_element_with_its_box():
    plan = RulesPlanner().plan('a poster that says "OPEN 24/7" above three red apples',
                               size=(1024, 768))
    cap = json.loads(plan_caption(plan))
    els = cap["compositional_deconstruction"]["elements"]
    assert [e["type"] for e in els].count("obj") == 3
    assert [e["text"] for e in els if e["type"] == "text"] == ["OPEN 24/7"]
    text_box = next(e["bbox"] for e in els if e["type"] == "text")
    apple_boxes = [e["bbox"] for e in els if e["type"] == "obj"]
    assert all(text_box[2] <= b[0] for b in apple_boxes)     # the title sits above: y first
    assert all("red apple" in e["desc"] for e in els if e["type"] == "obj")


def test_a_malformed_caption_is_named():
    import pytest

    with pytest.raises(ValueError, match="elements"):
        read_caption('{"high_level_description": "x"}')
    with pytest.raises(ValueError, match="type"):
        read_caption('{"compositional_deconstruction": {"elements": [{"type": "img"}]}}')
