"""`limner plan`: JSON, the readable tree, --schema, and bad input as one line with exit 2."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from limner.cli import main
from planner.schema import Plan

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROMPT = 'A 16:9 YouTube thumbnail that says "TOP 10 TIPS" with a rocket on the left'


def test_plan_json(capsys):
    assert main(["plan", "--json", "--seed", "3", PROMPT]) == 0
    plan = Plan.from_json(capsys.readouterr().out)
    assert plan.size == (1536, 864) and plan.seed == 3
    assert [t.content for t in plan.texts] == ["TOP 10 TIPS"]
    assert [o.label for o in plan.objects] == ["rocket"]


def test_plan_size_option_and_tree(capsys):
    assert main(["plan", "--size", "1024x1536", "two cats and a dog"]) == 0
    out = capsys.readouterr().out
    assert "Plan" in out and "1024x1536" in out
    assert out.count("object") == 3


def test_plan_schema(capsys):
    assert main(["plan", "--schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "elements" in schema["properties"]


@pytest.mark.parametrize("argv, words", [
    (["plan", ""], "prompt must not be empty"),
    (["plan", "--size", "1000x1000", "a cat"], "not divisible by 16"),
    (["plan", "--size", "4000x1008", "a cat"], "maximum side"),
    (["plan", "--size", "2048x512", "a cat"], "outside 1:3..3:1"),
    (["plan", "--size", "huge", "a cat"], "not WxH"),
    (["plan", "--background", "pink", "a cat"], "background must be one of"),
    (["plan", "--bogus", "a cat"], "--bogus"),
])
def test_bad_input_is_one_line_exit_2(capsys, argv, words):
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert words in lines[0] and "Traceback" not in captured.err
    assert captured.out == ""


def test_console_script_and_no_heavy_imports():
    exe = shutil.which("limner")
    cmd = [exe] if exe else [sys.executable, "-m", "limner"]
    run = subprocess.run(cmd + ["plan", "--json", "three red apples"], capture_output=True,
                         text=True, cwd=REPO, timeout=60)
    assert run.returncode == 0, run.stderr
    assert sum(o["label"] == "apple" for o in json.loads(run.stdout)["elements"]) == 3
    code = ("import sys; from limner.cli import main; main(['plan', '--json', 'a cat']); "
            "print(sorted(m for m in ('torch', 'PIL', 'diffusers', 'transformers') "
            "if m in sys.modules), file=sys.stderr)")
    probe = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           cwd=REPO, timeout=60)
    assert probe.returncode == 0, probe.stderr
    assert probe.stderr.strip().splitlines()[-1] == "[]"
