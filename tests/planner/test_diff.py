"""planner.diff: what changed between two Plans, and which regions to redraw."""

from planner.diff import diff, regions, unchanged_elements
from planner.revise import revise
from planner.schema import Canvas, ObjectElement, Plan, TextElement


def _plan() -> Plan:
    return Plan(canvas=Canvas(width=256, height=256), elements=(
        ObjectElement(id="cat-1", box=(0.1, 0.5, 0.4, 0.9), label="cat", subject_id="cat-1"),
        ObjectElement(id="car-1", box=(0.6, 0.6, 0.9, 0.9), label="car", color="red"),
        TextElement(id="title-1", box=(0.1, 0.05, 0.9, 0.2), content="HELLO"),
    ))


def test_identical_plans_have_an_empty_diff():
    d = diff(_plan(), _plan())
    assert d.empty and not d.full and regions(d, _plan(), _plan()) == []
    assert d.summary() == "no change"
    # The prompt and planner name change no pixel.
    assert diff(_plan(), _plan().model_copy(update={"prompt": "x", "planner": "llm"})).empty


def test_added_removed_changed_and_moved_ids():
    p0 = _plan()
    p1 = revise(p0, "add a ball")
    d = diff(p0, p1)
    assert d.added == ("ball-1",) and not d.removed and not d.changed and not d.full
    d = diff(p0, revise(p0, "remove the car"))
    assert d.removed == ("car-1",) and regions(d, p0, revise(p0, "remove the car")) == [
        p0.element("car-1").box]
    p2 = revise(p0, "move the cat to the right")
    d = diff(p0, p2)
    assert d.changed == ("cat-1",) and d.moved == ("cat-1",)
    assert set(regions(d, p0, p2)) == {p0.element("cat-1").box, p2.element("cat-1").box}
    d = diff(p0, revise(p0, "make the car blue"))
    assert d.changed == ("car-1",) and d.moved == ()
    assert "changed car-1" in d.summary()


def test_global_changes_are_full():
    p0 = _plan()
    for ins, flag in (("make the background blue", "background_changed"),
                      ("make it 16:9", "canvas_changed"), ("make it watercolor", "style_changed")):
        d = diff(p0, revise(p0, ins))
        assert getattr(d, flag) and d.full
        assert regions(d, p0, revise(p0, ins)) == [(0.0, 0.0, 1.0, 1.0)]
    assert diff(p0, p0.model_copy(update={"seed": 9})).other_changed == ("seed",)


def test_unchanged_elements_after_background_change():
    p0 = _plan()
    p1 = revise(p0, "change the background to a beach and make the car blue")
    d = diff(p0, p1)
    assert [e.id for e in unchanged_elements(d, p1)] == ["cat-1", "title-1"]
