"""planner.revise: one test per edit verb, selectors, clauses, errors, invariants."""

import pytest
from hypothesis import given, settings, strategies as st

from planner.revise import (
    AddObject, EditScript, Recolor, Selector, apply_ops, edit_json_schema, parse, revise,
    size_for_aspect, split_clauses,
)
from planner.schema import Canvas, ObjectElement, Plan, PlanError, TextElement


def _plan() -> Plan:
    return Plan(seed=3, canvas=Canvas(width=256, height=256), elements=(
        ObjectElement(id="apple-1", box=(0.05, 0.5, 0.25, 0.7), label="apple", color="red",
                      subject_id="apple-1"),
        ObjectElement(id="apple-2", box=(0.4, 0.5, 0.6, 0.7), label="apple", color="green",
                      subject_id="apple-2"),
        ObjectElement(id="cat-1", box=(0.65, 0.4, 0.95, 0.8), label="cat", subject_id="cat-1"),
        ObjectElement(id="car-1", box=(0.1, 0.8, 0.4, 0.95), label="car", color="red",
                      subject_id="car-1"),
        TextElement(id="title-1", box=(0.1, 0.05, 0.9, 0.2), content="HELLO", role="title"),
    ))


def _untouched(before: Plan, after: Plan, touched: set[str]) -> None:
    """Everything the instruction did not name is exactly as it was."""
    for el in before.elements:
        if el.id not in touched:
            assert after.element(el.id) == el


def test_add_object_next_to_anchor_and_background_in_one_instruction():
    p0 = _plan()
    p1 = revise(p0, "change the background to rainy weather and add a red umbrella for the "
                    "character")
    assert p1.canvas.background.kind == "scene" and p1.canvas.background.scene == "rain"
    umbrella = [e for e in p1.objects if e.label == "umbrella"]
    assert len(umbrella) == 1 and umbrella[0].color == "red"
    cat = p1.element("cat-1")   # the largest object is "the character"
    ux = (umbrella[0].box[0] + umbrella[0].box[2]) / 2
    assert cat.box[0] <= ux <= cat.box[2] and umbrella[0].box[1] <= cat.box[1] + 0.05
    _untouched(p0, p1, set())


def test_add_counts_and_position():
    p1 = revise(_plan(), "add two small yellow stars at the top")
    stars = [e for e in p1.objects if e.label == "star"]
    assert len(stars) == 2 and all(s.color == "yellow" for s in stars)
    assert all((s.box[1] + s.box[3]) / 2 < 0.5 for s in stars)
    assert len({s.subject_id for s in stars}) == 2
    for el in p1.elements:
        assert 0 <= el.box[0] < el.box[2] <= 1 and 0 <= el.box[1] < el.box[3] <= 1


def test_remove_left_apple():
    p0 = _plan()
    p1 = revise(p0, "remove the left apple")
    assert [e.id for e in p1.objects if e.label == "apple"] == ["apple-2"]
    _untouched(p0, p1, {"apple-1"})


def test_replace_keeps_box_new_subject():
    p0 = _plan()
    p1 = revise(p0, "replace the cat with a dog")
    dog = [e for e in p1.objects if e.label == "dog"][0]
    assert dog.box == p0.element("cat-1").box and dog.subject_id != "cat-1"
    assert not [e for e in p1.objects if e.label == "cat"]
    _untouched(p0, p1, {"cat-1"})


def test_recolor_keeps_subject():
    p0 = _plan()
    p1 = revise(p0, "make the car blue")
    car = p1.element("car-1")
    assert car.color == "blue" and car.subject_id == "car-1" and car.box == p0.element("car-1").box
    _untouched(p0, p1, {"car-1"})


def test_move_to_the_right_keeps_height_and_size():
    p0 = revise(_plan(), "move the cat to the left")
    p1 = revise(p0, "move the cat to the right")
    c0, c1 = p0.element("cat-1").box, p1.element("cat-1").box
    assert (c1[0] + c1[2]) / 2 > 0.5 > (c0[0] + c0[2]) / 2
    assert c1[2] - c1[0] == pytest.approx(c0[2] - c0[0], abs=1e-3)
    assert c1[3] - c1[1] == pytest.approx(c0[3] - c0[1], abs=1e-3)
    _untouched(p0, p1, {"cat-1"})


def test_move_shift_and_relative():
    p0 = _plan()
    up = revise(p0, "move the cat up a bit").element("cat-1").box
    assert up[1] < p0.element("cat-1").box[1]
    p1 = revise(p0, "move the car above the title")
    car, title = p1.element("car-1").box, p1.element("title-1").box
    assert car[3] <= title[1] + 1e-6 or car[1] == 0.0


def test_resize_bigger_about_centre():
    p0 = _plan()
    p1 = revise(p0, "make the cat bigger")
    a, b = p0.element("cat-1").box, p1.element("cat-1").box
    assert (b[2] - b[0]) > (a[2] - a[0]) and (b[3] - b[1]) > (a[3] - a[1])
    _untouched(p0, p1, {"cat-1"})
    smaller = revise(p0, "make the green apple 50% smaller").element("apple-2").box
    assert smaller[2] - smaller[0] == pytest.approx(0.1, abs=1e-3)


def test_change_text_unquoted_and_quoted():
    p0 = _plan()
    assert revise(p0, "make the title say SPRING SALE").element("title-1").content == "SPRING SALE"
    assert revise(p0, "make the title say SALT AND PEPPER").element("title-1").content == \
        "SALT AND PEPPER"
    assert revise(p0, 'change "HELLO" to "Bonjour"').element("title-1").content == "Bonjour"
    jp = revise(p0, "make the title say \"ありがとう\"").element("title-1")
    assert jp.content == "ありがとう" and jp.script == "Jpan"


def test_add_text_and_title_on_a_plan_without_text():
    p0 = _plan()
    p1 = revise(p0, 'add the text "NEW" at the bottom')
    new = [t for t in p1.texts if t.content == "NEW"][0]
    assert (new.box[1] + new.box[3]) / 2 > 0.5
    bare = Plan(canvas=Canvas(width=256, height=256))
    assert [t.content for t in revise(bare, "make the title say OPEN").texts] == ["OPEN"]


def test_change_background_kinds():
    p0 = _plan()
    assert revise(p0, "make the background blue").canvas.background.color == "blue"
    assert revise(p0, "remove the background").transparent
    g = revise(p0, "make the background a gradient from pink to purple").canvas.background
    assert g.kind == "gradient" and g.colors == ("pink", "purple")
    assert revise(p0, "make it night").canvas.background.scene == "night"
    with pytest.raises(PlanError, match="background"):
        revise(p0, "change the background to quantum foam")


def test_change_style():
    p1 = revise(_plan(), "make it watercolor")
    assert p1.style.preset == "watercolor"
    _untouched(_plan(), p1, set())


def test_change_aspect_and_size_keep_object_shapes():
    p0 = _plan()
    p1 = revise(p0, "make it 16:9")
    w, h = p1.size
    assert abs(w / h - 16 / 9) < 0.03 and w % 16 == 0 and h % 16 == 0
    for a, b in zip(p0.objects, p1.objects):
        pa = (a.box[2] - a.box[0]) * 256 / ((a.box[3] - a.box[1]) * 256)
        pb = (b.box[2] - b.box[0]) * w / ((b.box[3] - b.box[1]) * h)
        assert pb == pytest.approx(pa, rel=0.02)
    assert revise(p0, "resize to 512x256").size == (512, 256)
    assert revise(p0, "make it portrait").size[0] < revise(p0, "make it portrait").size[1]
    with pytest.raises(PlanError, match="outside 1:3"):
        revise(p0, "make it 5:1")


def test_selectors_ordinal_all_colour_and_pronoun():
    p0 = _plan()
    assert revise(p0, "remove the second apple").element("apple-1")
    with pytest.raises(KeyError):
        revise(p0, "remove the second apple").element("apple-2")
    p1 = revise(p0, "make all apples yellow")
    assert {e.color for e in p1.objects if e.label == "apple"} == {"yellow"}
    assert revise(p0, "remove the green apple").element("apple-1")
    p2 = revise(p0, "add a red umbrella and make it bigger")
    assert len(p2.objects) == 5
    p3 = revise(p0, "make the car blue and the cat red")
    assert p3.element("car-1").color == "blue" and p3.element("cat-1").color == "red"


def test_ambiguous_or_missing_targets_are_clear_errors():
    with pytest.raises(PlanError, match="matches 2 elements"):
        revise(_plan(), "make the apple blue")
    with pytest.raises(PlanError, match="nothing in the image matches 'the dog'"):
        revise(_plan(), "remove the dog")
    with pytest.raises(PlanError, match="could not understand"):
        revise(_plan(), "sing a song")
    with pytest.raises(PlanError, match="empty"):
        revise(_plan(), "  ")


def test_split_keeps_quotes_and_unverbed_text_whole():
    p = _plan()
    assert split_clauses('make the title say "Tea and Cake" and remove the car', p) == [
        'make the title say "Tea and Cake"', "remove the car"]
    assert len(split_clauses("make the title say BLACK AND WHITE", p)) == 1
    assert split_clauses("make the title say CLICK AND DRAW and add a cat", p) == [
        "make the title say CLICK AND DRAW", "add a cat"]


def test_ops_are_typed_data_an_llm_can_emit():
    schema = edit_json_schema()
    assert "ops" in schema["properties"]
    script = EditScript.model_validate_json(
        '{"ops": [{"op": "recolor", "target": {"label": "car"}, "color": "blue"},'
        ' {"op": "add", "label": "bird", "count": 2, "position": "top"}]}')
    p1 = apply_ops(_plan(), script.ops)
    assert p1.element("car-1").color == "blue" and len(p1.objects) == 6
    ops = parse(_plan(), "make the car blue")
    assert ops == [Recolor(target=Selector(kind="object", label="car", words="the car"),
                           color="blue")]
    with pytest.raises(PlanError, match="invalid edit operation"):
        apply_ops(_plan(), [{"op": "explode"}])
    assert isinstance(parse(_plan(), "add a cat")[0], AddObject)


def test_references_bind_to_added_objects():
    p1 = revise(_plan(), "add the lamp from reference 2", references=2)
    assert [e.reference for e in p1.objects if e.label == "lamp"] == [1]
    p2 = revise(_plan(), "add this vase", references=1)
    assert [e.reference for e in p2.objects if e.label == "vase"] == [0]
    with pytest.raises(PlanError, match="there are 1 references"):
        revise(_plan(), "add the lamp from reference 3", references=1)


def test_size_for_aspect_keeps_area():
    w, h = size_for_aspect((16, 9), 1024 * 1024)
    assert abs(w * h - 1024 * 1024) / (1024 * 1024) < 0.05


_VERBS = st.sampled_from([
    "add a blue ball", "add three birds at the top", "remove the car", "make the car green",
    "move the cat to the left", "move the cat down a bit", "make the cat smaller",
    "make the cat much bigger", "replace the car with a bus", "make the title say HI",
    "add a hat to the cat", "make it 3:2", "make it 9:16", "move the title to the bottom",
])


@settings(max_examples=30, deadline=None)
@given(st.lists(_VERBS, min_size=1, max_size=4))
def test_any_sequence_of_edits_keeps_a_valid_plan(instructions):
    plan = _plan()
    for ins in instructions:
        try:
            plan = revise(plan, ins)
        except PlanError as e:   # an earlier edit removed or replaced the target
            assert "nothing in the image matches" in str(e)
            continue
        Plan.model_validate(plan.model_dump())
        for el in plan.elements:
            x0, y0, x1, y1 = el.box
            assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1
        assert plan.seed == 3


def test_between_two_anchors_keeps_the_and_together():
    p1 = revise(_plan(), "add a ball between the cat and the car and make the car blue")
    ball = [e for e in p1.objects if e.label == "ball"][0]
    cat, car = p1.element("cat-1").box, p1.element("car-1").box
    bx = (ball.box[0] + ball.box[2]) / 2
    assert min(cat[0], car[0]) < bx < max(cat[2], car[2])
    assert p1.element("car-1").color == "blue"
    p2 = revise(_plan(), "add a star between the apples")
    star = [e for e in p2.objects if e.label == "star"][0]
    assert 0.25 - 1e-6 <= (star.box[0] + star.box[2]) / 2 <= 0.4 + 1e-6


def test_swap_remove_except_and_indefinite_targets():
    p0 = _plan()
    p1 = revise(p0, "swap the cat and the car")
    # Each takes the other's centre (the tall cat is kept inside the canvas, so only x).
    assert _centre_of(p1, "cat-1")[0] == pytest.approx(_centre_of(p0, "car-1")[0], abs=0.02)
    assert _centre_of(p1, "car-1") == pytest.approx(_centre_of(p0, "cat-1"), abs=0.02)
    assert [e.id for e in revise(p0, "remove everything except the cat").elements] == ["cat-1"]
    assert len(revise(p0, "remove an apple").objects) == 3          # one apple, not both
    assert len(revise(p0, "remove one of the apples").objects) == 3
    same = revise(p0, "change the car to a blue car")               # a recolour, same subject
    assert same.element("car-1").color == "blue"
    with pytest.raises(PlanError, match="cannot be rotated"):
        revise(p0, "rotate the cat")


def test_polite_and_wanting_phrasings():
    p0 = _plan()
    assert revise(p0, "Could you please make the car silver?").element("car-1").color == "silver"
    assert revise(p0, "I want the cat to be orange").element("cat-1").color == "orange"
    assert revise(p0, "make the cat a little bigger").element("cat-1").label == "cat"
    assert revise(p0, "Change the style to pixel art").style.preset == "pixel"
    birds = [e for e in revise(p0, "add three birds in the sky").objects if e.label == "bird"]
    assert len(birds) == 3 and all(b.box[3] <= 0.55 for b in birds)


def _centre_of(plan, eid):
    x0, y0, x1, y1 = plan.element(eid).box
    return ((x0 + x1) / 2, (y0 + y1) / 2)


def _zh_plan() -> Plan:
    return Plan(canvas=Canvas(width=256, height=256), elements=(
        ObjectElement(id="cat-1", box=(0.05, 0.4, 0.35, 0.8), label="cat", subject_id="cat-1"),
        ObjectElement(id="apple-1", box=(0.5, 0.6, 0.65, 0.75), label="apple", color="red"),
        ObjectElement(id="apple-2", box=(0.75, 0.6, 0.9, 0.75), label="apple", color="red"),
        TextElement(id="text-1", box=(0.1, 0.05, 0.9, 0.2), content="欢迎光临", script="Hans"),
    ))


def test_chinese_and_japanese_instructions():
    p0 = _zh_plan()
    assert revise(p0, "把标题改成“春季促销”").element("text-1").content == "春季促销"
    assert revise(p0, "把猫变成蓝色").element("cat-1").color == "blue"
    assert [e.id for e in revise(p0, "删除右边的苹果").objects] == ["cat-1", "apple-1"]
    both = revise(p0, "删除猫，然后添加一只狗")
    assert [e.label for e in both.objects] == ["apple", "apple", "dog"]
    assert revise(p0, "把背景改成海滩").canvas.background.scene == "beach"
    assert revise(p0, "改成16:9").size[0] > revise(p0, "改成16:9").size[1]
    assert revise(p0, "タイトルを「春のセール」に変えて").element("text-1").content == "春のセール"
    assert revise(p0, "猫を青にして").element("cat-1").color == "blue"
    moved = revise(p0, "猫を右に移動して").element("cat-1").box
    assert (moved[0] + moved[2]) / 2 > 0.5
    assert [e.label for e in revise(p0, "犬を追加して").objects][-1] == "dog"


def test_carried_things_follow_their_carrier_and_the_character_is_a_person():
    p0 = Plan(canvas=Canvas(width=256, height=256), elements=(
        ObjectElement(id="dog-1", box=(0.55, 0.3, 0.95, 0.8), label="dog"),
        ObjectElement(id="girl-1", box=(0.05, 0.6, 0.25, 0.95), label="girl"),
    ))
    p1 = revise(p0, "add a red umbrella for the character")
    umbrella = [e for e in p1.objects if e.label == "umbrella"][0]
    girl = p1.element("girl-1").box
    assert girl[0] <= (umbrella.box[0] + umbrella.box[2]) / 2 <= girl[2]   # the girl, not the dog
    p2 = revise(p1, "give the dog a hat")
    hat0 = [e for e in p2.objects if e.label == "hat"][0].box
    p3 = revise(p2, "move the dog to the left")
    d0, d1 = p2.element("dog-1").box, p3.element("dog-1").box
    hat1 = [e for e in p3.objects if e.label == "hat"][0].box
    assert hat1[0] - hat0[0] == pytest.approx(d1[0] - d0[0], abs=1e-3)   # the hat came along
    assert p3.element(umbrella.id) == p2.element(umbrella.id)            # the girl's did not


def test_things_written_on_new_objects_and_colour_phrases():
    p1 = revise(_plan(), 'add a price tag that says "$3"')
    tag = [e for e in p1.objects if e.label == "price tag"][0]
    label = [t for t in p1.texts if t.content == "$3"][0]
    assert tag.box[0] <= label.box[0] < label.box[2] <= tag.box[2]
    assert revise(_plan(), "make the cat warm yellow").element("cat-1").color == "yellow"
    assert revise(_plan(), "make the cat black and white").element("cat-1").color == "black"
    dark = revise(_plan(), "make the car dark brown").element("car-1").color
    assert dark.startswith("#") and int(dark[1:3], 16) < 165          # darker than brown
    assert revise(_plan(), "change the title font color to brown").element("title-1").color \
        == "brown"
    smaller = revise(_plan(), "make everything smaller")
    assert all(a.box != b.box for a, b in zip(_plan().elements, smaller.elements))


def test_korean_instructions():
    p0 = _zh_plan()
    assert revise(p0, "고양이를 파란색으로 바꿔줘").element("cat-1").color == "blue"
    assert [e.label for e in revise(p0, "고양이를 삭제해줘").objects] == ["apple", "apple"]
    assert revise(p0, '제목을 "봄 세일"로 바꿔줘').element("text-1").content == "봄 세일"
    assert revise(p0, "배경을 해변으로 바꿔줘").canvas.background.scene == "beach"
    moved = revise(p0, "고양이를 오른쪽으로 옮겨줘").element("cat-1").box
    assert (moved[0] + moved[2]) / 2 > 0.5


def test_an_unqualified_cjk_noun_means_every_match_with_a_note():
    """Chinese, Japanese and Korean have no articles: "删除苹果" over two apples removes both
    (as "remove the apples"), with a note saying so and how to name one; a count of one
    ("一个苹果", "りんごを一つ", "사과 하나") is one of them (as "remove an apple"); a position
    picks that one. English keeps its articles' meaning: "remove the apple" asks which."""
    from planner.revise import revise_noted

    p0 = _plan()
    assert [e.id for e in revise(p0, "remove the apples").objects] == ["cat-1", "car-1"]
    left = [e.id for e in revise(p0, "remove an apple").objects]
    assert len(left) == 3 and left[1:] == ["cat-1", "car-1"]
    with pytest.raises(PlanError, match="matches 2 elements"):
        revise(p0, "remove the apple")
    for text in ("删除苹果", "把苹果删掉", "りんごを消して", "사과를 지워"):
        p1, notes = revise_noted(p0, text)
        assert [e.id for e in p1.objects] == ["cat-1", "car-1"], text
        (note,) = notes
        assert "apple-1, apple-2" in note and "all of them" in note and "一个" in note
    for text in ("删除一个苹果", "りんごを一つ消して", "사과 하나를 지워", "한 개의 사과를 지워"):
        p1, notes = revise_noted(p0, text)
        assert [e.id for e in p1.objects] == left and notes == (), text
    assert [e.id for e in revise(p0, "删除左边的苹果").objects] == ["apple-2", "cat-1", "car-1"]
    # one match: no note; a recolour of a bare noun recolours all, said once
    assert revise_noted(p0, "删除猫")[1] == ()
    p1, notes = revise_noted(p0, "把苹果变成蓝色")
    assert {p1.element(i).color for i in ("apple-1", "apple-2")} == {"blue"} and len(notes) == 1


def test_edit_notes_reach_the_caller():
    """The API's result (and so the CLI's warnings and the server's limner.notes) carries
    the reviser's note."""
    from limner.api import Limner

    lim = Limner()
    made = lim.generate("two red apples next to a blue cup", size="256x256", seed=1)
    edited = lim.edit("删除苹果", plan=made[0].plan)
    assert [e.label for e in edited[0].plan.objects] == ["cup"]
    assert any("all of them" in n for n in edited.notes)
