"""render.session: journalled turns, replay, undo/redo, crash safety, resume."""

import json
import shutil

import pytest

from limner.api import Limner
from planner.schema import Canvas, ObjectElement, Plan, TextElement
from render.session import (
    JOURNAL, Session, SessionError, edit_turn, session_dir, start_from_image,
)

EDITS = ["make the cat blue", "add a red ball on the left", "move the cat to the right",
         "make the ball bigger", "make the title say SPRING SALE", "add two stars at the top",
         "remove the left star", "replace the ball with a box", "make the box green",
         "make it 16:9"]


def _plan() -> Plan:
    return Plan(seed=1, quality="low", canvas=Canvas(width=256, height=256), elements=(
        ObjectElement(id="cat-1", box=(0.55, 0.4, 0.85, 0.8), label="cat", subject_id="cat-1"),
        TextElement(id="title-1", box=(0.1, 0.05, 0.9, 0.2), content="HELLO", role="title"),
    ))


@pytest.fixture(scope="module")
def start_png() -> bytes:
    return Limner().generate(plan=_plan())[0].data


def _state(s: Session) -> tuple:
    return (s.turns, s.head, s.redo_stack, s.references,
            [(s.plan(t), s.image_bytes(t)) for t in s.turns.values()])


def test_ten_turn_session_replays_from_disk_and_resumes_exactly(tmp_path, start_png):
    lim = Limner()
    live = Session.open(tmp_path / "s", create=True)
    start_from_image(live, start_png)
    for ins in EDITS:
        edit_turn(lim, live, ins)
    assert len(live.turns) == 11 and live.current.n == 11
    assert live.plan().size != (256, 256)        # the last turn changed the aspect
    replayed = Session.open(tmp_path / "s")
    assert _state(replayed) == _state(live)
    # Resume: the next turn from the reopened copy equals the next turn of the live one.
    shutil.copytree(tmp_path / "s", tmp_path / "copy")
    t_live = edit_turn(lim, live, "make the cat red")
    t_copy = edit_turn(lim, Session.open(tmp_path / "copy"), "make the cat red")
    assert t_live == t_copy
    assert live.image_bytes(t_live) == Session.open(tmp_path / "copy").image_bytes(t_copy)


def test_undo_redo_and_branching(tmp_path, start_png):
    lim = Limner()
    s = Session.open(tmp_path / "s", create=True)
    first = start_from_image(s, start_png)
    with pytest.raises(SessionError, match="nothing to undo"):
        s.undo()
    t2 = edit_turn(lim, s, "make the cat blue")
    t3 = edit_turn(lim, s, "add a ball")
    assert s.undo() == t2 and s.undo() == first
    assert s.redo() == t2
    assert Session.open(s.path).current == t2        # undo state survives a reopen
    assert Session.open(s.path).redo_stack == [t3.n]
    t4 = edit_turn(lim, s, "make the cat green")     # a new branch from turn 2
    assert t4.parent == t2.n and s.plan().element("cat-1").color == "green"
    with pytest.raises(SessionError, match="nothing to redo"):
        s.redo()
    states = dict((t.n, st) for t, st in s.history())
    assert states == {1: "active", 2: "active", 3: "dropped", 4: "current"}
    assert [t.n for t in s.branch()] == [1, 2, 4]


def test_crash_mid_turn_loses_nothing_saved(tmp_path, start_png, monkeypatch):
    import render.encode

    lim = Limner()
    s = Session.open(tmp_path / "s", create=True)
    start_from_image(s, start_png)
    saved = edit_turn(lim, s, "make the cat blue")
    real = render.encode.write_atomic
    calls = []

    def dying(path, data, overwrite=False):
        calls.append(path)
        if str(path).endswith(".png") and "turns" in str(path):
            real(str(path) + ".partial", data[: len(data) // 2], overwrite=True)
            raise OSError("disk died mid-write")
        return real(path, data, overwrite=overwrite)

    monkeypatch.setattr(render.encode, "write_atomic", dying)
    with pytest.raises(OSError, match="disk died"):
        edit_turn(lim, s, "add a ball")
    monkeypatch.setattr(render.encode, "write_atomic", real)
    assert any(str(c).endswith("0003.plan.json") for c in calls)   # the plan file was written
    again = Session.open(s.path)
    assert again.current == saved and len(again.turns) == 2
    assert again.plan().element("cat-1").color == "blue"
    # Resume: the next turn takes number 3 and overwrites the orphaned plan file.
    t3 = edit_turn(lim, again, "add a ball")
    assert t3.n == 3 and len(Session.open(s.path).plan().objects) == 2


def test_torn_journal_line_is_ignored_then_repaired(tmp_path, start_png):
    s = Session.open(tmp_path / "s", create=True)
    first = start_from_image(s, start_png)
    with open(s.path / JOURNAL, "ab") as fh:
        fh.write(b'{"event": "turn", "turn": {"n": 2')     # a crash mid-append
    again = Session.open(s.path)
    assert again.current == first and list(again.turns) == [1]
    t2 = edit_turn(Limner(), again, "make the cat blue")
    lines = (s.path / JOURNAL).read_text().splitlines()
    assert [json.loads(x)["turn"]["n"] for x in lines] == [1, 2] and t2.n == 2


def test_tampered_files_and_bad_names_are_clear_errors(tmp_path, start_png):
    s = Session.open(tmp_path / "s", create=True)
    t = start_from_image(s, start_png)
    (s.path / t.image_file).write_bytes(b"x")
    with pytest.raises(SessionError, match="checksum"):
        s.image_bytes(t)
    with pytest.raises(SessionError, match="session name"):
        session_dir("../etc")
    with pytest.raises(SessionError, match="no session at"):
        Session.open(tmp_path / "missing")
    with pytest.raises(SessionError, match="already has 1 turns"):
        start_from_image(s, start_png)


def test_two_writers_never_reuse_a_turn_number(tmp_path, start_png):
    a = Session.open(tmp_path / "s", create=True)
    start_from_image(a, start_png)
    b = Session.open(tmp_path / "s")
    ta = edit_turn(Limner(), a, "make the cat blue")
    tb = edit_turn(Limner(), b, "make the cat green")   # b re-reads the journal first
    assert (ta.n, tb.n) == (2, 3) and tb.parent == 2


def test_references_are_kept_with_the_session(tmp_path, start_png):
    import io

    from PIL import Image

    def png(colour):
        buf = io.BytesIO()
        Image.new("RGB", (16, 16), colour).save(buf, "PNG")
        return buf.getvalue()

    lim = Limner()
    s = Session.open(tmp_path / "s", create=True)
    start_from_image(s, start_png)
    edit_turn(lim, s, "add the lamp from reference 1", references=[png((200, 0, 0))])
    t3 = edit_turn(lim, s, "add this vase", references=[png((0, 0, 200))])
    again = Session.open(s.path)
    assert again.reference_bytes() == [png((200, 0, 0)), png((0, 0, 200))]
    refs = {e.label: e.reference for e in again.plan(t3).objects}
    assert refs["lamp"] == 0 and refs["vase"] == 1     # "this" is the new, unused reference
    with pytest.raises(SessionError, match="at most 16 references"):
        edit_turn(lim, again, "add a cup", references=[png((1, 1, 1))] * 15)
