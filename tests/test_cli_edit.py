"""CLI: limner edit (file, mask, session), history, undo, redo; errors are one line, exit 2."""

import io

import numpy as np
import pytest
from PIL import Image

from limner.api import Limner
from limner.cli import main
from planner.schema import Canvas, ObjectElement, Plan, TextElement
from render.encode import read_plan


@pytest.fixture()
def start(tmp_path):
    plan = Plan(quality="low", canvas=Canvas(width=256, height=256), elements=(
        ObjectElement(id="cat-1", box=(0.55, 0.4, 0.85, 0.8), label="cat", subject_id="cat-1"),
        TextElement(id="title-1", box=(0.1, 0.05, 0.9, 0.2), content="HELLO", role="title"),
    ))
    path = tmp_path / "start.png"
    Limner().generate(plan=plan)[0].save(str(path))
    return path


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_edit_a_limner_file(tmp_path, start, capsys):
    code, out, err = _run(capsys, "edit", str(start), "make the cat blue", "-o",
                          str(tmp_path / "blue.png"))
    assert code == 0, err
    assert read_plan(str(tmp_path / "blue.png")).element("cat-1").color == "blue"
    code, out, _ = _run(capsys, "edit", str(start), "make the title say BYE")
    assert code == 0 and (tmp_path / "start-edit.png").exists()
    code, _, err = _run(capsys, "edit", str(start), "make the title say BYE")
    assert code == 2 and "exists" in err and len(err.strip().splitlines()) == 1


def test_edit_a_plain_image_with_a_mask(tmp_path, capsys):
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (160, 240, 3), np.uint8)).save(tmp_path / "p.png")
    mask = Image.new("RGBA", (240, 160), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (120, 0, 240, 160))
    mask.save(tmp_path / "m.png")
    code, _, err = _run(capsys, "edit", str(tmp_path / "p.png"), 'add the text "HI"',
                        "--mask", str(tmp_path / "m.png"), "-o", str(tmp_path / "o.png"))
    assert code == 0, err
    a = np.asarray(Image.open(tmp_path / "p.png").convert("RGB"))
    b = np.asarray(Image.open(tmp_path / "o.png").convert("RGB"))
    assert np.array_equal(a[:, :120], b[:, :120]) and (a[:, 120:] != b[:, 120:]).any()
    Image.new("RGBA", (10, 10)).save(tmp_path / "small.png")
    code, _, err = _run(capsys, "edit", str(tmp_path / "p.png"), "add a cat", "--mask",
                        str(tmp_path / "small.png"), "-o", str(tmp_path / "o2.png"))
    assert code == 2 and "mask is 10x10 but the image is 240x160" in err


def test_session_turns_history_undo_redo(tmp_path, start, capsys):
    sd = str(tmp_path / "sess")
    code, out, err = _run(capsys, "edit", "--session-dir", sd, str(start), "make the cat blue")
    assert code == 0 and "turn 2 (edit)" in out and "changed cat-1" in out, err
    code, out, _ = _run(capsys, "edit", "--session-dir", sd, "add a red ball on the left")
    assert code == 0 and "turn 3" in out and "added ball-1" in out
    code, out, _ = _run(capsys, "undo", "--session-dir", sd)
    assert code == 0 and out.startswith("turn 2")
    code, out, _ = _run(capsys, "history", "--session-dir", sd)
    lines = out.strip().splitlines()
    assert lines[1].startswith("*") and "(undone)" in lines[2]
    code, out, _ = _run(capsys, "redo", "--session-dir", sd)
    assert code == 0 and out.startswith("turn 3")
    code, _, err = _run(capsys, "redo", "--session-dir", sd)
    assert code == 2 and err.strip() == "limner: error: nothing to redo"


def test_named_session_from_a_prompt_lives_under_limner_home(_limner_home, capsys):
    code, out, err = _run(capsys, "edit", "--session", "poster", "--new",
                          'A poster with the title "SUMMER" above a red ball')
    assert code == 0 and "turn 1 (new)" in out, err
    code, out, err = _run(capsys, "edit", "--session", "poster", "make the title say WINTER")
    assert code == 0, err
    turn2 = _limner_home / "sessions" / "poster" / "turns" / "0002.png"
    assert [t.content for t in read_plan(str(turn2)).texts] == ["WINTER"]


def test_session_errors_are_one_line_exit_2(tmp_path, capsys):
    for argv, needle in (
        (("edit", "--session", "nope", "make it blue"), "no session at"),
        (("edit", "--session", "../x", "make it blue"), "session name"),
        (("undo", "--session", "nope"), "no session at"),
        (("edit", "--session-dir", str(tmp_path / "s"), "--new"), "one PROMPT"),
        (("edit", str(tmp_path / "missing.png"), "add a cat"), "no such file"),
    ):
        code, _, err = _run(capsys, *argv)
        assert code == 2 and needle in err and len(err.strip().splitlines()) == 1, (argv, err)
