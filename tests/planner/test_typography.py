"""Text the user means: names as text, attributes bound to the right text, type sizes from
roles, frames; and old Plans still load after the schema's 1.1 additions."""

import json

import pytest

from planner.rules import RulesPlanner, understand
from planner.schema import Plan, ShapeElement

P = RulesPlanner()


def _text(plan, content):
    return next(t for t in plan.texts if t.content == content)


@pytest.mark.parametrize("prompt,name", [
    ('A logo for a coffee shop called "Bean There"', "Bean There"),
    ('a tea brand named "Kettle & Leaf" with a teapot', "Kettle & Leaf"),
    ('an app icon for a fitness app called "FitNow"', "FitNow"),
    ('一个名为“茶香”的茶叶品牌标志', "茶香"),
    ('「ねこ」という名前のカフェのロゴ', "ねこ"),
])
def test_a_brand_name_is_the_text(prompt, name):
    plan = P.plan(prompt)
    assert [t.content for t in plan.texts] == [name]
    assert plan.texts[0].role == "title"


@pytest.mark.parametrize("prompt", ['a cat named "Tom" sitting on a mat', '一只叫“小白”的猫'])
def test_a_pet_name_stays_a_name(prompt):
    plan = P.plan(prompt)
    assert plan.texts == [] and [o.label for o in plan.objects][:1] == ["cat"]


@pytest.mark.parametrize("prompt,title,sub", [
    ('A poster with a big red title "SALE" and white text "Up to 50% off" on a black '
     'background', "SALE", "Up to 50% off"),
    ('一张海报，红色标题“大促销”，白色文字“全场五折”', "大促销", "全场五折"),
    ('ポスター、赤いタイトル「セール」と白い文字「半額」', "セール", "半額"),
    ('포스터, 빨간색 제목 "세일" 그리고 흰색 글자 "반값"', "세일", "반값"),
])
def test_colour_words_bind_to_the_quote_they_precede(prompt, title, sub):
    plan = P.plan(prompt)
    assert _text(plan, title).color == "red"
    assert _text(plan, sub).color == "white"


def test_size_and_weight_words_bind_to_their_text():
    s = understand('A thumbnail with a bold yellow title "TOP 5" and a small white subtitle '
                   '"2026 edition"')
    top, sub = s.texts
    assert (top.weight, top.color, sub.size, sub.color, sub.role) == \
        ("bold", "yellow", "small", "white", "subtitle")
    big = understand('a banner with a small caption "since 1999" under a huge headline '
                     '"GRAND OPENING"')
    assert [t.size for t in big.texts] == ["small", "large"]


def test_title_type_is_bigger_than_body_and_big_makes_it_bigger():
    plan = P.plan('A poster titled "JAZZ NIGHT" with the text "Doors open at nine, tickets '
                  'at the door" and a saxophone')
    title, body = plan.texts
    assert title.role == "title" and body.role == "body"
    assert title.font_size > 1.3 * body.font_size
    big = P.plan('A poster with a big title "JAZZ NIGHT" and a saxophone')
    plain = P.plan('A poster with a title "JAZZ NIGHT" and a saxophone')
    assert big.texts[0].font_size > plain.texts[0].font_size


def test_long_body_text_grows_its_box_before_the_type_shrinks():
    words = " ".join(["words"] * 40)
    plan = P.plan(f'A poster titled "NEWS" with the text "{words}"')
    body = _text(plan, words)
    few = "only a few short words in the body copy"
    short = _text(P.plan(f'A poster titled "NEWS" with the text "{few}"'), few)
    assert body.role == short.role == "body"
    assert body.font_size >= 0.8 * short.font_size
    assert body.box[3] - body.box[1] > 2.5 * (short.box[3] - short.box[1])


def test_in_a_circle_frames_the_text():
    plan = P.plan('a sticker with the word "NEW" in a red circle')
    (circle,) = plan.shapes
    assert circle.shape == "circle" and circle.color == "red" and not plan.objects
    t = plan.texts[0]
    cx, cy = (circle.box[0] + circle.box[2]) / 2, (circle.box[1] + circle.box[3]) / 2
    r = (circle.box[2] - circle.box[0]) / 2
    for x in (t.box[0], t.box[2]):
        for y in (t.box[1], t.box[3]):
            assert (x - cx) ** 2 + (y - cy) ** 2 <= r * r * 1.01   # (square canvas)


def test_plans_of_schema_1_0_still_load():
    old = {"schema_version": "1.0", "prompt": "p", "seed": 1,
           "canvas": {"width": 512, "height": 512},
           "elements": [{"kind": "text", "id": "t", "box": [0.1, 0.1, 0.9, 0.3],
                         "content": "HI", "role": "title"},
                        {"kind": "object", "id": "o", "box": [0.2, 0.4, 0.8, 0.9],
                         "label": "apple"}]}
    plan = Plan.from_json(json.dumps(old))
    assert plan.texts[0].font_size is None and plan.template is None and not plan.shapes
    new = plan.model_copy(update={"elements": plan.elements + (
        ShapeElement(id="b", box=(0.1, 0.5, 0.2, 0.9), shape="bar", value=3.0),)})
    assert Plan.from_json(new.to_json()) == new


@pytest.mark.parametrize("prompt", ['一张海报，大号红色标题“夏日特卖”，小字“仅限本周”',
                                    'ポスター、大きな文字「祭り」と小さな文字「七月七日」',
                                    '포스터, 큰 제목 "축제" 그리고 작은 글자 "7월 7일"'])
def test_cjk_size_words_bind_to_their_quote(prompt):
    big, small = understand(prompt).texts
    assert (big.size, small.size) == ("large", "small")
    plan = P.plan(prompt)
    assert plan.texts[0].font_size > 2 * plan.texts[1].font_size


def test_bullets_are_evenly_spaced_and_left_aligned():
    plan = P.plan('A poster titled "PACKING LIST" with bullet points "Passport", "Tickets", '
                  '"Charger" and "Sunscreen"')
    title, *points = plan.texts
    assert title.role == "title" and {t.role for t in points} == {"bullet"}
    assert len({t.box[0] for t in points}) == 1 and {t.align for t in points} == {"left"}
    ys = [(t.box[1] + t.box[3]) / 2 for t in points]
    steps = [b - a for a, b in zip(ys, ys[1:])]
    assert max(steps) - min(steps) < 1e-3 and min(steps) > 0
    assert len({t.font_size for t in points}) == 1 and title.font_size > points[0].font_size
    markers = [s for s in plan.shapes if s.shape == "marker"]
    assert len(markers) == 4 and not any(m.label for m in markers)      # bullets, not numbers


def test_templates_are_picked_from_kind_words_in_four_languages():
    from planner.templates import pick

    assert pick("a bar chart of sales") == "chart"
    assert pick("一个柱状图") == "chart" and pick("円グラフ") == "chart"
    assert pick("메뉴판") == "menu" and pick("a greeting card") == "card"
    assert pick("a login screen mockup") == "ui" and pick("a cafe menu poster") == "menu"
    assert pick("three red apples") is None


@pytest.mark.parametrize("prompt", ['贴纸，红色圆圈里写着“新品”', 'ステッカー、赤い丸の中に「新着」',
                                    '스티커, 빨간 원 안에 "신상"'])
def test_cjk_text_in_a_circle(prompt):
    plan = P.plan(prompt)
    (circle,) = plan.shapes
    assert circle.shape == "circle" and circle.color == "red" and len(plan.texts) == 1


def test_kind_words_do_not_misfire():
    from planner.templates import pick

    assert pick("an app icon design") is None and pick("a car dashboard") is None
    assert pick("a phone screen showing a cat") is None
    assert pick("a website design with a hero image") == "ui"


def test_make_the_title_bigger_grows_its_type():
    plan = P.plan('A poster titled "JAZZ NIGHT" with a saxophone')
    after = P.revise(plan, "make the title bigger")
    assert after.texts[0].font_size > 1.3 * plan.texts[0].font_size


@pytest.mark.parametrize("prompt,prices", [
    ('メニュー「ラーメン 800円」「うどん 600円」「そば 700円」', ["800円", "600円", "700円"]),
    ('菜单：“拉面20元”、“饺子15元”', ["20元", "15元"]),
    ('a menu with "Espresso $3", "Latte $4.50"', ["$3", "$4.50"]),
])
def test_menu_lines_in_any_language_set_their_price_flush_right(prompt, prices):
    plan = P.plan(prompt)
    assert plan.template == "menu"
    assert [t.content[t.split:] for t in plan.texts if t.split] == prices


def test_a_logo_draws_its_topic_above_its_name():
    plan = P.plan('A logo for a coffee shop called "Bean There"')
    (mark,) = plan.objects
    (name,) = plan.texts
    assert mark.label == "coffee" and mark.box[3] <= name.box[1] + 1e-6


def test_product_image_has_the_product_large_and_the_price_on_a_corner_badge():
    plan = P.plan('an e-commerce main image titled "RUNNER X" of a blue backpack with the '
                  'price "$49.99"')
    assert plan.template == "product" and [o.label for o in plan.objects] == ["backpack"]
    price = next(t for t in plan.texts if t.content == "$49.99")
    (badge,) = [s for s in plan.shapes if s.shape == "badge"]
    assert price.role == "price" and badge.box[2] > 0.9 and badge.box[1] < 0.1
    bag = plan.objects[0]
    assert (bag.box[2] - bag.box[0]) * (bag.box[3] - bag.box[1]) > 0.15


def test_light_text_asked_on_no_stated_background_gets_a_dark_canvas():
    assert P.plan('a poster with white text "HELLO"').canvas.background.color == "#1f2430"
    assert P.plan('a poster with black text "HELLO"').canvas.background.color != "#1f2430"
    assert P.plan('a white title "HI" on a pink background').canvas.background.color == "pink"
