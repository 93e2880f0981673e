"""The rules planner's understanding: quotes, scripts, counts, colours, nouns, relations,
aspect, background, style; and the dev and held-out figures of scripts/eval_plans.py."""

import os
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.rules import RulesPlanner, detect_script, find_quotes, singular, understand
from planner.schema import PlanError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "scripts"))
import eval_plans  # noqa: E402

DEV = os.path.join(os.path.dirname(REPO), "shared", "eval", "dev_prompts.jsonl")
HELDOUT = os.path.join(REPO, "tests", "planner", "heldout_prompts.jsonl")


def facts(prompt):
    s = understand(prompt)
    return {e.label: e for e in s.entities}, s


# --- quoted text ---------------------------------------------------------------------------------
@pytest.mark.parametrize("prompt, content", [
    ('a sign that says "Hello, World!"', "Hello, World!"),
    ("a sign that says “Hello, World!”", "Hello, World!"),
    ("a sign that says 'Don't Stop'", "Don't Stop"),
    ("a sign that says ‘Open 24/7’", "Open 24/7"),
    ("看板に「営業中」と書かれている", "営業中"),
    ("『こんにちは』と書かれたポスター", "こんにちは"),
    ("une affiche «Bonjour à tous»", "Bonjour à tous"),
    ("a banner reading „Guten Tag“", "Guten Tag"),
    ('a label "  spaced  " kept', "  spaced  "),
])
def test_quotes_copied_exactly(prompt, content):
    assert [q[2] for q in find_quotes(prompt)] == [content]
    assert [t.content for t in understand(prompt).texts] == [content]


def test_apostrophes_are_not_quotes_and_names_are_not_text():
    assert find_quotes("Sam's dog and the cat's bowl") == []
    s = understand('a cat named "Tom" next to a sign that says "MEOW"')
    assert [t.content for t in s.texts] == ["MEOW"]


@pytest.mark.parametrize("text, script", [
    ("SALE", "Latn"), ("欢迎光临", "Hans"), ("歡迎光臨", "Hant"), ("ありがとう", "Jpan"),
    ("東京タワー", "Jpan"), ("김치찌개", "Kore"), ("أهلا وسهلا", "Arab"), ("שלום", "Hebr"),
    ("Привет", "Cyrl"), ("Γειά", "Grek"), ("สวัสดี", "Thai"), ("नमस्ते", "Deva"),
    ("2027", "Zyyy"), ("$5", "Zyyy"),
])
def test_scripts(text, script):
    assert detect_script(text) == script


def test_han_only_text_follows_the_prompt_language():
    s = understand('A Japanese poster with the text "寿司"')
    assert s.texts[0].script == "Jpan"


def test_no_text_unless_quoted():
    for p in ["A poster of a cat", "A banner with a rocket", "A road sign"]:
        assert understand(p).texts == ()


# --- counts --------------------------------------------------------------------------------------
@pytest.mark.parametrize("prompt, label, count", [
    ("three cats", "cat", 3), ("twenty balloons", "balloon", 20), ("12 eggs", "egg", 12),
    ("eleven stars", "star", 11), ("a single rose", "rose", 1), ("a couple of dogs", "dog", 2),
    ("a pair of headphones", "headphones", 1), ("a pair of sunglasses", "sunglasses", 1),
    ("a pair of shoes", "shoe", 2), ("two pairs of socks", "sock", 4),
    ("a dozen donuts", "donut", 12), ("half a dozen eggs", "egg", 6), ("five butterflies", "butterfly", 5),
    ("two mice", "mouse", 2), ("three pieces of sushi", "piece of sushi", 3),
    ("two cups of coffee", "cup of coffee", 2), ("four slices of pizza", "slice of pizza", 4),
    ("a bowl of noodles", "bowl of noodles", 1), ("nine seagulls", "seagull", 9),
    ("三只猫", "cat", 3), ("两个碗", "bowl", 2), ("一杯咖啡", "cup of coffee", 1),
    ("五朵玫瑰", "rose", 5), ("猫が三匹いる", "cat", 3), ("りんごが二つ", "apple", 2),
    ("犬二匹", "dog", 2), ("고양이 세 마리", "cat", 3), ("사과 3개", "apple", 3),
    ("꽃 다섯 송이", "flower", 5), ("두 마리의 강아지", "dog", 2),
])
def test_counts(prompt, label, count):
    ents, _ = facts(prompt)
    assert label in ents, ents
    assert ents[label].count == count


# --- colours -------------------------------------------------------------------------------------
@pytest.mark.parametrize("prompt, label, color", [
    ("a red apple", "apple", "red"), ("a grey cat", "cat", "gray"),
    ("a teal bicycle", "bicycle", "teal"), ("a dark blue car", "car", "darkblue"),
    ("an orange cat", "cat", "orange"), ("a golden crown", "crown", "gold"),
    ("一只红色的鸟", "bird", "red"), ("白い猫", "cat", "white"), ("빨간 사과", "apple", "red"),
    ("파란 자동차 두 대", "car", "blue"), ("黑狗", "dog", "black"),
])
def test_colors(prompt, label, color):
    ents, _ = facts(prompt)
    assert ents[label].color == color


def test_orange_the_fruit_is_not_a_colour():
    ents, _ = facts("three oranges")
    assert ents["orange"].count == 3 and ents["orange"].color is None


def test_text_and_background_colours():
    s = understand('A road sign with the text "SLOW" in white letters on a blue background')
    assert s.texts[0].color == "white"
    assert s.background.kind == "color" and s.background.color == "blue"
    assert s.entities == ()


# --- nouns and image words -----------------------------------------------------------------------
@pytest.mark.parametrize("prompt, labels", [
    ("a dog wearing sunglasses", {"dog", "sunglasses"}),
    ("a penguin between two ice blocks", {"penguin", "ice block"}),
    ("a palm tree and a gift box", {"palm tree", "gift box"}),
    ("a coffee shop poster with a cat", {"cat"}),
    ("a YouTube thumbnail with a rocket", {"rocket"}),
    ("a white coffee mug product shot", {"coffee mug"}),
    ("a yellow star sticker", {"star"}),
    ("a settings screen mockup with a toggle", {"toggle"}),
    ("一张海报，旁边有一只猫", {"cat"}),
    ("고양이와 강아지", {"cat", "dog"}),
])
def test_objects_and_image_words(prompt, labels):
    ents, _ = facts(prompt)
    assert set(ents) == labels


def test_lemmas():
    assert singular("butterflies") == "butterfly"
    assert singular("headphones") == "headphones"
    assert singular("leaves") == "leaf"
    assert singular("capybaras") == "capybara"


# --- relations, pronouns, positions --------------------------------------------------------------
def rels(prompt):
    s = understand(prompt)
    names = {f"entity:{i}": e.label for i, e in enumerate(s.entities)}
    names.update({f"text:{i}": "text:" + t.content for i, t in enumerate(s.texts)})
    return {(names[r.subject], r.relation, names.get(r.target)) for r in s.relations}, s


@pytest.mark.parametrize("prompt, rel", [
    ("a cat to the left of a dog", ("cat", "left of", "dog")),
    ("a cat on the right of a dog", ("cat", "right of", "dog")),
    ("a bird above a house", ("bird", "above", "house")),
    ("a cup on top of a table", ("cup", "on", "table")),
    ("a dog sitting under a tree", ("dog", "under", "tree")),
    ("a frog beside a mushroom", ("frog", "beside", "mushroom")),
    ("a lamp next to a bed", ("lamp", "next to", "bed")),
    ("a moon with three stars around it", ("star", "around", "moon")),
    ("a mountain with four birds above it", ("bird", "above", "mountain")),
    ('a card that says "Hi" with two hearts below the text', ("heart", "below", "text:Hi")),
    ('the title "Menu" above a bowl', ("text:Menu", "above", "bowl")),
    ("a dog wearing a hat sitting under an umbrella", ("dog", "under", "umbrella")),
    ("猫在桌子上", ("cat", "on", "table")),         # 上 by a surface: standing on it
    ("桌子上有两个苹果", ("apple", "on", "table")),
    ("木の下に犬がいる", ("dog", "below", "tree")),
    ("나무 위에 새 다섯 마리", ("bird", "above", "tree")),
    ("새 세 마리가 고양이 위에 있다", ("bird", "above", "cat")),
])
def test_relations(prompt, rel):
    found, s = rels(prompt)
    assert rel in found, (found, s.reasoning)


def test_positions():
    s = understand('a cow on the left and a pig on the right, the word "FARM" at the bottom')
    pos = {e.label: e.position for e in s.entities}
    assert pos == {"cow": "left", "pig": "right"}
    assert s.texts[0].position == "bottom"
    assert understand("左边有一只猫").entities[0].position == "left"


# --- aspect, size, background, style -------------------------------------------------------------
@pytest.mark.parametrize("prompt, aspect", [
    ("a 16:9 image of a cat", (16, 9)), ("a 3:1 banner", (3, 1)),
    ("a YouTube thumbnail of a cat", (16, 9)), ("an email header", (3, 1)),
    ("a phone wallpaper with stars", (9, 16)), ("an Instagram story", (9, 16)),
    ("a square logo", (1, 1)), ("a wide shot of a city", (16, 9)),
    ("a vertical banner", (1, 3)), ("a landscape photo of hills", (3, 2)),
    ("a portrait of a dog", (2, 3)), ("a 1:3 vertical banner", (1, 3)),
    ("竖版海报", (9, 16)), ("横版海报", (16, 9)), ("a square poster", (1, 1)),
    ("a tall giraffe", None), ("a wide river", None),
])
def test_aspect_words(prompt, aspect):
    assert understand(prompt).aspect == aspect


@pytest.mark.parametrize("prompt, size", [
    ("a cat", (1024, 1024)), ("a 16:9 cat", (1536, 864)), ("a 9:16 cat", (864, 1536)),
    ("a 3:1 cat", (1536, 512)), ("a 1:3 cat", (512, 1536)), ("a 4K 16:9 wallpaper", (3840, 2160)),
    ("a 2K square cat", (2048, 2048)), ("a 4K cat", (2880, 2880)),
    ("a 1920x1080 cat", (1920, 1088)),
])
def test_canvas_sizes(prompt, size):
    assert RulesPlanner().plan(prompt).size == size


def test_explicit_size_wins_and_opaque_overrides():
    p = RulesPlanner()
    assert p.plan("a 16:9 cat", size=(1024, 1536)).size == (1024, 1536)
    assert p.plan("a mug on a transparent background").transparent
    assert p.plan("a mug", background="transparent").transparent
    assert not p.plan("a mug on a transparent background", background="opaque").transparent


@pytest.mark.parametrize("prompt", [
    "a logo with no background", "a mug, transparent background", "背景透明的苹果",
    "透過背景のりんご", "투명 배경의 사과", "a sticker cutout of a fox",
])
def test_transparent_requests(prompt):
    assert understand(prompt).background.kind == "transparent"


@pytest.mark.parametrize("prompt, scene", [
    ("five pumpkins on a porch", "porch"), ("a cow in a farmyard", "farm"),
    ("a crab on the beach", "beach"), ("a city at night", "night"),
    ("一只螃蟹在海滩上", "beach"), ("숲 속의 사슴", "forest"),
])
def test_scenes(prompt, scene):
    bg = understand(prompt).background
    assert bg.kind == "scene" and bg.scene == scene


@pytest.mark.parametrize("prompt, scene, labels", [
    ("Three red apples on a table", "table", {"apple"}),
    ("a cup of coffee on a wooden table", "table", {"cup of coffee"}),
    ("A laptop and a mug on a desk", "table", {"laptop", "mug"}),
    ("a yellow taxi on the road", "street", {"taxi"}),
    ("a boat on the lake", "water", {"boat"}),
    ("a black dog lying on the floor", "room", {"dog"}),
    ("a lighthouse under the stars", "night", {"lighthouse"}),
    ("a tent under the night sky", "night", {"tent"}),
    ("a lamp on a table at night", "night", {"lamp"}),
    ("On a table, three pears", "table", {"pear"}),
])
def test_place_phrases_set_the_scene(prompt, scene, labels):
    """An uncounted, uncoloured surface something sits on is where the picture is set."""
    s = understand(prompt)
    assert s.background.kind == "scene" and s.background.scene == scene
    assert {e.label for e in s.entities} == labels and not s.relations


@pytest.mark.parametrize("prompt, rel", [
    ("two lamps on a blue table", ("lamp", "on", "table")),         # coloured: described
    ("a vase on a small table", ("vase", "on", "table")),            # sized: described
    ("two cats on two tables", ("cat", "on", "table")),              # counted
    ("a cat sleeping under a table", ("cat", "under", "table")),     # not a surface use
    ("a table with a cup on the table", ("cup", "on", "table")),     # already an object
    ("a lighthouse under three stars", ("lighthouse", "under", "star")),
])
def test_described_or_counted_surfaces_stay_objects(prompt, rel):
    found, s = rels(prompt)
    assert rel in found, (found, s.reasoning)
    assert s.background is None or s.background.scene != "table"


@pytest.mark.parametrize("prompt, scene, labels", [
    ("A night sky poster with a moon and the title 'Dream'", "night", {"moon"}),
    ("a night-sky banner with two owls", "night", {"owl"}),
    ("a poster of a night sky with a moon", "night", {"moon"}),
    ("a beach photo of a dog", "beach", {"dog"}),
    ("a winter card with a snowman", "snow", {"snowman"}),
    ("a wolf howling at the moon at midnight", "night", {"wolf", "moon"}),
    ("a starry night over a cabin", "night", {"cabin"}),
])
def test_settings_named_by_image_words_and_times(prompt, scene, labels):
    s = understand(prompt)
    assert s.background.kind == "scene" and s.background.scene == scene
    assert {e.label for e in s.entities} == labels


def test_coffee_shop_poster_has_no_setting():
    assert understand("a coffee shop poster").background is None


def test_pronoun_before_and_refers_back():
    found, _ = rels('a snowy mountain with two skiers below it and the text "SKI" at the top')
    assert ("skier", "below", "mountain") in found


def test_styles():
    assert understand("a flat minimalist poster of a fox").style.preset == "flat"
    assert "watercolor" in understand("a watercolor painting of a boat").style.text
    assert understand("一只猫的水彩画").style.preset == "watercolor"


# --- the measured figures ------------------------------------------------------------------------
@pytest.mark.skipif(not os.path.exists(DEV), reason="shared/eval/dev_prompts.jsonl not present")
def test_dev_prompts_pass():
    summary = eval_plans.evaluate(eval_plans.load_rows(DEV), RulesPlanner())
    assert summary["pass_share"] >= 0.95, summary["failures"]


def test_heldout_prompts_pass():
    """Measured 384/385 (99.7%) with scripts/eval_plans.py (348/363 = 95.9% when each batch
    was first run; the scene/ground batch g01-g22 passed 8/22 before its fix); asserted with
    a small margin."""
    summary = eval_plans.evaluate(eval_plans.load_rows(HELDOUT), RulesPlanner())
    assert summary["prompts"] >= 30
    assert summary["pass_share"] >= 0.97, summary["failures"]


def test_scoring_rules():
    plan = RulesPlanner().plan('Two green apples left of a banana with the title "Fruit"')
    ok = eval_plans.score_plan(plan, {
        "texts": ["Fruit"], "objects": [{"name": "apple", "count": 2, "color": "green"}],
        "relations": [["apple", "left of", "banana"]]})
    assert ok["passed"], ok["failures"]
    bad = eval_plans.score_plan(plan, {"texts": [], "objects": [{"name": "apple", "count": 3}],
                                       "relations": [["banana", "left of", "apple"]],
                                       "aspect": "16:9", "background": "transparent"})
    kinds = {k for k, good, _ in bad["checks"] if not good}
    assert kinds == {"text_precision", "object", "relation", "aspect", "background"}
    assert eval_plans.color_matches("#00ff00", "lime") and eval_plans.color_matches(
        "darkgreen", "green") and not eval_plans.color_matches("red", "green")


_WORDS = ("a an the two three 5 12 cats dog red blue left of right above below on under "
          "between and with \" ' “ ” 「 」 poster banner 16:9 3:1 4K transparent background "
          "猫 三只 在 上面 左边 고양이 세 마리 위에 it them , . of pair couple single in around "
          "wearing holding next to beside top bottom at corner small").split()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=60), st.lists(st.sampled_from(_WORDS), max_size=20)
                 .map(" ".join)), st.integers(0, 50))
def test_any_prompt_gives_a_valid_plan(prompt, seed):
    """Whatever the words, the planner returns a valid Plan, or (for words that name nothing
    to draw, e.g. only emoji) a PlanError saying so, never a blank image."""
    if prompt.strip():
        try:
            plan = RulesPlanner().plan(prompt, seed=seed)
        except PlanError as e:
            assert "nothing to draw" in str(e)
            return
        assert plan.canvas.width % 16 == 0 and plan.canvas.height % 16 == 0
        for q in find_quotes(prompt):
            if q[2].strip():
                assert q[2] in [t.content for t in plan.texts] or "named" in prompt


def test_revise_delegates_to_planner_revise():
    planner = RulesPlanner()
    plan = planner.plan("a red cup next to a cat", seed=4)
    revised = planner.revise(plan, "make the cup blue")
    assert [(e.label, e.color) for e in revised.objects if e.label == "cup"] == [("cup", "blue")]
    assert planner.name == "rules"
