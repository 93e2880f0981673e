"""LLMPlanner.revise: rules first, the model's EditScript for what the rules cannot read.

Models: a scripted stand-in (replies from a list, every call recorded) and the tiny random-init
LlamaForCausalLM of model/tiny_llm.py saved and loaded back (constrained decoding from random
weights). The real GGUF is not loaded here.
"""

import json

import pytest

from model.llm import ReplyLimits
from planner.llm import MAX_RETRIES, LLMPlanner, revise_schema
from planner.revise import EditScript, revise
from planner.rules import RulesPlanner
from planner.schema import Plan, PlanError
from scripted_llm import Scripted

PROMPT = 'a poster titled "HELLO" with a red apple left of a cup'
UNREADABLE = 'zorp the cup "NEW"'      # no verb the rules know
TINY_LIMITS = ReplyLimits(thinking_chars=8, objects=1, name_chars=6, attributes=1,
                          attribute_chars=4, relations=1, style_chars=4)


def _ops(*ops: dict) -> str:
    return json.dumps({"ops": list(ops)})


@pytest.fixture(scope="module")
def plan() -> Plan:
    return RulesPlanner().plan(PROMPT)


def _ids(plan: Plan, kind: str) -> list[str]:
    return [e.id for e in plan.elements if e.kind == kind]


def _planner(model, **kw) -> LLMPlanner:
    kw.setdefault("cache", False)
    return LLMPlanner("smollm2-135m", llm=model, **kw)


@pytest.mark.parametrize("instruction", [
    "make the apple green", "remove the cup", 'make the title say "SPRING SALE"',
    "make it 16:9", "move the cup to the left and make the apple bigger"])
def test_instructions_the_rules_read_give_the_rules_result_without_the_model(plan, instruction):
    model = Scripted(_ops({"op": "remove", "target": {"ids": [plan.elements[0].id]}}))
    assert _planner(model).revise(plan, instruction) == revise(plan, instruction)
    assert model.calls == []


@pytest.mark.parametrize("instruction", ["remove the dog", "make the dog blue",
                                         "rotate the cup", "make it 99:1", "   "])
def test_the_rules_refusals_of_readable_instructions_stand(plan, instruction):
    model = Scripted(_ops({"op": "remove", "target": {"ids": [plan.elements[0].id]}}))
    with pytest.raises(PlanError) as rules:
        revise(plan, instruction)
    with pytest.raises(PlanError) as llm:
        _planner(model).revise(plan, instruction)
    assert str(llm.value) == str(rules.value) and model.calls == []


def test_a_background_the_rules_do_not_know_goes_to_the_model(plan):
    model = Scripted(_ops({"op": "background",
                           "background": {"kind": "scene", "scene": "space", "color": None}}))
    out = _planner(model).revise(plan, "change the background to zorpland")
    assert out.canvas.background.scene == "space" and len(model.calls) == 1
    assert out.elements == plan.elements


def test_an_unreadable_instruction_goes_to_the_model_and_its_ops_are_applied(plan):
    with pytest.raises(PlanError):
        revise(plan, UNREADABLE)
    cup, text = _ids(plan, "object")[1], _ids(plan, "text")[0]
    model = Scripted(_ops({"op": "recolor", "target": {"ids": [cup]}, "color": "blue"},
                          {"op": "set_text", "target": {"ids": [text]}, "content": "NEW"}))
    out = _planner(model).revise(plan, UNREADABLE)
    by_id = {e.id: e for e in out.elements}
    assert by_id[cup].color == "blue" and by_id[text].content == "NEW"
    # Everything else keeps its place and look.
    for e in plan.elements:
        if e.id not in (cup, text):
            assert by_id[e.id] == e
        assert by_id[e.id].box == e.box
    assert len(model.calls) == 1
    user = model.calls[0]["messages"][-1]["content"]
    assert UNREADABLE in user and all(e.id in user for e in plan.elements)
    assert "'HELLO'" in user and "at middle left" in user


def test_the_schema_names_only_the_plans_ids_and_the_instructions_quotes(plan):
    schema = revise_schema(plan, ["NEW"], ReplyLimits())
    ops = {o["properties"]["op"]["const"]: o for o in schema["properties"]["ops"]["items"]["anyOf"]}
    assert ops["set_text"]["properties"]["content"] == {"enum": ["NEW"]}
    ids = ops["remove"]["properties"]["target"]["properties"]["ids"]["items"]["enum"]
    assert ids == [e.id for e in plan.elements]
    assert "$ref" not in json.dumps(schema)
    # No quotes: no text operations; an empty Plan: no operation that needs a target.
    assert not {"set_text", "add_text"} & {
        o["properties"]["op"]["const"]
        for o in revise_schema(plan, [], ReplyLimits())["properties"]["ops"]["items"]["anyOf"]}
    empty = plan.model_copy(update={"elements": ()})
    left = {o["properties"]["op"]["const"]
            for o in revise_schema(empty, [], ReplyLimits())["properties"]["ops"]["items"]["anyOf"]}
    assert left == {"add", "background", "style", "canvas"}


def test_quoted_text_is_anchored_verbatim(plan):
    text = _ids(plan, "text")[0]
    altered = _ops({"op": "set_text", "target": {"ids": [text]}, "content": "new"})
    exact = _ops({"op": "set_text", "target": {"ids": [text]}, "content": "NEW"})
    model = Scripted(altered, exact)
    out = _planner(model).revise(plan, UNREADABLE)
    assert len(model.calls) == 2
    assert [e.content for e in out.elements if e.kind == "text"] == ["NEW"]


def test_unknown_ids_are_rejected_and_retried(plan):
    cup = _ids(plan, "object")[1]
    model = Scripted(_ops({"op": "remove", "target": {"ids": ["dog-1"]}}),
                     _ops({"op": "remove", "target": {"ids": [cup]}}))
    out = _planner(model).revise(plan, UNREADABLE)
    assert len(model.calls) == 2 and model.calls[1]["temperature"] > 0
    assert cup not in {e.id for e in out.elements}
    assert len(out.elements) == len(plan.elements) - 1


@pytest.mark.parametrize("reply", [
    '{"ops": [{"op": "remove", "target": {"ids": ["dog-1"]}}]', '{"ops": [{"op": "rec',
    _ops(), _ops({"op": "add_text", "content": "OLD"})])
def test_retries_are_bounded_and_the_error_carries_the_raw_text(plan, reply):
    model = Scripted(reply)
    with pytest.raises(PlanError) as info:
        _planner(model).revise(plan, UNREADABLE)
    assert len(model.calls) == MAX_RETRIES + 1
    assert info.value.raw == reply
    assert UNREADABLE in str(info.value) and "could not understand" in str(info.value)


def test_a_good_reply_is_cached_per_plan_and_instruction(plan, tmp_path):
    cup = _ids(plan, "object")[1]
    good = _ops({"op": "recolor", "target": {"ids": [cup]}, "color": "green"})
    first = _planner(Scripted(good), cache=True, cache_dir=str(tmp_path))
    out = first.revise(plan, UNREADABLE)
    again = Scripted(_ops())        # would fail: the answer must come from the cache
    assert _planner(again, cache=True, cache_dir=str(tmp_path)).revise(plan, UNREADABLE) == out
    assert again.calls == []
    other = Scripted(good)
    _planner(other, cache=True, cache_dir=str(tmp_path)).revise(plan, 'blorp the cup "NEW"')
    assert len(other.calls) == 1


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    from model.tiny_llm import save_tiny_llm

    return str(save_tiny_llm(tmp_path_factory.mktemp("tiny_llm_revise")))


def test_tiny_model_revisions_are_valid_plans_and_reproducible(tiny_dir, plan, tmp_path):
    outs = []
    for _ in range(2):
        planner = LLMPlanner(tiny_dir, reply=TINY_LIMITS, max_new_tokens=300, temperature=1.0,
                             cache=False)
        outs.append(planner.revise(plan, UNREADABLE))
        assert 1 <= planner.calls <= MAX_RETRIES + 1
    out = outs[0]
    assert out == outs[1] and out != plan
    assert Plan.model_validate_json(out.canonical_json()) == out
    assert {e.content for e in out.elements if e.kind == "text"} <= {"HELLO", "NEW"}
    # What the model decoded is an EditScript (the cache keeps it).
    cached = LLMPlanner(tiny_dir, reply=TINY_LIMITS, max_new_tokens=300, temperature=1.0,
                        cache_dir=str(tmp_path))
    assert cached.revise(plan, UNREADABLE) == out
    (entry,) = list(tmp_path.rglob("*.json"))
    assert EditScript.model_validate_json(json.loads(entry.read_text())["reply"]).ops
