"""describe --question without a VLM: counts, colours and texts from the Plan and OCR, asked in
English, Chinese, Japanese and Korean; anything else names the VLM it needs."""

import pytest
from PIL import Image

from limner.api import Limner
from planner.questions import read_question
from planner.schema import Background, Canvas, ObjectElement, Plan, TextElement
from render.describe import _limner_part, answer_from_facts


def _plan() -> Plan:
    apples = tuple(ObjectElement(id=f"apple-{i}", label="apple", color="red",
                                 box=(0.05 + 0.3 * i, 0.6, 0.25 + 0.3 * i, 0.9))
                   for i in range(3))
    car = ObjectElement(id="car-1", label="car", color=None, box=(0.55, 0.05, 0.95, 0.45))
    sign = ObjectElement(id="sign-1", label="sign", color="white", box=(0.05, 0.05, 0.5, 0.45))
    text = TextElement(id="text-1", content="OPEN", box=(0.1, 0.15, 0.45, 0.35), color="black")
    return Plan(prompt="x", seed=1, elements=apples + (car, sign, text),
                canvas=Canvas(width=256, height=256,
                              background=Background(kind="color", color="#ffffff")))


@pytest.fixture(scope="module")
def limner_file():
    return Limner().render([_plan()])[0].data


@pytest.fixture(scope="module")
def part(limner_file):
    return _limner_part(limner_file)


ASK = [  # question, kind, value
    ("How many apples are there?", "count", 3),
    ("图里有几个苹果？", "count", 3),
    ("リンゴはいくつありますか？", "count", 3),
    ("사과가 몇 개 있어요?", "count", 3),
    ("What colour are the apples?", "color", ["red"]),
    ("苹果是什么颜色？", "color", ["red"]),
    ("リンゴは何色ですか？", "color", ["red"]),
    ("사과는 무슨 색이에요?", "color", ["red"]),
    ("What does the sign say?", "text", ["OPEN"]),
    ("牌子上写着什么？", "text", ["OPEN"]),
    ("看板には何と書いてありますか？", "text", ["OPEN"]),
    ("간판에 뭐라고 쓰여 있어요?", "text", ["OPEN"]),
    ("How many dogs are there?", "count", 0),
]


@pytest.mark.parametrize("question,kind,value", ASK)
def test_plan_answers_in_every_language(part, question, kind, value):
    im = Image.new("RGB", (256, 256), "white")
    facts = answer_from_facts(question, im, part, text=[])
    assert facts is not None and facts["kind"] == kind and facts["value"] == value
    if kind == "text":
        assert "OPEN" in facts["answer"]
    elif kind == "count" and value:
        assert str(value) in facts["answer"]


def test_a_colour_the_plan_leaves_open_is_read_from_the_pixels():
    part = {"elements": [{"id": "car-1", "kind": "object", "label": "car", "color": None,
                          "box": [0.5, 0.0, 1.0, 0.5]}]}
    im = Image.new("RGB", (100, 100), "white")
    im.paste((20, 160, 40), (50, 0, 100, 50))
    facts = answer_from_facts("what color is the car?", im, part, text=[])
    assert facts["source"] == "pixels" and facts["value"] == ["green"]


def test_end_to_end_describe_answers_and_refers_the_rest(limner_file, tmp_path):
    lim = Limner()
    d = lim.describe(limner_file, question="How many apples are there?")
    assert d["answer"] == "There are 3 apples." and d["answer_facts"]["source"] == "plan"
    d = lim.describe(limner_file, question="Is the car fast?")
    assert d["answer"] is None and "vision-language model" in d["note"]
    assert "--vlm" in d["note"] and "LIMNER_VLM" in d["note"]
    # a plain image (no Plan): the text comes from OCR; counts need a VLM
    path = tmp_path / "plain.png"
    Image.open(__import__("io").BytesIO(limner_file)).save(path)    # pixels only, no metadata
    d = lim.describe(str(path), question="What does it say?")
    assert d["answer_facts"]["source"] == "ocr" and "OPEN" in d["answer"]
    d = lim.describe(str(path), question="How many apples are there?")
    assert d["answer"] is None and "vision-language model" in d["note"]


def test_questions_no_rule_reads_are_none():
    assert read_question("why is the sky blue?") is None
    assert read_question("is the cat happy?") is None
