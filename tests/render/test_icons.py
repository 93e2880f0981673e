"""Vector icons in the draft: crisp edges, no fringes, the right picture, recolour, styles,
contrast, resting on surfaces, and the emoji-font fallback without the icon sets."""

import json

import numpy as np
import pytest

from planner.schema import Background, Canvas, ObjectElement, Plan, Style
from render import icons
from render.draft import DraftRenderer
from render.encode import encode_image, read_metadata
from render.sprites import (dominant_color, emoji_tile, find_emoji, object_sprite,
                            resize_rgba)
from render.vocab import pick

needs_icons = pytest.mark.skipif(not icons.available(), reason=icons.INSTALL_HINT)


def _plan(objects, bg="#f4f1ea", style="", size=(64, 64), transparent=False):
    background = Background(kind="transparent") if transparent else \
        Background(kind="color", color=bg)
    return Plan(canvas=Canvas(width=size[0], height=size[1], background=background),
                elements=tuple(objects), style=Style(text=style), quality="low")


def _soft_share(img) -> float:
    """Share of the ink's pixels that are partly transparent: the width of its edges."""
    a = np.asarray(img.getchannel("A"))
    return float(((a > 20) & (a < 235)).sum() / max(1, (a > 20).sum()))


@needs_icons
def test_icon_edges_stay_crisp_at_4k_size_unlike_the_scaled_emoji_bitmap():
    size = (900, 900)
    vector = object_sprite("apple", None, size, "apple")
    bitmap = resize_rgba(emoji_tile(find_emoji("apple")), vector.size)
    assert max(vector.size) >= 880
    assert _soft_share(vector) < 0.4 * _soft_share(bitmap), (_soft_share(vector),
                                                              _soft_share(bitmap))


@needs_icons
def test_no_light_fringe_around_a_dark_icon_on_a_dark_backdrop():
    from PIL import Image

    for prefix, name in (("mdi", "cat"), ("fluent-emoji-flat", "black-cat")):
        kw = {"fill": (20, 20, 24)} if prefix == "mdi" else {}
        sprite = icons.render_icon(prefix, name, (240, 240), **kw)
        base = Image.new("RGB", (260, 260), (12, 12, 16))
        base.paste(sprite, (10, 10), sprite)
        arr = np.asarray(base, dtype=np.float32).max(axis=-1)
        a = np.zeros(arr.shape, np.float32)
        a[10:10 + sprite.height, 10:10 + sprite.width] = np.asarray(sprite.getchannel("A"))
        edge = (a > 0) & (a < 255)
        body = np.asarray(sprite, dtype=np.float32)[..., :3].max(axis=-1)
        body_max = float(body[np.asarray(sprite.getchannel("A")) == 255].max())
        # Edge pixels blend backdrop and ink: never lighter than the lightest opaque ink.
        assert edge.any() and float(arr[edge].max()) <= body_max + 2, (name, arr[edge].max())


@needs_icons
@pytest.mark.parametrize("label,want_name", [
    ("cocktail glasses", "cocktail-glass"), ("golden retriever puppy", "dog"),
    ("smartwatch", "smartwatch"), ("bowl of noodles", "steaming-bowl"), ("狗", "dog"),
    ("고양이", "cat"), ("washing machine", "washing-machine")])
def test_vocabulary_picks_the_fitting_icon(label, want_name):
    p = pick(label)
    assert p.source == "icon" and p.name == want_name, p


@needs_icons
@pytest.mark.parametrize("label", ["coffee bean", "mountain lake", "machine"])
def test_a_labelled_shape_beats_a_wrong_picture(label):
    # kidney beans for a coffee bean, a framed scene tile for a lake, a fax for "machine"
    assert pick(label).source == "shape", pick(label)


@needs_icons
def test_furniture_table_and_chalkboard_are_icons_not_boxes_or_ui_grids():
    table = pick("table")
    assert table.source == "icon" and "furniture" in table.name
    assert pick("chalkboard").source == "icon"
    # a scene tile is never an object: the fitting building comes from a set that draws it
    assert not icons.is_picture_tile(pick("building").icon_set, pick("building").name)


@needs_icons
def test_recolour_rewrites_the_vector_fills():
    sprite = object_sprite("car", "blue", (128, 128), "car")
    got, _share = dominant_color(sprite)
    assert got[2] > 150 and got[0] < 100, got
    plain = object_sprite("car", None, (128, 128), "car")
    assert dominant_color(plain)[0][0] > 150  # the set's car is red


@needs_icons
def test_every_drawn_style_changes_the_pixels_and_others_are_reported():
    from render.styles import DRAWN

    objs = [ObjectElement(id="a", label="apple", box=(0.1, 0.3, 0.5, 0.9)),
            ObjectElement(id="c", label="cup", box=(0.55, 0.4, 0.95, 0.9))]
    r = DraftRenderer()
    base = np.asarray(r.render_one(_plan(objs)), dtype=np.int16)
    for style in sorted(set(DRAWN) - {"cartoon"}):
        res = r.render(_plan(objs, style=style))
        img = np.asarray(res.image, dtype=np.int16)
        assert np.abs(img - base).mean() > 1.0, style
        assert res.drawn[0]["style"]["drawn"] == [style]
    res = r.render(_plan(objs, style="anime"))
    assert res.drawn[0]["style"]["not_drawn"] == ["anime"]


def test_white_object_on_cream_backdrop_gets_contrast():
    from render.color import contrast_ratio

    cream = (255, 253, 208)
    dog = ObjectElement(id="d", label="dog", color="white", box=(0.1, 0.1, 0.9, 0.9))
    res = DraftRenderer().render(_plan([dog], bg="#fffdd0", size=(128, 128)))
    img = np.asarray(res.image, dtype=np.float32)
    rec = res.drawn[0]["objects"][0]
    assert rec.get("contrast") == "outline"
    # The darkest tenth of the object's box stands clearly apart from the cream.
    box = img[13:115, 13:115].reshape(-1, 3)
    lum = box @ np.array([0.299, 0.587, 0.114])
    dark = box[lum <= np.percentile(lum, 10)].mean(axis=0)
    assert contrast_ratio(tuple(int(c) for c in dark), cream) > 2.0


@needs_icons
def test_a_bag_on_a_table_touches_the_drawn_table_top():
    table = ObjectElement(id="t", label="table", box=(0.1, 0.5, 0.9, 0.95))
    bag = ObjectElement(id="b", label="bag", box=(0.35, 0.2, 0.65, 0.5))
    col = {}
    for key, objs in (("both", [table, bag]), ("table", [table]), ("bag", [bag])):
        img = DraftRenderer().render_one(_plan(objs, transparent=True, size=(128, 128)))
        col[key] = np.asarray(img.getchannel("A"))[:, 60:68].max(axis=1) > 128
    top = int(np.flatnonzero(col["table"]).min())      # the drawn table top
    assert np.flatnonzero(col["bag"]).max() < top - 1   # its box alone leaves the bag in the air
    assert col["both"][top - 4:top + 1].all()           # drawn together, it stands on the top


def test_without_icon_sets_the_emoji_font_draws_and_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("LIMNER_ICONS", str(tmp_path))
    pick.cache_clear()
    object_sprite.cache_clear()
    icons._root_for.cache_clear()
    try:
        assert not icons.available()
        assert pick("apple").source == "emoji"
        res = DraftRenderer().render(_plan([ObjectElement(id="a", label="apple",
                                                          box=(0.1, 0.1, 0.9, 0.9))]))
        assert res.drawn[0]["objects"][0]["source"] == "emoji"
        assert np.asarray(res.image).std() > 5
    finally:
        monkeypatch.delenv("LIMNER_ICONS")
        pick.cache_clear()
        object_sprite.cache_clear()


@needs_icons
def test_what_each_object_became_is_in_the_file_metadata():
    plan = _plan([ObjectElement(id="a", label="cocktail glass", box=(0.1, 0.1, 0.9, 0.9))])
    res = DraftRenderer().render(plan)
    data = encode_image(res.image, plan, seed=0, renderer="draft",
                        digital_source_type="x")
    drawn = json.loads(read_metadata(data)["drawn"])
    assert drawn["objects"][0]["icon_set"] == "fluent-emoji-flat"
    assert drawn["objects"][0]["name"] == "cocktail-glass"
    assert drawn["credits"] == ["Fluent Emoji Flat by Microsoft Corporation, MIT "
                                "(https://github.com/microsoft/fluentui-emoji)"]
    assert res.drawn[0] == drawn


@needs_icons
@pytest.mark.parametrize("prompt", ["three cats and a dog", "a cup, a book, a lamp and a vase",
                                    "五个苹果和两只猫"])
def test_objects_do_not_overlap_unless_one_stands_on_another(prompt):
    from planner.rules import RulesPlanner

    plan = RulesPlanner().plan(prompt, size=(256, 256), seed=3)
    res = DraftRenderer().render(plan)
    boxes = [o["box"] for o in res.drawn[0]["objects"]]
    assert len(boxes) == len(plan.objects) >= 3
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            w = min(a[2], b[2]) - max(a[0], b[0])
            h = min(a[3], b[3]) - max(a[1], b[1])
            assert w <= 0 or h <= 0, (prompt, a, b)


@needs_icons
def test_line_art_draws_one_colour_lines():
    objs = [ObjectElement(id="a", label="bicycle", box=(0.05, 0.3, 0.5, 0.9)),
            ObjectElement(id="b", label="teddy bear", box=(0.55, 0.3, 0.95, 0.9))]
    res = DraftRenderer().render(_plan(objs, style="line art", size=(128, 128)))
    img = np.asarray(res.image, dtype=np.float32)
    ink = img[(np.abs(img - img[2, 2]).max(axis=-1) > 40)]
    # Every mark is the one grey ink of the lines (anti-aliased), none the colour art's fill.
    chroma = ink.max(axis=-1) - ink.min(axis=-1)
    assert ink.size and float(np.percentile(chroma, 95)) < 25, np.percentile(chroma, 95)
    plain = np.asarray(DraftRenderer().render_one(_plan(objs, size=(128, 128))), np.float32)
    marks = plain[(np.abs(plain - plain[2, 2]).max(axis=-1) > 40)]
    assert float(np.percentile(marks.max(axis=-1) - marks.min(axis=-1), 95)) > 60
    assert {o.get("icon_set") for o in res.drawn[0]["objects"]} & {"tabler", "mdi"} or \
        all(o.get("look") == "traced outline" for o in res.drawn[0]["objects"])


def test_dark_object_on_dark_backdrop_gets_a_light_outline():
    cat = ObjectElement(id="c", label="cat", color="black", box=(0.1, 0.1, 0.9, 0.9))
    res = DraftRenderer().render(_plan([cat], bg="#141418", size=(128, 128)))
    assert res.drawn[0]["objects"][0].get("contrast") == "outline"
    img = np.asarray(res.image, dtype=np.float32)
    assert float(img[13:115, 13:115].max(axis=-1).max()) > 60  # a visibly lighter ring


def test_missing_icon_sets_come_back_as_a_note(monkeypatch, tmp_path):
    from limner.api import Limner

    monkeypatch.setenv("LIMNER_ICONS", str(tmp_path))
    pick.cache_clear()
    object_sprite.cache_clear()
    try:
        r = Limner().generate("a red apple", size="64x64")
        assert any("icon sets not found" in n and "setup.sh" in n for n in r.notes)
    finally:
        monkeypatch.delenv("LIMNER_ICONS")
        pick.cache_clear()
        object_sprite.cache_clear()
    if icons.available():
        assert not Limner().generate("a red apple", size="64x64").notes


@pytest.mark.parametrize("prompt,style", [
    ("a paper cut fox", "paper cut"), ("line art of a cup", "line art"),
    ("a chalkboard style menu with an apple", "chalkboard"), ("pixel art rocket", "pixel"),
    ("a vintage photo of a car", "retro"), ("a 3d render of a teddy bear", "3d")])
def test_style_words_reach_the_plan_and_the_draft_draws_them(prompt, style):
    from planner.rules import RulesPlanner
    from render.styles import look_for

    plan = RulesPlanner().plan(prompt, size=(64, 64))
    assert style in plan.style.text.split(", ")
    assert style in look_for(plan.style.text).drawn


@needs_icons
def test_a_picture_always_fits_its_box():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    labels = st.sampled_from(["apple", "table", "chalkboard", "golden retriever puppy",
                              "cocktail glasses", "coffee bean", "tram", "狗"])

    @settings(max_examples=30, deadline=None)
    @given(labels, st.sampled_from([None, "blue", "white"]), st.integers(4, 160),
           st.integers(4, 160))
    def check(label, color, w, h):
        sprite = object_sprite(label, color, (w, h), label)
        assert sprite.width <= w and sprite.height <= h
        assert np.asarray(sprite.getchannel("A")).max() > 0   # never an empty picture

    check()


@needs_icons
@pytest.mark.parametrize("prompt", ["三只猫在桌子上", "테이블 위에 고양이 두 마리"])
def test_cats_on_a_table_in_cjk_stand_on_its_drawn_top(prompt):
    from planner.rules import RulesPlanner

    plan = RulesPlanner().plan(prompt, size=(256, 256), seed=1)
    res = DraftRenderer().render(plan)
    objs = res.drawn[0]["objects"]
    table = next(o for o in objs if o["label"] == "table")
    cats = [o for o in objs if o["label"] == "cat"]
    assert len(cats) >= 2
    for c in cats:  # every cat's feet are within a few pixels of the table's top edge
        assert abs(c["box"][3] - table["box"][1]) <= 6, (c["box"], table["box"])
        assert c["box"][2] > table["box"][0] and c["box"][0] < table["box"][2]


def test_style_names_in_other_wordings_are_drawn():
    from render.styles import look_for

    assert look_for("Watercolour painting, neon glow").drawn == ("watercolor", "neon")
    assert look_for("paper-cut art").drawn == ("paper cut",)
    assert look_for("anime").not_drawn == ("anime",)
