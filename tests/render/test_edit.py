"""render.edit: only the diff's pixels change on the draft renderer; masks; plain images."""

import io

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from PIL import Image

from planner.revise import Move, Selector, apply_ops, revise
from planner.schema import (
    Background, Canvas, ObjectElement, Plan, PlanError, TextElement, box_to_pixels,
)
from render.base import RenderOptions
from render.draft import DraftRenderer
from limner.editing import edit_image
from render.edit import apply_edit, change_mask, load_mask, overlay_plan
from render.references import ImageInputError

VERBS = {
    "add": "add a red umbrella for the cat",
    "remove": "remove the left apple",
    "replace": "replace the cat with a dog",
    "recolor": "make the cat blue",
    "move": "move the cat to the left",
    "resize": "make the green apple bigger",
    "text": "make the title say SPRING SALE",
    "background": "change the background to rainy weather",
    "style": "make it watercolor",
}


def _plan() -> Plan:
    return Plan(seed=2, canvas=Canvas(width=256, height=256), elements=(
        ObjectElement(id="apple-1", box=(0.05, 0.55, 0.22, 0.72), label="apple", color="red",
                      subject_id="apple-1"),
        ObjectElement(id="apple-2", box=(0.3, 0.55, 0.47, 0.72), label="apple",
                      color="green", subject_id="apple-2"),
        ObjectElement(id="cat-1", box=(0.6, 0.4, 0.92, 0.8), label="cat", subject_id="cat-1"),
        TextElement(id="title-1", box=(0.1, 0.04, 0.9, 0.2), content="HELLO", role="title"),
    ))


@pytest.fixture(scope="module")
def draft():
    return DraftRenderer()


@pytest.fixture(scope="module")
def before(draft):
    return draft.render(_plan()).image


@pytest.mark.parametrize("verb", sorted(VERBS))
def test_pixels_outside_the_diff_are_identical(verb, draft, before):
    p0 = _plan()
    p1 = revise(p0, VERBS[verb])
    res = apply_edit(draft, before, p0, p1)
    a, b = np.asarray(before), np.asarray(res.image)
    keep = np.asarray(res.mask) == 0
    assert a.shape == b.shape
    assert np.array_equal(a[keep], b[keep])                 # outside: pixel-exact
    inside = ~keep
    if verb != "style":   # the draft renderer has no styles: only the Plan records it
        assert (a[inside] != b[inside]).any(), verb
    # Inside the mask the result is the new Plan's own render.
    full = np.asarray(draft.render(p1).image)
    assert np.array_equal(b[inside], full[inside])
    if verb not in ("background", "style"):
        assert keep.mean() > 0.2                              # a partial edit stays partial


def test_no_change_keeps_every_pixel(draft, before):
    res = apply_edit(draft, before, _plan(), _plan().model_copy(update={"prompt": "x"}))
    assert res.diff.empty and np.array_equal(np.asarray(res.image), np.asarray(before))


def test_canvas_change_renders_whole(draft, before):
    p1 = revise(_plan(), "make it 16:9")
    res = apply_edit(draft, before, _plan(), p1)
    assert res.image.size == p1.size and res.diff.canvas_changed


def test_user_mask_limits_the_change(draft, before):
    p1 = revise(_plan(), "change the background to rainy weather")
    only_top = Image.new("L", before.size, 0)
    only_top.paste(255, (0, 0, 256, 64))
    res = apply_edit(draft, before, _plan(), p1, mask=only_top)
    a, b = np.asarray(before), np.asarray(res.image)
    assert np.array_equal(a[64:], b[64:]) and (a[:64] != b[:64]).any()


def test_change_mask_covers_old_and_new_boxes_and_meeting_text():
    p0 = _plan()
    p1 = revise(p0, "move the cat to the left")
    m = np.asarray(change_mask(p0, p1)) > 0
    for box in (p0.element("cat-1").box, p1.element("cat-1").box):
        x0, y0, x1, y1 = (int(v * 256) for v in box)
        assert m[y0:y1, x0:x1].all()
    p2 = apply_ops(p0, [Move(target=Selector(label="cat"), dy=-0.35)])   # under the title
    t = p0.element("title-1").box
    assert (np.asarray(change_mask(p0, p2)) > 0)[int(t[1] * 256) + 2, int(t[0] * 256) + 2]


class _Inpainter:
    """A renderer with an inpaint method: records its mask, returns noise everywhere."""

    name = "fake-inpaint"
    digital_source_type = "x"

    def __init__(self):
        self.masks = []

    def render(self, plans, options=None):
        raise AssertionError("an inpainting renderer is asked to inpaint, not render")

    def inpaint(self, image, plan, mask, options):
        self.masks.append(np.asarray(mask) > 0)
        rng = np.random.default_rng(0)
        return Image.fromarray(rng.integers(0, 255, (*image.size[::-1], 3), dtype=np.uint8))


def test_inpainting_renderer_gets_the_diff_mask_and_keeps_the_rest(before):
    fake = _Inpainter()
    p0 = _plan()
    res = apply_edit(fake, before, p0, revise(p0, "make the cat blue"))
    keep = ~fake.masks[0]
    assert np.array_equal(np.asarray(before)[keep], np.asarray(res.image)[keep])
    # A new background is inpainted around the untouched subjects, not over them.
    apply_edit(fake, before, p0, revise(p0, "change the background to a beach"))
    cx0, cy0, cx1, cy1 = (int(v * 256) for v in p0.element("cat-1").box)
    assert not fake.masks[1][cy0:cy1, cx0:cx1].any() and fake.masks[1][250, 5]


def test_subject_keeps_its_look_across_edits(draft):
    # No shadows and no backdrop: the crops hold only the sprite and compare exactly.
    p0 = _plan().model_copy(update={"quality": "low", "canvas": Canvas(
        width=256, height=256, background=Background(kind="transparent")),
        "elements": _plan().elements[2:]})     # the cat and the title
    p1 = apply_ops(p0, [Move(target=Selector(label="cat"), dx=-0.25)])
    p2 = revise(p1, "add a small ball on the left and make the title say BYE")
    crops = []
    for p in (p0, p1, p2):
        x0, y0, x1, y1 = box_to_pixels(p.element("cat-1").box, 256, 256)
        crops.append(np.asarray(draft.render(p).image)[y0:y1, x0:x1])
    assert np.array_equal(crops[0], crops[1]) and np.array_equal(crops[1], crops[2])


# --- images without a Plan ----------------------------------------------------------------

def _photo(size=(240, 160)) -> Image.Image:
    rng = np.random.default_rng(1)
    return Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8))


def _mask_png(size=(240, 160), hole=(120, 0, 240, 160), fmt="PNG", mode="RGBA") -> bytes:
    m = Image.new(mode, size, (0, 0, 0, 255) if mode == "RGBA" else (0, 0, 0))
    if mode == "RGBA":
        m.paste((0, 0, 0, 0), hole)
    buf = io.BytesIO()
    m.save(buf, fmt)
    return buf.getvalue()


def test_plain_image_edit_stays_inside_the_mask(draft):
    photo = _photo()
    res = edit_image(draft, photo, 'add a yellow star and the text "HI"', mask=_mask_png())
    a, b = np.asarray(photo), np.asarray(res.image.convert("RGB"))
    assert res.image.size == photo.size
    assert np.array_equal(a[:, :120], b[:, :120])
    assert (a[:, 120:] != b[:, 120:]).any()
    for el in res.plan.elements:      # planned inside the mask's bounding box
        assert el.box[0] >= 0.5 - 1e-6


def test_plain_image_background_change_fills_only_the_mask(draft):
    photo = _photo()
    res = edit_image(draft, photo, "make the background blue", mask=_mask_png())
    b = np.asarray(res.image.convert("RGB"))
    assert np.array_equal(np.asarray(photo)[:, :120], b[:, :120])
    assert (b[:, 130:, 2] > 200).all() and (b[:, 130:, 0] < 20).all()


def test_mask_errors_are_clear():
    with pytest.raises(ImageInputError, match="mask is 100x100 but the image is 240x160"):
        load_mask(_mask_png(size=(100, 100), hole=(0, 0, 10, 10)), (240, 160))
    with pytest.raises(ImageInputError, match="mask must be a PNG"):
        load_mask(_mask_png(fmt="JPEG", mode="RGB"), (240, 160))
    with pytest.raises(ImageInputError, match="no alpha channel"):
        load_mask(_mask_png(mode="RGB"), (240, 160))
    with pytest.raises(ImageInputError, match="no fully transparent pixels"):
        load_mask(_mask_png(hole=(0, 0, 0, 0)), (240, 160))
    with pytest.raises(ImageInputError, match="not a readable image"):
        load_mask(b"definitely not a png", (240, 160))


def test_overlay_plan_edits_draw_over_the_picture(draft):
    photo = _photo((256, 160))
    p0 = overlay_plan(photo.size)
    p1 = revise(p0, "add a red ball")
    res = apply_edit(draft, photo, p0, p1, RenderOptions())
    a, b = np.asarray(photo), np.asarray(res.image.convert("RGB"))
    keep = np.asarray(res.mask) == 0
    assert np.array_equal(a[keep], b[keep]) and (a[~keep] != b[~keep]).any()
    assert p0.canvas.background == Background(kind="transparent",
                                              description=p0.canvas.background.description)


def test_masked_edits_of_a_photo_accumulate_in_its_overlay_plan():
    import io as _io

    from limner.api import Limner

    lim = Limner()
    photo = _photo((256, 160))
    buf = _io.BytesIO()
    photo.save(buf, "PNG")
    left = _mask_png((256, 160), (0, 0, 128, 160))
    right = _mask_png((256, 160), (128, 0, 256, 160))
    r1 = lim.edit("add a red ball", image=buf.getvalue(), mask=left)
    r2 = lim.edit("add a blue ball", image=r1[0].data, mask=right)
    balls = [e for e in r2.plan.objects if e.label == "ball"]
    assert sorted(e.color for e in balls) == ["blue", "red"]
    assert len({e.id for e in balls}) == 2
    assert balls[0].box[2] <= 0.5 + 1e-6 < balls[1].box[0] + 1e-6 or \
        balls[1].box[2] <= 0.5 + 1e-6 < balls[0].box[0] + 1e-6
    a, b = np.asarray(r1.image.convert("RGB")), np.asarray(r2.image.convert("RGB"))
    assert np.array_equal(a[:, :128], b[:, :128])     # the left half (first ball) is kept


_STEPS = ["add a blue ball", "remove the car", "make the cat green", "move the cat to the left",
          "move the cat down a bit", "make the cat smaller", "replace the cat with a dog",
          "make the title say HI", "add a hat to the cat", "move the title to the bottom",
          "remove the right apple", "make the apples bigger", "swap the cat and the left apple"]


@settings(max_examples=12, deadline=None)
@given(st.lists(st.sampled_from(_STEPS), min_size=1, max_size=3))
def test_any_edit_sequence_keeps_pixels_outside_each_mask(draft, steps):
    plan, image = _plan(), draft.render(_plan()).image
    for ins in steps:
        try:
            nxt = revise(plan, ins)
        except PlanError:
            continue      # its target was removed or replaced by an earlier step
        res = apply_edit(draft, image, plan, nxt)
        keep = np.asarray(res.mask) == 0
        assert np.array_equal(np.asarray(image)[keep], np.asarray(res.image)[keep])
        # Inside the mask: the new Plan's own pixels.
        fresh = np.asarray(draft.render(nxt).image)
        assert np.array_equal(fresh[~keep], np.asarray(res.image)[~keep])
        plan, image = nxt, res.image


def test_a_masked_edit_of_a_limner_image_places_new_things_inside_the_mask(draft, before):
    import io as _io

    from limner.api import Limner

    buf = _io.BytesIO()
    before.save(buf, "PNG")
    hole = (0, 160, 128, 256)                       # bottom-left quarter may change
    res = Limner().edit("add a big red ball at the top right", plan=_plan(),
                        image=buf.getvalue(), mask=_mask_png((256, 256), hole))
    ball = [e for e in res.plan.objects if e.label == "ball"][0]
    x0, y0, x1, y1 = box_to_pixels(ball.box, 256, 256)
    assert x0 >= 0 and y0 >= 160 and x1 <= 128 and y1 <= 256
    a, b = np.asarray(before), np.asarray(res.image)
    outside = np.ones((256, 256), bool)
    outside[160:, :128] = False
    assert np.array_equal(a[outside], b[outside]) and (a[~outside] != b[~outside]).any()
