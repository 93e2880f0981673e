"""Layout solver invariants: boxes inside the canvas, counts and stated relations hold by
construction, size rules, determinism, variation with the seed, attachments."""

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.layout import (GROUND_BANDS, contrast_color, ground_instances, place_instances,
                            size_for_aspect, solve)
from planner.scene import Entity, Scene, SceneRelation, TextItem
from planner.schema import MAX_AREA, MAX_SIDE, Background

LABELS = ["cat", "dog", "apple", "tree", "road", "bird", "ice block", "palm tree", "mug"]
TEXTS = ["SALE", "Hello, world!", "欢迎光临", "ありがとう", "김치찌개", "أهلا وسهلا",
         "A much longer headline that has to wrap somewhere", "$5"]
SCRIPTS = {"欢迎光临": "Hans", "ありがとう": "Jpan", "김치찌개": "Kore", "أهلا وسهلا": "Arab"}
FAST = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


def centre(box):
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


@st.composite
def scenes(draw, most=(4, 3)):
    """A Scene whose relations are all true of hidden grid spots, so none contradicts another."""
    n_ent = draw(st.integers(0, most[0]))
    n_txt = draw(st.integers(0 if n_ent else 1, most[1]))
    n = n_ent + n_txt
    side = max(4, n)
    spots = draw(st.lists(st.tuples(st.integers(0, side), st.integers(0, side)), min_size=n,
                          max_size=n, unique=True))
    ents = tuple(Entity(label=draw(st.sampled_from(LABELS)), count=draw(st.integers(1, 6)),
                        color=draw(st.sampled_from([None, "red", "#336699"])))
                 for _ in range(n_ent))
    texts = tuple(TextItem(content=(c := draw(st.sampled_from(TEXTS))),
                           script=SCRIPTS.get(c, "Latn"),
                           role=draw(st.sampled_from(["title", "heading", "label", "body",
                                                      "caption"])))
                  for _ in range(n_txt))
    refs = [f"entity:{i}" for i in range(n_ent)] + [f"text:{i}" for i in range(n_txt)]
    rels = []
    for i, a in enumerate(refs):
        for j, b in enumerate(refs):
            if i != j and draw(st.integers(0, 3)) == 0:
                (xa, ya), (xb, yb) = spots[i], spots[j]
                options = [r for r, ok in (("left of", xa < xb), ("right of", xa > xb),
                                           ("above", ya < yb), ("below", ya > yb),
                                           ("on", ya < yb), ("under", ya > yb)) if ok]
                if options:
                    rels.append(SceneRelation(subject=a, relation=draw(st.sampled_from(options)),
                                              target=b))
    aspect = draw(st.sampled_from([None, (16, 9), (9, 16), (3, 1), (1, 3), (4, 3), (1, 1)]))
    return Scene(prompt="generated", entities=ents, texts=texts, relations=tuple(rels),
                 aspect=aspect)


def expected_holds(plan, scene, rel):
    """Centre comparison for every element of the subject against every one of the target."""
    def elements(ref):
        kind, i = ref.split(":")
        if kind == "text":
            return [plan.texts[int(i)]]      # texts keep the Scene's order
        prefix = "-".join(scene.entities[int(i)].label.split()) + "-"
        start = sum(e.count for e in scene.entities[:int(i)]
                    if e.label == scene.entities[int(i)].label)
        ids = {f"{prefix}{start + k + 1}" for k in range(scene.entities[int(i)].count)}
        return [e for e in plan.objects if e.id in ids]
    axis, sign = {"left of": (0, 1), "right of": (0, -1), "above": (1, 1), "on": (1, 1),
                  "below": (1, -1), "under": (1, -1)}[rel.relation]
    subj, tgt = elements(rel.subject), elements(rel.target)
    return all(sign * (centre(b.box)[axis] - centre(a.box)[axis]) > 0
               for a in subj for b in tgt if a is not b)


@FAST
@given(scenes(), st.integers(0, 10_000))
def test_boxes_counts_and_relations_hold(scene, seed):
    plan = solve(scene, seed=seed)
    for el in plan.elements:
        x0, y0, x1, y1 = el.box
        assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1
    for label in {e.label for e in scene.entities}:
        want = sum(e.count for e in scene.entities if e.label == label)
        assert sum(o.label == label for o in plan.objects) == want
    assert len(plan.texts) == len(scene.texts)
    assert "contradictory" not in plan.reasoning
    for rel in scene.relations:
        assert expected_holds(plan, scene, rel), (rel, plan.reasoning)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenes(most=(14, 6)), st.integers(0, 10_000))
def test_crowded_scenes_stay_valid(scene, seed):
    """Many groups: boxes shrink but stay valid, counts and relations still hold."""
    test_boxes_counts_and_relations_hold.hypothesis.inner_test(scene, seed)


@FAST
@given(scenes(), st.integers(0, 10_000))
def test_no_unintended_overlaps(scene, seed):
    """No two boxes share area when nothing is stated to sit on or in another thing."""
    boxes = [e.box for e in solve(scene, seed=seed).elements]
    for i, p in enumerate(boxes):
        for q in boxes[i + 1:]:
            assert not (p[0] < q[2] and q[0] < p[2] and p[1] < q[3] and q[1] < p[3]), (p, q)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.sampled_from([None, "1K", "2K", "4K"]))
def test_size_rules(a, b, scale):
    w, h = size_for_aspect((a, b), scale)
    assert w % 16 == 0 and h % 16 == 0
    assert max(w, h) / min(w, h) <= 3.0 + 1e-9
    assert w * h <= MAX_AREA and max(w, h) <= MAX_SIDE
    if 1 / 3 <= a / b <= 3:
        assert abs((w / h) / (a / b) - 1) <= 0.03


def test_named_sizes():
    assert size_for_aspect((16, 9)) == (1536, 864)
    assert size_for_aspect((9, 16)) == (864, 1536)
    assert size_for_aspect((3, 1)) == (1536, 512)
    assert size_for_aspect((1, 3)) == (512, 1536)
    assert size_for_aspect(None) == (1024, 1024)
    assert size_for_aspect((16, 9), "4K") == (3840, 2160)
    assert size_for_aspect((1, 1), "4K") == (2880, 2880)   # a 4K square shrinks to the area
    assert size_for_aspect((1, 1), "2K") == (2048, 2048)
    assert size_for_aspect((4, 1)) == (1536, 512)          # clamped to 3:1


def test_explicit_size_and_background_arguments():
    scene = Scene(entities=(Entity(label="cat"),), aspect=(16, 9),
                  background=Background(kind="transparent"))
    assert solve(scene).canvas.width == 1536
    assert solve(scene, size=(512, 1024)).size == (512, 1024)
    assert solve(scene).canvas.background.kind == "transparent"
    assert solve(scene, background="opaque").canvas.background.kind == "color"
    plain = Scene(entities=(Entity(label="cat"),))
    assert solve(plain, background="transparent").transparent


@FAST
@given(scenes())
def test_deterministic_and_varied_by_seed(scene):
    a, b = solve(scene, seed=5), solve(scene, seed=5)
    assert a == b
    others = [solve(scene, seed=s) for s in range(6, 10)]
    assert any(o.elements != a.elements for o in others)
    ids = [e.subject_id for e in a.objects]
    assert all([e.subject_id for e in o.objects] == ids for o in others)


def test_between_splits_the_anchor_and_attachments_stay_inside():
    scene = Scene(entities=(Entity(label="penguin"), Entity(label="ice block", count=2),
                            Entity(label="dog"), Entity(label="sunglasses"),
                            Entity(label="rose", count=4), Entity(label="vase")),
                  relations=(SceneRelation(subject="entity:0", relation="between",
                                           target="entity:1"),
                             SceneRelation(subject="entity:2", relation="wearing",
                                           target="entity:3"),
                             SceneRelation(subject="entity:4", relation="in",
                                           target="entity:5")))
    for seed in range(8):
        plan = solve(scene, seed=seed)
        penguin = centre(next(e for e in plan.objects if e.label == "penguin").box)[0]
        ice = sorted(centre(e.box)[0] for e in plan.objects if e.label == "ice block")
        assert ice[0] < penguin < ice[1]
        dog = next(e for e in plan.objects if e.label == "dog")
        glasses = next(e for e in plan.objects if e.label == "sunglasses")
        assert dog.box[0] <= glasses.box[0] and glasses.box[2] <= dog.box[2]
        assert glasses.z > dog.z
        vase = next(e for e in plan.objects if e.label == "vase")
        roses = [e for e in plan.objects if e.label == "rose"]
        assert all(centre(r.box)[1] < centre(vase.box)[1] for r in roses)


def test_positions_order_groups():
    scene = Scene(entities=(Entity(label="cow", position="left"),
                            Entity(label="pig", position="right"),
                            Entity(label="sun", position="top")),
                  texts=(TextItem(content="FARM", position="bottom"),))
    for seed in range(6):
        plan = solve(scene, seed=seed)
        c = {e.label if e.kind == "object" else e.content: centre(e.box) for e in plan.elements}
        assert c["cow"][0] < c["pig"][0]
        assert c["sun"][1] < c["cow"][1] < c["FARM"][1]


def test_text_boxes_follow_content_and_role():
    scene = Scene(texts=(TextItem(content="BIG TITLE", role="title"),
                         TextItem(content="small label", role="label")))
    plan = solve(scene)
    title, label = plan.texts
    assert (title.box[3] - title.box[1]) > (label.box[3] - label.box[1])
    long = solve(Scene(texts=(TextItem(content="x " * 60, role="body"),)))
    assert long.texts[0].box[2] - long.texts[0].box[0] > 0.5


def test_text_colour_contrasts_with_background():
    dark = solve(Scene(texts=(TextItem(content="Hi"),),
                       background=Background(kind="color", color="navy")))
    light = solve(Scene(texts=(TextItem(content="Hi"),),
                        background=Background(kind="color", color="white")))
    assert dark.texts[0].color == "#ffffff" and light.texts[0].color != "#ffffff"
    assert contrast_color("black") == "#ffffff"
    assert math.isclose(len(contrast_color("#fafafa")), 7)


def test_things_on_others_line_up_and_touch():
    scene = Scene(entities=(Entity(label="cup"), Entity(label="table"), Entity(label="cat")),
                  relations=(SceneRelation(subject="entity:0", relation="on", target="entity:1"),
                             SceneRelation(subject="entity:1", relation="next to",
                                           target="entity:2")))
    for seed in range(8):
        plan = solve(scene, seed=seed)
        cup, table, cat = (next(e for e in plan.objects if e.label == n)
                           for n in ("cup", "table", "cat"))
        assert table.box[0] <= centre(cup.box)[0] <= table.box[2]
        assert abs(cup.box[3] - table.box[1]) < 0.01
        assert (cup.box[2] - cup.box[0]) < (table.box[2] - table.box[0])
        assert centre(cat.box)[0] > table.box[2] or centre(cat.box)[0] < table.box[0]


def test_scenes_from_other_planners():
    """The LLM planner builds Scenes itself: absolute relations (no target), given subject
    ids, unknown refs and huge counts must all give valid plans."""
    scene = Scene(entities=(Entity(label="cat", subject_id="tom"),
                            Entity(label="star", count=100), Entity(label="dog")),
                  relations=(SceneRelation(subject="entity:0", relation="left of"),
                             SceneRelation(subject="entity:2", relation="above"),
                             SceneRelation(subject="entity:7", relation="above",
                                           target="text:3")))
    plan = solve(scene, seed=2, planner="llm")
    assert plan.planner == "llm" and len(plan.objects) == 102
    cat = next(e for e in plan.objects if e.label == "cat")
    dog = next(e for e in plan.objects if e.label == "dog")
    assert cat.subject_id == "tom"
    assert all(centre(cat.box)[0] < centre(e.box)[0] for e in plan.objects if e is not cat)
    assert all(centre(dog.box)[1] < centre(e.box)[1] for e in plan.objects if e is not dog
               and e is not cat)


# --- standing on a scene's ground -----------------------------------------------------------------
GROUND_LABELS = ["cat", "dog", "apple", "tree", "pumpkin", "cow", "mug", "palm tree", "chair"]


@st.composite
def grounded_scenes(draw):
    """Entities side by side (left/right facts only) on a scene with a ground."""
    n = draw(st.integers(1, 4))
    ents = tuple(Entity(label=draw(st.sampled_from(GROUND_LABELS)), count=draw(st.integers(1, 12)))
                 for _ in range(n))
    rels = tuple(SceneRelation(subject=f"entity:{i}", relation="left of", target=f"entity:{i + 1}")
                 for i in range(n - 1) if draw(st.booleans()))
    scene_name = draw(st.sampled_from(sorted(GROUND_BANDS)))
    aspect = draw(st.sampled_from([None, (16, 9), (9, 16), (3, 1), (4, 3)]))
    return Scene(prompt="generated", entities=ents, relations=rels, aspect=aspect,
                 background=Background(kind="scene", scene=scene_name))


@FAST
@given(grounded_scenes(), st.integers(0, 10_000))
def test_things_stand_on_the_scene_ground(scene, seed):
    """On a porch, table, field ... every object's bottom edge lies in the ground band, while
    counts, stated relations and the no-overlap rule still hold."""
    plan = solve(scene, seed=seed)
    top, bottom = GROUND_BANDS[scene.background.scene]
    assert len(plan.objects) == sum(e.count for e in scene.entities)
    for o in plan.objects:
        assert top <= o.box[3] <= bottom, (o.label, o.box, scene.background.scene)
    for rel in scene.relations:
        assert expected_holds(plan, scene, rel)
    boxes = [o.box for o in plan.objects]
    for i, p in enumerate(boxes):
        for q in boxes[i + 1:]:
            assert not (p[0] < q[2] and q[0] < p[2] and p[1] < q[3] and q[1] < p[3]), (p, q)


@FAST
@given(grounded_scenes(), st.integers(0, 10_000))
def test_ground_keeps_vertical_facts(scene, seed):
    """A thing stated above another, a title, and a caption at the bottom keep their order;
    the thing with nothing below it still stands on the ground."""
    ents = scene.entities[:2] if len(scene.entities) > 1 else scene.entities + (
        Entity(label="dog"),)
    s = scene.model_copy(update={
        "entities": ents,
        "texts": (TextItem(content="HARVEST", role="title"),
                  TextItem(content="est. 1990", role="caption", position="bottom")),
        "relations": (SceneRelation(subject="entity:0", relation="above", target="entity:1"),)})
    plan = solve(s, seed=seed)
    for rel in s.relations:
        assert expected_holds(plan, s, rel)
    title, caption = plan.texts
    for o in plan.objects:
        assert centre(title.box)[1] < centre(o.box)[1] < centre(caption.box)[1]


def test_things_of_the_air_fly_and_top_positions_stay_up():
    """A kite on a beach goes above the horizon, the bucket stands on the sand; a thing the
    prompt put at the top stays at the top."""
    band = GROUND_BANDS["beach"]
    beach = Background(kind="scene", scene="beach")
    for seed in range(6):
        plan = solve(Scene(entities=(Entity(label="kite"), Entity(label="bucket")),
                           background=beach), seed=seed)
        boxes = {o.label: o.box for o in plan.objects}
        assert band[0] <= boxes["bucket"][3] <= band[1]
        assert boxes["kite"][3] <= band[0], boxes
        plan = solve(Scene(entities=(Entity(label="crab", position="top"),
                                     Entity(label="bucket")), background=beach), seed=seed)
        boxes = {o.label: o.box for o in plan.objects}
        assert boxes["crab"][3] < band[0] <= boxes["bucket"][3], boxes


def test_no_ground_without_a_ground_scene():
    """Plain, sky and water backdrops keep the free layout (nothing to stand on)."""
    for bg in (None, Background(kind="scene", scene="sky"), Background(kind="scene", scene="water")):
        scene = Scene(entities=(Entity(label="apple", count=5),), background=bg)
        bottoms = {round(o.box[3], 3) for o in solve(scene, seed=1).objects}
        assert len(bottoms) > 1       # jittered in their slots, not lined up on a floor


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 16), st.floats(0.3, 3.0), st.sampled_from(sorted(GROUND_BANDS)),
       st.integers(0, 10_000))
def test_ground_instances_bottoms_in_band(n, aspect, scene_name, seed):
    import random

    band = GROUND_BANDS[scene_name]
    cell = (0.05, 0.05, 0.95, 0.95)
    boxes = ground_instances(cell, band, n, aspect, (1024, 768), random.Random(seed))
    assert len(boxes) == n
    for b in boxes:
        assert band[0] <= b[3] <= min(band[1], cell[3]) + 1e-9 and cell[1] <= b[1]
    assert ground_instances((0.1, 0.05, 0.9, 0.3), band, n, aspect, (1024, 768),
                            random.Random(seed)) is None      # the cell never reaches it


def test_place_instances_uses_rows_when_they_are_larger_and_honours_cols():
    import random

    many = place_instances((0, 0, 1, 1), 12, 1.0, (1024, 1024), random.Random(0), "bottom")
    assert len({round(b[3], 3) for b in many}) > 1 and min(b[2] - b[0] for b in many) > 0.15
    one_row = place_instances((0, 0, 1, 1), 12, 1.0, (1024, 1024), random.Random(0), "bottom",
                              cols=12)
    assert {round(b[3], 6) for b in one_row} == {1.0}


def test_ground_bands_match_the_drawn_backdrops():
    """Every band is a SCENES name the backdrop painter draws, and the painter changes from
    sky or wall to ground where the band starts (mean colour of the band vs the strip just
    above it)."""
    import numpy as np

    from planner.schema import SCENES
    from render.backgrounds import SCENE_PAINTERS, draw_background

    for name, (top, bottom) in GROUND_BANDS.items():
        assert name in SCENES and name in SCENE_PAINTERS and 0 < top < bottom <= 1
        img = np.asarray(draw_background(Background(kind="scene", scene=name), (128, 128),
                                         seed=3).convert("RGB")).astype(float)
        band = img[int((top + 0.01) * 128):int(bottom * 128)].reshape(-1, 3).mean(0)
        above = img[int((top - 0.12) * 128):int((top - 0.02) * 128)].reshape(-1, 3).mean(0)
        assert np.linalg.norm(band - above) > 20, name
