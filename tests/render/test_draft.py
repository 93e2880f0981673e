"""The draft renderer: sizes, alpha, sprites and their colours, consistency, quality levels."""

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from planner.schema import (Background, Canvas, ObjectElement, Plan, TextElement,
                            box_to_pixels)
from render.base import RenderOptions, get_renderer
from render.color import hls, parse_color
from render.draft import DIGITAL_SOURCE_TYPE, DraftRenderer, resolve_quality
from render.sprites import dominant_color, find_emoji, object_sprite


def _plan(size=(1024, 1024), bg=None, elements=None, quality="auto", seed=0):
    bg = bg or Background(kind="color", color="#f4f1ea")
    elements = elements if elements is not None else (
        TextElement(id="t1", content="HELLO", box=(0.1, 0.05, 0.9, 0.25)),
        ObjectElement(id="o1", label="apple", color="red", subject_id="apple-1",
                      box=(0.1, 0.4, 0.45, 0.9)),
        ObjectElement(id="o2", label="rocket", subject_id="rocket-1",
                      box=(0.55, 0.4, 0.9, 0.9)),
    )
    return Plan(seed=seed, quality=quality, elements=tuple(elements),
                canvas=Canvas(width=size[0], height=size[1], background=bg))


def test_registry_and_interface():
    r = get_renderer("draft")
    assert isinstance(r, DraftRenderer) and r.name == "draft"
    assert r.digital_source_type == DIGITAL_SOURCE_TYPE
    assert DIGITAL_SOURCE_TYPE.startswith("http://cv.iptc.org/newscodes/digitalsourcetype/")


@pytest.mark.parametrize("size", [(1024, 1024), (2048, 2048), (3840, 2160), (1536, 864),
                                  (864, 1536), (1536, 512), (512, 1536), (1008, 752)])
def test_every_size_is_drawn_natively(size):
    plan = _plan(size, quality="low")
    res = DraftRenderer().render(plan)
    assert res.image.size == size and res.image.mode == "RGB"
    assert res.seeds == [plan.seed] and res.plans == [plan] and res.renderer == "draft"


def test_transparent_background_has_real_alpha():
    plan = _plan(bg=Background(kind="transparent"))
    img = DraftRenderer().render(plan).image
    assert img.mode == "RGBA"
    alpha = np.asarray(img.getchannel("A"))
    inside = np.zeros_like(alpha, dtype=bool)
    for el in plan.elements:
        x0, y0, x1, y1 = box_to_pixels(el.box, *plan.size)
        inside[y0:y1, x0:x1] = True
    assert alpha[~inside].max() == 0           # background: alpha 0 everywhere
    assert (alpha[inside] == 255).mean() > 0.05  # elements: opaque
    # The middle of the rocket's sprite is solid.
    x0, y0, x1, y1 = box_to_pixels(plan.elements[2].box, *plan.size)
    assert alpha[(y0 + y1) // 2 + (y1 - y0) // 6, (x0 + x1) // 2] == 255


def test_draw_base_has_objects_but_no_text():
    with_text = _plan()
    no_text = with_text.model_copy(update={"elements": with_text.elements[1:]})
    r = DraftRenderer()
    base = r.draw_base(with_text, RenderOptions())
    assert base.mode == "RGBA" and base.size == with_text.size
    assert base.tobytes() == r.draw_base(no_text).tobytes()
    assert r.render(with_text).image.tobytes() != base.convert("RGB").tobytes()


@pytest.mark.parametrize("label,emoji", [("coffee mug", "☕"), ("gift box", "🎁"),
                                          ("butterflies", "🦋"), ("mice", "🐁"),
                                          ("bowl of noodles", "🍜"), ("green apple", "🍏"),
                                          ("palm tree", "🌴"), ("ice blocks", "🧊")])
def test_labels_find_their_emoji(label, emoji):
    assert find_emoji(label) == emoji


def _hue_deg(rgb):
    return hls(rgb)[0] * 360


@pytest.mark.parametrize("label,color", [("sneaker", "blue"), ("car", "purple"), ("cup", "blue"), ("envelope", "red"),
                                          ("banana", "red"), ("apple", "green")])
def test_sprites_take_the_plans_colour(label, color):
    sprite = object_sprite(label, color, (256, 256), label)
    got, _share = dominant_color(sprite)
    want = parse_color(color)
    diff = abs((_hue_deg(got) - _hue_deg(want) + 180) % 360 - 180)
    assert diff < 30, (label, color, got)


@pytest.mark.parametrize("label,color,light", [("coffee mug", "white", True),
                                                ("headphones", "black", False)])
def test_achromatic_colours_recolour_lightness(label, color, light):
    sprite = object_sprite(label, color, (256, 256), label)
    arr = np.asarray(sprite, dtype=np.float32)
    body = arr[arr[..., 3] > 200][:, :3]
    # The median pixel is the body (the vector mug shows a wide dark coffee surface too).
    mean = float(np.median(body.mean(axis=1)))
    assert (mean > 170) if light else (mean < 90), mean


def test_unknown_object_becomes_a_labelled_shape():
    assert find_emoji("zorblax gadget") is None
    plan = _plan(elements=(ObjectElement(id="o1", label="zorblax gadget",
                                         box=(0.2, 0.2, 0.8, 0.8)),),
                 bg=Background(kind="transparent"))
    img = DraftRenderer().render(plan).image
    alpha = np.asarray(img.getchannel("A"))
    assert (alpha[300:700, 300:700] == 255).mean() > 0.9
    # The label is written on it: dark or light ink differing from the fill.
    rgb = np.asarray(img.convert("RGB"))[300:700, 300:700].reshape(-1, 3)
    assert len(np.unique(rgb // 32, axis=0)) > 2


def test_same_subject_same_look_across_a_set():
    def plan(seed, box):
        return _plan(seed=seed, bg=Background(kind="transparent"), elements=(
            ObjectElement(id="o1", label="cat", color="gray", subject_id="cat-1", box=box),))

    r = DraftRenderer()
    # Same box size (384 px) at different places, different seeds.
    a = r.render(plan(0, (0.125, 0.125, 0.5, 0.5))).image
    b = r.render(plan(1, (0.5, 0.375, 0.875, 0.75))).image
    crop_a = a.crop(a.getchannel("A").getbbox())
    crop_b = b.crop(b.getchannel("A").getbbox())
    assert crop_a.tobytes() == crop_b.tobytes()


def test_same_plan_same_pixels_and_seed_changes_scene_details():
    scene = Background(kind="scene", scene="night")
    r = DraftRenderer()
    a = r.render(_plan(bg=scene, seed=3)).image
    assert a.tobytes() == r.render(_plan(bg=scene, seed=3)).image.tobytes()
    assert a.tobytes() != r.render(_plan(bg=scene, seed=4)).image.tobytes()


@pytest.mark.parametrize("scene", ["sky", "sunset", "beach", "field", "room", "table", "wall",
                                   "city", "water", "snow", "forest", "desert", "space",
                                   "underwater", "rain", "studio", "farm", "porch", "street",
                                   "mountain", "kitchen", "night"])
def test_every_scene_draws_a_distinct_backdrop(scene):
    img = DraftRenderer().render(_plan((512, 512), Background(kind="scene", scene=scene),
                                       elements=())).image
    arr = np.asarray(img, dtype=np.float32)
    assert arr.std() > 5  # not a flat fill


def test_gradient_runs_between_its_colours():
    bg = Background(kind="gradient", colors=("#000080", "#ffa500"))
    img = DraftRenderer().render(_plan((512, 512), bg, elements=())).image
    top, bottom = img.getpixel((256, 2)), img.getpixel((256, 509))
    assert top[2] > 100 and top[0] < 30 and bottom[0] > 220 and bottom[2] < 30


def test_quality_levels_are_defined_and_shadows_follow_them():
    assert resolve_quality("auto", (1024, 1024)) == resolve_quality("high", (1, 1))
    assert resolve_quality("auto", (3840, 2160)) == resolve_quality("medium", (1, 1))
    el = (ObjectElement(id="o1", label="apple", box=(0.3, 0.3, 0.7, 0.7)),)
    low = DraftRenderer().render(_plan(elements=el, quality="low")).image
    high = DraftRenderer().render(_plan(elements=el, quality="high")).image
    below = (512, int(0.7 * 1024) + 4)  # just under the box: the contact shadow
    assert sum(high.getpixel(below)) < sum(low.getpixel(below)) - 20


def test_reference_image_stands_for_its_object():
    ref = Image.new("RGBA", (64, 32), (10, 200, 30, 255))
    plan = _plan(bg=Background(kind="transparent"), elements=(
        ObjectElement(id="o1", label="logo", reference=0, box=(0.0, 0.0, 1.0, 1.0)),))
    img = DraftRenderer().render(plan, RenderOptions(references=(ref,))).image
    assert img.getpixel((512, 900))[:3] == (10, 200, 30)


def test_draft_path_does_not_import_torch():
    code = ("import sys; from render.draft import DraftRenderer; from planner.schema import Plan;"
            "from render.encode import encode_image; r = DraftRenderer();"
            "p = Plan(); encode_image(r.render(p).image, p, seed=0, renderer='draft',"
            "digital_source_type=r.digital_source_type); assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
