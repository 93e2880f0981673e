"""Keying: a planned key colour far from the objects, alpha with soft refined edges."""

import numpy as np
from PIL import Image, ImageDraw

from planner.schema import Background, Canvas, ObjectElement, Plan
from render.keying import KEYS, extract_alpha, key_for, plan_on_key, trimap_background


def plan_with(*colours):
    els = tuple(ObjectElement(id=f"o{i}", box=(0.3, 0.3, 0.7, 0.7), label="ball", color=c)
                for i, c in enumerate(colours))
    return Plan(canvas=Canvas(width=64, height=64, background=Background(kind="transparent")),
                elements=els)


def test_key_avoids_object_colours():
    assert key_for(plan_with("green"))[1] != "green"
    assert key_for(plan_with("magenta", "green"))[1] == "blue"
    assert key_for(plan_with("red"))[0] in [k for k, _ in KEYS]


def test_plan_on_key_sets_a_flat_background():
    p = plan_on_key(plan_with("red"), (0, 177, 64))
    assert p.canvas.background.kind == "color" and p.canvas.background.color == "#00b140"
    assert p.elements == plan_with("red").elements


def disc_on_key(key, size=64, supersample=4):
    big = Image.new("RGB", (size * supersample,) * 2, key)
    ImageDraw.Draw(big).ellipse([s * supersample for s in (20, 20, 44, 44)], fill=(220, 30, 30))
    return big.resize((size, size), Image.LANCZOS)   # antialiased edge: mixed pixels


def test_alpha_from_a_keyed_render():
    key = (0, 177, 64)
    # the model never draws the key exactly: shift it a little
    image = Image.fromarray(np.clip(np.asarray(disc_on_key(key), int) + (6, -8, 5), 0, 255)
                            .astype(np.uint8))
    out = extract_alpha(image, key, trimap_background(plan_with("red"), image.size))
    a = np.asarray(out)[..., 3]
    assert out.mode == "RGBA"
    assert a[:8, :8].max() == 0 and a[30:34, 30:34].min() == 255
    edge = a[32, 16:24]
    assert ((edge > 0) & (edge < 255)).any()               # a soft edge, not a hard cut
    # decontaminated: semi-transparent pixels carry the object's red, not the key's green
    rgb = np.asarray(out)[..., :3].astype(int)
    partial = (a > 40) & (a < 215)
    assert partial.any() and (rgb[partial][:, 0] > rgb[partial][:, 1]).all()


def test_trimap_keeps_an_unknown_band_around_boxes():
    sure = trimap_background(plan_with("red"), (64, 64))
    assert sure[0, 0] and not sure[32, 32]
    assert not sure[32, 18]    # just outside the box: the model may overflow it
