"""The Plan contract: JSON round trips and clear rejections of invalid boxes and sizes."""

import json
import math

import pytest
from pydantic import ValidationError

from planner.rules import RulesPlanner
from planner.schema import (MAX_AREA, Background, Canvas, ObjectElement, Plan, SizeError,
                            TextElement, box_to_pixels, check_size, parse_size,
                            plan_json_schema)

PROMPTS = [
    'A coffee shop poster with the title "MORNING BREW" above two mugs',
    "一张海报，写着“欢迎光临”，旁边有一只猫",
    'A 3:1 email header with the text "Weekly Digest" on the left and an envelope on the right',
    "A pair of black headphones on a transparent background",
]


@pytest.mark.parametrize("prompt", PROMPTS)
def test_plan_json_round_trip(prompt):
    plan = RulesPlanner().plan(prompt, seed=3)
    text = plan.to_json()
    again = Plan.from_json(text)
    assert again == plan
    assert again.to_json() == text
    assert again.canonical_json() == plan.canonical_json()


def test_hand_written_json_round_trip():
    doc = {
        "schema_version": "1.0", "prompt": "two cats", "seed": 7, "quality": "high",
        "style": {"text": "flat", "preset": "flat"},
        "canvas": {"width": 1536, "height": 864,
                   "background": {"kind": "scene", "color": "#9fd3f5", "colors": [],
                                  "direction": "vertical", "scene": "sky",
                                  "description": ""}},
        "elements": [
            {"id": "cat-1", "box": [0.1, 0.2, 0.4, 0.8], "z": 1, "kind": "object",
             "label": "cat", "color": "black", "description": "", "subject_id": "cat-1",
             "reference": None},
            {"id": "text-1", "box": [0.5, 0.1, 0.9, 0.3], "z": 10, "kind": "text",
             "content": "Hi, Sam!", "script": "Latn", "color": "#ffffff", "font": None,
             "weight": "bold", "align": "center", "role": "title"},
        ],
        "negative_prompt": "", "planner": "rules", "reasoning": "",
    }
    plan = Plan.from_json(json.dumps(doc))
    dumped = json.loads(plan.to_json())
    _assert_contains(dumped, doc)    # fields added to the schema later may appear with defaults
    assert Plan.from_json(plan.to_json()) == plan


def _assert_contains(big, small, path="plan"):
    if isinstance(small, dict):
        for k, v in small.items():
            assert k in big, f"{path}.{k} missing"
            _assert_contains(big[k], v, f"{path}.{k}")
    elif isinstance(small, list):
        assert len(big) == len(small), path
        for i, (a, b) in enumerate(zip(big, small)):
            _assert_contains(a, b, f"{path}[{i}]")
    else:
        assert big == small, f"{path}: {big!r} != {small!r}"


@pytest.mark.parametrize("box, words", [
    ((0.5, 0.1, 0.4, 0.3), "x0 < x1"),
    ((0.1, 0.5, 0.4, 0.5), "y0 < y1"),
    ((-0.1, 0.1, 0.4, 0.3), "outside [0, 1]"),
    ((0.1, 0.1, 1.2, 0.3), "outside [0, 1]"),
    ((0.1, math.nan, 0.4, 0.3), "outside [0, 1]"),
])
def test_invalid_boxes_rejected(box, words):
    with pytest.raises(ValidationError) as e:
        ObjectElement(id="a", box=box, label="cat")
    assert words in str(e.value) and "box" in str(e.value)


def test_duplicate_ids_and_empty_content_rejected():
    el = ObjectElement(id="a", box=(0, 0, 1, 1), label="cat")
    with pytest.raises(ValidationError, match="appears twice"):
        Plan(elements=(el, el))
    with pytest.raises(ValidationError, match="must not be empty"):
        TextElement(id="t", box=(0, 0, 1, 1), content="  ")
    with pytest.raises(ValidationError, match="needs a scene name"):
        Background(kind="scene")


@pytest.mark.parametrize("w, h, words", [
    (1000, 1000, "not divisible by 16"),
    (4000, 1008, "over the maximum side"),
    (2048, 512, "outside 1:3..3:1"),
    (3840, 3840, "over the maximum"),
    (0, 512, "too small"),
])
def test_invalid_sizes_rejected(w, h, words):
    with pytest.raises(SizeError, match=words):
        check_size(w, h)
    with pytest.raises(ValidationError, match=words):
        Canvas(width=w, height=h)


def test_parse_size():
    assert parse_size("1536x864") == (1536, 864)
    assert parse_size("auto") is None and parse_size(None) is None
    with pytest.raises(SizeError, match="not WxH"):
        parse_size("big")
    assert check_size(3840, 2160) == (3840, 2160) and 3840 * 2160 == MAX_AREA


def test_box_to_pixels_covers_at_least_one_cell():
    assert box_to_pixels((0.0, 0.0, 1.0, 1.0), 64, 32) == (0, 0, 64, 32)
    assert box_to_pixels((0.5, 0.5, 0.5001, 0.5001), 10, 10) == (5, 5, 6, 6)


def test_json_schema_names_the_fields():
    schema = plan_json_schema()
    assert {"canvas", "elements", "prompt", "seed"} <= set(schema["properties"])
