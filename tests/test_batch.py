"""`limner batch`: reading prompt files, the manifest, resuming, failures, determinism.

Real rules planner and draft renderer at small canvases (256x256, 128x128) to stay fast.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from limner.batch import (BATCH_MAX_N, MANIFEST, BatchOptions, Manifest, check_options,
                          file_sha256, parse_line, read_prompts, run_batch)
from limner.cli import main

PROMPTS = [
    'A poster that says "OPEN" above two red apples',
    "three blue cups on a table",
    "a yellow cat left of a green tree",
    'A sign that reads "CAFE" with a mug',
    "two pink flowers on a transparent background",
    "a rocket in space",
]


def _write(path: Path, lines: list) -> Path:
    path.write_text("".join((json.dumps(x, ensure_ascii=False) if isinstance(x, dict) else x)
                            + "\n" for x in lines), encoding="utf-8")
    return path


def _opts(out: Path, **kw) -> BatchOptions:
    kw.setdefault("size", "256x256")
    return BatchOptions(out_dir=str(out), **kw)


def _latest(out: Path) -> list[dict]:
    return [json.loads(t) for t in (out / MANIFEST).read_text(encoding="utf-8").splitlines()]


def _image_files(out: Path) -> set[str]:
    return {p.name for p in out.iterdir() if p.suffix in (".png", ".jpg", ".webp")}


# --- reading ---------------------------------------------------------------------------------
def test_reads_plain_text_and_jsonl(tmp_path):
    plan = {"prompt": "from a plan", "seed": 9, "canvas": {"width": 128, "height": 128}}
    (tmp_path / "saved.json").write_text(json.dumps(plan), encoding="utf-8")
    f = _write(tmp_path / "p.jsonl", [
        "a plain prompt", "", {"id": "a/b", "prompt": "json one", "n": 3, "seed": 4,
                               "size": "512x512", "quality": "low", "sise": "x"},
        {"prompt": "uses the line number"}, {"plan": "saved.json"}, "{not json",
        {"id": "a_b", "prompt": "same file stem as a/b"}, {"prompt": "x", "n": 0},
        {"prompt": 5}, {"prompt": "both", "size": "512x512", "plan": plan}])
    notes = []
    items = list(read_prompts(f, _opts(tmp_path, seed=2, n=2), warn=notes.append))
    assert [it.line for it in items] == [1, 3, 4, 5, 6, 7, 8, 9, 10]
    plain, js, numbered, from_plan, bad, dup, zero, typed, both = items
    assert (plain.id, plain.prompt, plain.seed, plain.n, plain.size) == (
        "1", "a plain prompt", 2, 2, "256x256")
    assert (js.id, js.stem, js.n, js.seed, js.size, js.quality) == (
        "a/b", "a_b", 3, 4, "512x512", "low")
    assert numbered.id == "4" and numbered.error is None
    assert from_plan.plan == plan and from_plan.seed == 9 and from_plan.prompt == "from a plan"
    assert "not valid JSON" in bad.error and "line 6" in bad.error
    assert "already used on line 3" in dup.error
    assert "n must be from 1" in zero.error
    assert "prompt must be a string" in typed.error
    assert "size or plan" in both.error
    assert len(notes) == 1 and "sise" in notes[0]


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=60) | st.dictionaries(
    st.sampled_from(["id", "prompt", "size", "seed", "n", "plan", "quality", "zz"]),
    st.none() | st.integers(-3, 2000) | st.text(max_size=8) | st.booleans()
    | st.dictionaries(st.sampled_from(["seed", "prompt"]),
                      st.integers(-2, 3) | st.text(max_size=3) | st.booleans()), max_size=6
).map(json.dumps))
def test_parse_line_never_raises(text):
    """Any line becomes an item: either runnable (prompt, n in range) or carrying its error."""
    text = text.replace("\n", " ").replace("\r", " ")
    item = parse_line(text, 7, BatchOptions(out_dir="x"))
    assert item.line == 7
    if item.error is None:
        assert isinstance(item.prompt, str) and 1 <= item.n <= BATCH_MAX_N
        assert isinstance(item.seed, int) and item.seed >= 0
        assert "/" not in item.stem and item.stem


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 12), min_size=1, max_size=6), st.data())
def test_pending_units_cover_exactly_what_is_not_done(sizes, data):
    """Units are contiguous runs, never overlap, and cover every image not done, once."""
    from limner.batch import BatchItem, pending_units

    items = [BatchItem(line=i + 1, id=f"i{i}", prompt="p", n=n) for i, n in enumerate(sizes)]
    every = [(it.id, k) for it in items for k in range(it.n)]
    done = set(data.draw(st.lists(st.sampled_from(every), unique=True)))
    units, skipped = pending_units(items, done)
    covered = [(u.item.id, u.start + k) for u in units for k in range(u.count)]
    assert sorted(covered) == sorted(set(every) - done) and len(covered) == len(set(covered))
    assert skipped == len(done)
    for u in units:  # maximal runs: the image before a unit is done (or it is the first)
        assert u.count >= 1 and (u.start == 0 or (u.item.id, u.start - 1) in done)


def test_bad_options_are_one_line_exit_2(tmp_path, capsys):
    f = _write(tmp_path / "p.txt", ["a cat"])
    for args, needle in ((["--size", "100x100"], "not divisible by 16"),
                         (["--workers", "0"], "--workers"), (["--format", "gif"], "--format"),
                         (["-n", "0"], "-n must be")):
        assert main(["batch", str(f), "--out", str(tmp_path / "o"), *args]) == 2
        err = capsys.readouterr().err
        assert needle in err and len(err.strip().splitlines()) == 1
    assert main(["batch", str(tmp_path / "nope.txt"), "--out", str(tmp_path / "o")]) == 2
    assert "no such file" in capsys.readouterr().err


# --- running ---------------------------------------------------------------------------------
def test_batch_writes_files_and_manifest(tmp_path, capsys):
    from limner.api import Limner
    from render.encode import read_plan

    f = _write(tmp_path / "p.txt", PROMPTS[:2] + [json.dumps({"id": "two", "prompt": PROMPTS[2],
                                                              "n": 2, "seed": 11})])
    out = tmp_path / "out"
    assert main(["batch", str(f), "--out", str(out), "--size", "256x256", "--no-progress"]) == 0
    assert "done 4, skipped 0, failed 0" in capsys.readouterr().out
    rows = _latest(out)
    assert _image_files(out) == {"1-0.png", "2-0.png", "two-0.png", "two-1.png"}
    assert {r["file"] for r in rows} == _image_files(out)
    for r in rows:
        assert r["error"] is None and file_sha256(out / r["file"]) == r["sha256"]
        plan = read_plan(str(out / r["file"]))
        assert plan is not None and plan.size == (256, 256) and plan.seed == r["seed"]
    two = {r["index"]: r for r in rows if r["id"] == "two"}
    assert (two[0]["seed"], two[1]["seed"]) == (11, 12)
    # a line in a batch gives the same bytes as the same request alone
    alone = Limner().generate(PROMPTS[2], n=2, size="256x256", seed=11)
    assert [img.data for img in alone.images] == [(out / f"two-{i}.png").read_bytes()
                                                  for i in range(2)]
    # and image 1 on its own (what a resume renders when only it is missing) is the same
    second = Limner().generate(PROMPTS[2], size="256x256", seed=12)
    assert second.images[0].data == (out / "two-1.png").read_bytes()


def test_failing_lines_are_recorded_and_the_batch_goes_on(tmp_path, monkeypatch, capsys):
    """Bad size, unreadable line, invalid plan, a moderation refusal and an unexpected crash
    in the renderer: each is a manifest row with its error; the good lines are done; exit 1."""
    import limner.batch as batch

    real = batch.make_limner

    def flaky_limner(opts):
        lim = real(opts)
        generate = lim.generate

        def wrapped(prompt=None, **kw):
            if prompt == "crash me":
                raise RuntimeError("renderer fell over")
            return generate(prompt, **kw)

        lim.generate = wrapped
        return lim

    monkeypatch.setattr(batch, "make_limner", flaky_limner)
    f = _write(tmp_path / "p.jsonl", [
        {"id": "ok1", "prompt": PROMPTS[0]}, {"id": "size", "prompt": "x", "size": "100x100"},
        "{broken", {"id": "plan", "plan": {"canvas": {"width": 7}}},
        {"id": "mod", "prompt": "gory scene with blood splatter and severed limbs"},
        {"id": "boom", "prompt": "crash me"},
        {"id": "ok2", "prompt": PROMPTS[1], "n": 2}])
    out = tmp_path / "out"
    assert main(["batch", str(f), "--out", str(out), "--size", "256x256", "--no-progress"]) == 1
    assert "done 3, skipped 0, failed 5 images on 5 lines" in capsys.readouterr().out
    rows = {r["id"]: r for r in _latest(out)}
    assert rows["size"]["code"] == "invalid_size" and "divisible by 16" in rows["size"]["error"]
    assert rows["3"]["code"] == "bad_line" and "not valid JSON" in rows["3"]["error"]
    assert rows["plan"]["code"] == "invalid_plan"
    assert rows["mod"]["code"] == "moderation_blocked"
    assert rows["boom"]["code"] == "RuntimeError" and "fell over" in rows["boom"]["error"]
    assert _image_files(out) == {"ok1-0.png", "ok2-0.png", "ok2-1.png"}


def test_rerun_skips_verified_and_redoes_missing_or_corrupted(tmp_path):
    f = _write(tmp_path / "p.txt", PROMPTS)
    out = tmp_path / "out"
    first = run_batch(f, _opts(out), progress=False)
    assert (first.done, first.skipped, first.exit_code) == (6, 0, 0)
    good = {name: (out / name).read_bytes() for name in _image_files(out)}
    (out / "2-0.png").write_bytes(good["2-0.png"][:100])     # partial
    (out / "4-0.png").unlink()                                # missing
    data = bytearray(good["5-0.png"])
    data[len(data) // 2] ^= 0xFF                              # same size, one byte changed
    (out / "5-0.png").write_bytes(bytes(data))
    with open(out / MANIFEST, "a", encoding="utf-8") as fh:   # a torn row from a kill
        fh.write('{"id": "6", "index": 0, "fi')
    mtime = (out / "1-0.png").stat().st_mtime_ns
    second = run_batch(f, _opts(out), progress=False)
    assert (second.done, second.skipped, second.exit_code) == (3, 3, 0)
    assert {name: (out / name).read_bytes() for name in _image_files(out)} == good
    assert (out / "1-0.png").stat().st_mtime_ns == mtime      # verified files are not touched
    rows = _latest(out)
    assert sorted((r["id"], r["index"]) for r in rows) == [(str(i), 0) for i in range(1, 7)]
    third = run_batch(f, _opts(out), progress=False)
    assert (third.done, third.skipped) == (0, 6)


def test_changed_request_is_redone(tmp_path):
    out = tmp_path / "out"
    f = _write(tmp_path / "p.jsonl", [{"id": "a", "prompt": PROMPTS[1]},
                                      {"id": "b", "prompt": PROMPTS[2]}])
    run_batch(f, _opts(out), progress=False)
    before = (out / "b-0.png").read_bytes()
    _write(f, [{"id": "a", "prompt": PROMPTS[1]}, {"id": "b", "prompt": PROMPTS[3]}])
    s = run_batch(f, _opts(out), progress=False)
    assert (s.done, s.skipped) == (1, 1)
    assert (out / "b-0.png").read_bytes() != before
    assert [r["prompt"] for r in _latest(out) if r["id"] == "b"] == [PROMPTS[3]]


def test_one_worker_and_two_workers_give_the_same_bytes(tmp_path):
    lines = [{"id": f"p{i}", "prompt": PROMPTS[i % len(PROMPTS)], "seed": i, "n": 1 + i % 2}
             for i in range(8)]
    f = _write(tmp_path / "p.jsonl", lines)
    one, two = tmp_path / "one", tmp_path / "two"
    s1 = run_batch(f, _opts(one, workers=1), progress=False)
    s2 = run_batch(f, _opts(two, workers=2), progress=False)
    assert s1.done == s2.done == 12 and s1.exit_code == s2.exit_code == 0
    assert _image_files(one) == _image_files(two)
    for name in _image_files(one):
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    key = lambda r: (r["id"], r["index"])  # noqa: E731
    # rows differ only in how long an image took and which process made it
    strip = lambda r: {k: v for k, v in r.items()  # noqa: E731
                       if k not in ("seconds", "worker")}
    assert sorted(map(strip, _latest(one)), key=key) == sorted(map(strip, _latest(two)), key=key)


def test_killed_batch_resumes_with_nothing_lost_and_no_duplicates(tmp_path):
    """kill -9 the CLI once some images exist, rerun: every image once, all verified."""
    lines = [{"id": f"k{i:02d}", "prompt": PROMPTS[i % len(PROMPTS)], "seed": i}
             for i in range(40)]
    f = _write(tmp_path / "p.jsonl", lines)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "limner", "batch", str(f), "--out", str(out), "--size",
           "256x256", "--no-progress", "--workers", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if (out / MANIFEST).exists() and len(_latest_lines(out)) >= 6:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the batch ended before it could be killed: " + \
        proc.stderr.read().decode()[-500:]
    children = _children(proc.pid)  # the worker processes (and multiprocessing's tracker)
    assert len(children) >= 2
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    gone_by = time.monotonic() + 15  # orphaned workers notice and exit, nothing keeps going
    while time.monotonic() < gone_by and any(map(_alive, children)):
        time.sleep(0.1)
    assert not any(map(_alive, children)), "worker processes outlived the killed batch"
    rows_at_kill = _latest_lines(out)
    assert 6 <= len(rows_at_kill) < 40
    for r in rows_at_kill:  # every row written before the kill points at a whole file
        assert file_sha256(out / r["file"]) == r["sha256"]
    s = run_batch(f, _opts(out), progress=False)
    assert s.skipped >= len(rows_at_kill) and s.done + s.skipped == 40 and s.exit_code == 0
    rows = _latest(out)
    assert sorted(r["id"] for r in rows) == [f"k{i:02d}" for i in range(40)]
    assert {r["file"] for r in rows} == _image_files(out)
    assert all(Manifest(out).verified(r) for r in rows)
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
    from limner.api import Limner

    for i in (0, 17, 39):  # and the bytes are those of the request made alone
        alone = Limner().generate(lines[i]["prompt"], size="256x256", seed=i)
        assert alone.images[0].data == (out / f"k{i:02d}-0.png").read_bytes()


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as f:
        return [int(x) for x in f.read().split()]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is gone
    except FileNotFoundError:
        return False


def _latest_lines(out: Path) -> list[dict]:
    """Manifest rows that parse (a kill may leave a torn last line)."""
    rows = []
    for text in (out / MANIFEST).read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(text))
        except ValueError:
            pass
    return rows


def test_second_batch_on_the_same_directory_is_refused(tmp_path):
    from limner.api import LimnerError
    from limner.batch import _dir_lock

    f = _write(tmp_path / "p.txt", ["a cat"])
    out = tmp_path / "out"
    out.mkdir()
    with _dir_lock(out):
        with pytest.raises(LimnerError, match="another limner batch"):
            run_batch(f, _opts(out), progress=False)
    assert run_batch(f, _opts(out), progress=False).done == 1


def test_check_options_normalises_size(tmp_path):
    f = _write(tmp_path / "p.txt", ["a cat"])
    assert check_options(f, _opts(tmp_path, size=" 512X256")).size == "512x256"
    assert check_options(f, _opts(tmp_path, size="auto")).size is None


def test_lines_name_reference_images_as_generate_r_does(tmp_path):
    """``references`` on a line: image paths relative to the prompt file, read as
    ``generate -r`` reads them (same bytes as the API call), with the same guards: at most
    16, files that exist, pictures that open."""
    from PIL import Image

    from limner.api import Limner

    (tmp_path / "r").mkdir()
    for name, colour in (("a.png", (230, 20, 20)), ("b.png", (20, 20, 230))):
        im = Image.new("RGB", (64, 64), (255, 255, 255))
        im.paste(colour, (16, 16, 48, 48))
        im.save(tmp_path / "r" / name)
    (tmp_path / "r" / "bad.png").write_text("not an image")
    prompt = "put the bottle from image 1 next to the cup from image 2 on a table"
    f = _write(tmp_path / "p.jsonl", [
        {"id": "refs", "prompt": prompt, "references": ["r/a.png", "r/b.png"], "seed": 3},
        {"id": "many", "prompt": "these products", "references": ["r/a.png"] * 17},
        {"id": "missing", "prompt": "the cup from image 1", "references": ["r/nope.png"]},
        {"id": "type", "prompt": "the cup from image 1", "references": "r/a.png"},
        {"id": "bad", "prompt": "the cup from image 1", "references": ["r/bad.png"]}])
    items = {i.id: i for i in read_prompts(f, _opts(tmp_path / "out"))}
    assert items["refs"].references == (str(tmp_path / "r" / "a.png"),
                                        str(tmp_path / "r" / "b.png"))
    assert "at most 16" in items["many"].error and "no such file" in items["missing"].error
    assert "list of image file paths" in items["type"].error
    out = tmp_path / "out"
    assert main(["batch", str(f), "--out", str(out), "--size", "256x256", "--no-progress"]) == 1
    rows = {r["id"]: r for r in _latest(out)}
    assert rows["refs"]["error"] is None
    assert "references[0]" in rows["bad"]["error"]
    alone = Limner().generate(prompt, size="256x256", seed=3,
                              references=[str(tmp_path / "r" / n) for n in ("a.png", "b.png")])
    assert alone.images[0].data == (out / "refs-0.png").read_bytes()
    assert sorted(e.reference for e in alone.images[0].plan.objects
                  if e.reference is not None) == [0, 1]
    # a changed reference file makes the line new
    opts = _opts(out)
    before = items["refs"].request_hash(opts)
    Image.new("RGB", (64, 64), (0, 200, 0)).save(tmp_path / "r" / "a.png")
    assert items["refs"].request_hash(opts) != before
