"""Hostile input to the planner and reviser: only PlanError, never a traceback, and a cost
bounded by the input (issue 16). Timings here are generous bounds that catch a quadratic
blow-up (seconds per character), not benchmarks: scripts/fuzz_planner.py measures precisely."""

import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from planner import lexicon as lx
from planner.layout import solve
from planner.revise import revise
from planner.rules import RulesPlanner
from planner.scene import Entity, Scene, TextItem
from planner.schema import (MAX_ELEMENTS, MAX_PROMPT_CHARS, MAX_TEXT_CHARS, Canvas,
                            ObjectElement, Plan, PlanError, TextElement)

PLANNER = RulesPlanner()

# The lexicon's own words: what the rules react to, so fuzzing reaches deep paths.
_WORDS = sorted({*lx.NUMBER_WORDS, *lx.CONTAINERS, *lx.DOC_WORDS, *lx.PICTURE_WORDS,
                 *lx.SCENE_WORDS, *lx.STYLE_WORDS, *lx.CJK_COLORS, *lx.KO_COLORS,
                 *lx.CJK_COUNTERS, "red", "blue", "apple", "cup", "cat", "left", "of", "above",
                 "below", "on", "the", "a", "and", "with", "says", "text", "texts", "title",
                 "remove", "make", "add", "move", "it", "them", "all", "three", "100", "1000",
                 "\"", "“", "”", "「", "」", "'", ",", ".", "🍕", "特价", "세일", "تخفيض"})
_PIECES = st.one_of(
    st.sampled_from(_WORDS),
    st.text(max_size=12),                                       # random Unicode
    st.text(max_size=30).map(lambda s: f'"{s}"'),               # a quote of anything
)
PROMPTS = st.lists(_PIECES, max_size=40).map(" ".join)

# Generous: a linear planner does ~0.1 ms per character here; 4 ms/char + 1 s start catches a
# quadratic one (400 repeats took 32 s before the caps) on a loaded 2-core machine.
def _bound(n_chars: int) -> float:
    return 1.0 + 0.004 * n_chars


@pytest.fixture(autouse=True, scope="module")
def _warm():
    """First uses load word tables (seconds on a loaded machine): not what the bounds time."""
    PLANNER.plan("three red apples left of a cup")
    revise(_base(), "add two red balls and make the cup blue")


def _plan_or_plan_error(prompt: str, seed: int = 0) -> Plan | None:
    t = time.perf_counter()
    try:
        plan = PLANNER.plan(prompt, seed=seed)
    except PlanError:
        plan = None
    assert time.perf_counter() - t < _bound(len(prompt))
    return plan


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(PROMPTS, st.integers(0, 2**31 - 1))
def test_planner_gives_a_plan_or_a_plan_error(prompt, seed):
    plan = _plan_or_plan_error(prompt, seed)
    if plan is not None:
        assert len(plan.elements) <= MAX_ELEMENTS
        assert len({el.id for el in plan.elements}) == len(plan.elements)


def _base() -> Plan:
    return Plan(canvas=Canvas(width=256, height=256), elements=(
        ObjectElement(id="apple-1", box=(0.1, 0.5, 0.3, 0.7), label="apple", color="red"),
        ObjectElement(id="cup-1", box=(0.6, 0.5, 0.8, 0.7), label="cup"),
        TextElement(id="text-1", box=(0.1, 0.05, 0.9, 0.2), content="HELLO")))


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(PROMPTS)
def test_reviser_gives_a_plan_or_a_plan_error(instruction):
    t = time.perf_counter()
    try:
        plan = revise(_base(), instruction)
    except PlanError:
        return
    finally:
        assert time.perf_counter() - t < _bound(len(instruction))
    assert len(plan.elements) <= MAX_ELEMENTS


def test_sign_with_the_texts_is_not_a_duplicate_id():
    plan = PLANNER.plan('A sign with the texts "ABC"')
    assert [t.content for t in plan.texts] == ["ABC"]
    ids = [el.id for el in plan.elements]
    assert len(set(ids)) == len(ids)


def test_an_object_labelled_text_and_a_text_get_distinct_ids():
    scene = Scene(entities=(Entity(label="text"),), texts=(TextItem(content="ABC"),))
    plan = solve(scene)
    assert sorted(el.id for el in plan.elements) == ["text-1", "text-2"]


@pytest.mark.parametrize("repeats", [200, 740])
def test_many_objects_are_refused_fast_naming_the_cap(repeats):
    prompt = "a red apple and a blue cup, " * repeats
    t = time.perf_counter()
    with pytest.raises(PlanError, match="MAX_ELEMENTS") as e:
        PLANNER.plan(prompt)
    assert e.value.param == "prompt"
    assert time.perf_counter() - t < _bound(len(prompt))


def test_planning_time_grows_linearly_not_quadratically():
    # 50 repeats (100 elements) vs 2x the text of plain words: no blow-up
    t = time.perf_counter()
    PLANNER.plan("a red apple and a blue cup, " * 50)
    at_cap = time.perf_counter() - t
    assert at_cap < _bound(28 * 50)


def test_prompt_and_instruction_length_caps_name_the_field():
    with pytest.raises(PlanError, match="MAX_PROMPT_CHARS") as e:
        PLANNER.plan("a" * (MAX_PROMPT_CHARS + 1))
    assert e.value.param == "prompt"
    with pytest.raises(PlanError, match="MAX_PROMPT_CHARS") as e:
        revise(_base(), "make it red " * 3000)
    assert e.value.param == "instruction"


def test_a_quote_over_the_text_cap_is_refused_naming_it():
    with pytest.raises(PlanError, match="MAX_TEXT_CHARS"):
        PLANNER.plan('a poster that says "' + "word " * 4000 + '"')


def test_plan_json_over_the_caps_is_a_validation_error_naming_them():
    el = ObjectElement(id="a", box=(0, 0, 1, 1), label="apple")
    with pytest.raises(ValueError, match="MAX_ELEMENTS"):
        Plan(elements=tuple(el.model_copy(update={"id": f"a{i}"})
                            for i in range(MAX_ELEMENTS + 1)))
    with pytest.raises(ValueError, match="MAX_TEXT_CHARS"):
        TextElement(id="t", box=(0, 0, 1, 1), content="x" * (MAX_TEXT_CHARS + 1))


def test_emoji_read_as_the_things_they_show_and_quotes_kept():
    plan = PLANNER.plan("🍕🍕🍕")
    assert [o.label for o in plan.objects] == ["pizza"] * 3 and plan.prompt == "🍕🍕🍕"
    plan = PLANNER.plan('a poster that says "🍕 PARTY" with the 🚀 above a 🌙')
    assert [t.content for t in plan.texts] == ["🍕 PARTY"]
    assert sorted(o.label for o in plan.objects) == ["crescent moon", "rocket"]


def test_a_prompt_naming_nothing_is_refused_not_blank():
    with pytest.raises(PlanError, match="nothing to draw") as e:
        PLANNER.plan("?!… ...")
    assert e.value.param == "prompt"


def test_row_covers_numpy_path_matches_the_plain_sum():
    import random

    from planner.revise import _overlap, _row_covers

    rng = random.Random(3)
    others = []
    for _ in range(60):
        x, y = rng.random() * 0.9, rng.random() * 0.3
        others.append((x, y, x + rng.random() * 0.2 + 0.01, y + rng.random() * 0.3 + 0.01))
    boxes = [(x / 20, 0.1, x / 20 + 0.15, 0.3) for x in range(18)]
    got = _row_covers(boxes, others)                     # 24+ boxes cross the row: numpy
    want = [sum(_overlap(b, o) for o in others) for b in boxes]
    assert got == pytest.approx(want, abs=1e-12)


def test_edits_that_fill_the_plan_stop_at_the_cap_quickly():
    text = "add a red ball, " * 300
    t = time.perf_counter()
    with pytest.raises(PlanError, match="MAX_ELEMENTS"):
        revise(_base(), text)
    assert time.perf_counter() - t < _bound(len(text)) + 20
