"""planner/references.py: which reference image a prompt names, in every supported script."""

from __future__ import annotations

import pytest

from planner.references import bind, keep_clear, plan_with_references, read, says_where
from planner.rules import RulesPlanner
from planner.schema import PlanError

CASES = [
    # prompt, count, [(role, indices, label)]
    ("the robot from reference 1 next to a tree", 1, [("object", (0,), "robot")]),
    ("image 2's bottle on a beach", 2, [("object", (1,), "bottle")]),
    ("the second photo on a table", 2, [("object", (1,), "product")]),
    ("put these three products on a marble counter", 3, [("object", (0, 1, 2), "product")]),
    ("put both on a table", 2, [("object", (0, 1), "product")]),
    ("a cat on the background from image 2 in the style of image 1", 2,
     [("backdrop", (1,), ""), ("style", (0,), "")]),
    ("use image 1 as the background", 1, [("backdrop", (0,), "")]),
    ("图1中的杯子放在桌子上", 1, [("object", (0,), "cup")]),
    ("以图2为背景，图1中的杯子", 2, [("backdrop", (1,), ""), ("object", (0,), "cup")]),
    ("把这些产品放在桌子上", 3, [("object", (0, 1, 2), "product")]),
    ("画像1のカップを画像2の背景に", 2, [("object", (0,), "cup"), ("backdrop", (1,), "")]),
    ("両方をテーブルに置いて", 2, [("object", (0, 1), "product")]),
    ("이미지 1의 컵을 이미지 2 스타일로", 2, [("object", (0,), "cup"), ("style", (1,), "")]),
    ("둘 다 테이블 위에", 2, [("object", (0, 1), "product")]),
]


@pytest.mark.parametrize("prompt,count,want", CASES)
def test_mentions_in_every_script(prompt, count, want):
    got = [(m.role, m.indices, m.label) for m in read(prompt, count).mentions]
    assert got == want


def test_mentions_are_replaced_by_plain_nouns():
    r = read("the bottle from image 1 and the cup in image 2 on a beach", 2)
    assert r.cleaned == "the bottle and the cup on a beach"
    assert read("图1中的杯子放在桌子上", 1).cleaned == "杯子放在桌子上"


def test_no_references_no_reading():
    r = read("a picture of image 1", 0)
    assert r.mentions == () and r.cleaned == "a picture of image 1"


def test_a_reference_that_is_not_there_is_an_error():
    with pytest.raises(PlanError, match="reference 3.*2 reference images"):
        read("reference 3 on a table", 2)


def test_two_backgrounds_or_two_styles_are_an_error_not_a_lost_image():
    # found by the property test below: the second background replaced the first, and
    # image 1 was used nowhere
    prompt = ("the cup from image 3 and on the background from image 1 and on the "
              "background from image 2")
    with pytest.raises(PlanError, match="reference images 1 and 2 as the background"):
        read(prompt, 3)
    with pytest.raises(PlanError, match="as the style"):
        read("a cat in the style of image 1 and in the style of image 2", 2)
    same = read("on the background from image 1 and on the background from image 1", 1)
    assert {m.indices for m in same.mentions if m.role == "backdrop"} == {(0,)}


@pytest.mark.parametrize("n", [2, 4, 16])
def test_every_reference_is_used_once(n):
    plan = plan_with_references(RulesPlanner(), "these products on a table", n,
                                size=(512, 512))
    refs = sorted(e.reference for e in plan.objects if e.reference is not None)
    assert refs == list(range(n))
    assert plan.canvas.background.scene == "table"


def test_unnamed_references_still_become_objects_and_roles_hold():
    plan = plan_with_references(
        RulesPlanner(), "a cat in the style of image 3 on the background from image 2", 4,
        size=(256, 256))
    assert plan.style.reference == 2 and plan.canvas.background.reference == 1
    assert sorted(e.reference for e in plan.objects if e.reference is not None) == [0, 3]
    assert any(e.label == "cat" and e.reference is None for e in plan.objects)


def test_named_element_is_bound_not_duplicated():
    plan = plan_with_references(RulesPlanner(), "the robot from reference 1 next to a tree", 1,
                                size=(256, 256))
    robots = [e for e in plan.objects if e.label == "robot"]
    assert len(robots) == 1 and robots[0].reference == 0
    assert plan.prompt == "the robot from reference 1 next to a tree"


def test_keep_clear_moves_new_things_off_a_subject():
    plan = RulesPlanner().plan("a balloon", size=(256, 256))
    subject = (0.3, 0.2, 0.7, 0.9)
    moved = keep_clear(plan, subject, {e.id for e in plan.elements})
    from planner.revise import _overlap
    for e in moved.objects:
        w, h = e.box[2] - e.box[0], e.box[3] - e.box[1]
        assert _overlap(e.box, subject) <= 0.1 * w * h
    assert says_where("add a balloon in the top left") and not says_where("add a balloon")


def test_bind_keeps_a_plan_without_mentions():
    plan = RulesPlanner().plan("a cup", size=(256, 256))
    assert bind(plan, read("a cup", 0)) == plan


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

FRAGMENTS = ["the cup from image {i}", "reference {i}", "these products", "both", "a tree",
             "on the background from image {i}", "in the style of image {i}", "图{i}中的杯子",
             "画像{i}のカップ", "이미지 {i}의 컵", "on a table", "next to a lamp", "这些产品",
             "the {o} photo", "image {i}'s bottle"]
ORDINALS = ["first", "second", "third", "last"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 16), st.lists(st.tuples(st.sampled_from(FRAGMENTS),
                                              st.integers(1, 16),
                                              st.sampled_from(ORDINALS)),
                                    min_size=1, max_size=4))
def test_every_reference_is_used_exactly_once_or_named_out_of_range(count, parts):
    prompt = " and ".join(f.format(i=i, o=o) for f, i, o in parts)
    try:
        reading = read(prompt, count)
    except PlanError as e:
        assert "reference image" in str(e)
        return
    assert all(0 <= i < count for m in reading.mentions for i in m.indices)
    try:
        plan = plan_with_references(RulesPlanner(), prompt, count, size=(512, 512))
    except PlanError:
        return      # words the rules planner cannot draw at all; not about references
    used = [e.reference for e in plan.objects if e.reference is not None]
    used += [r for r in (plan.canvas.background.reference, plan.style.reference)
             if r is not None]
    assert sorted(used) == list(range(count))
