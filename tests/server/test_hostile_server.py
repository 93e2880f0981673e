"""Hostile input to the server, the CLI and the Python API (issue 16): every case a user
reported answers with a result or a clear error naming the field, the same way on every
face; and a bounded schemathesis sample from OpenAI's spec finds no 5xx, no hang and no
error outside OpenAI's shape (scripts/fuzz_server.py runs the full campaign)."""

from __future__ import annotations

import base64
import importlib.util
import io
import os
import struct
import sys
import zlib

import httpx
import pytest
from serverkit import decode_b64, png_bytes

from limner.api import Limner, LimnerError
from limner.cli import main as cli_main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def post(server, path, **kw) -> httpx.Response:
    return httpx.post(f"{server.url}{path}", timeout=120, **kw)


def bomb_png(side: int = 20000) -> bytes:
    """A tiny PNG that declares side x side grey pixels (a decompression bomb)."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))
    comp = zlib.compressobj(9)
    row = b"\x00" * (side + 1)
    idat = b"".join(comp.compress(row) for _ in range(64)) + comp.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def test_sign_with_the_texts_is_a_200_not_a_500(server):
    r = post(server, "/v1/images/generations",
             json={"prompt": 'A sign with the texts "ABC"', "size": "256x256"})
    assert r.status_code == 200, r.text
    assert [t["content"] for t in r.json()["data"][0]["limner"]["plan"]["elements"]
            if t["kind"] == "text"] == ["ABC"]


def test_too_many_objects_is_a_fast_400_naming_the_cap(server):
    r = post(server, "/v1/images/generations",
             json={"prompt": "a red apple and a blue cup, " * 740, "size": "256x256"})
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["param"] == "prompt" and "MAX_ELEMENTS" in err["message"]


def test_negative_seed_is_refused_by_cli_python_and_server_alike(server, capsys):
    r = post(server, "/v1/images/generations", json={"prompt": "a cup", "seed": -1})
    assert r.status_code == 400 and r.json()["error"]["param"] == "seed"
    with pytest.raises(LimnerError) as e:
        Limner().plan("a cup", seed=-1)
    assert e.value.param == "seed"
    assert str(e.value) == r.json()["error"]["message"]
    assert cli_main(["plan", "--seed", "-1", "a cup"]) == 2
    assert "seed must be an integer from 0" in capsys.readouterr().err


def test_openai_published_example_is_accepted_with_notes(server):
    body = {"model": "gpt-image-1.5", "prompt": "A cute baby sea otter wearing a beret",
            "n": 1, "size": "256x256", "quality": "high", "style": "vivid",
            "output_format": "png", "output_compression": 100, "user": "user-1234"}
    r = post(server, "/v1/images/generations", json=body)
    assert r.status_code == 200, r.text
    notes = r.json()["limner"]["notes"]
    assert any(n.startswith("style 'vivid' ignored") for n in notes)
    assert any(n.startswith("output_compression ignored") for n in notes)
    # what cannot be honoured is still refused
    for bad, param in (({"style": "loud"}, "style"), ({"response_format": "url"},
                                                      "response_format")):
        r = post(server, "/v1/images/generations", json={"prompt": "a cup", **bad})
        assert r.status_code == 400 and r.json()["error"]["param"] == param


def test_stream_previews_differ_and_carry_their_image_index(server):
    r = post(server, "/v1/images/generations",
             json={"prompt": "a blue cup", "size": "256x256", "n": 2, "stream": True,
                   "partial_images": 2})
    events = [__import__("json").loads(line[6:]) for line in r.text.splitlines()
              if line.startswith("data: ")]
    partials = [e for e in events if e["type"].endswith("partial_image")]
    assert [(e["limner"]["image_index"], e["partial_image_index"]) for e in partials] == [
        (0, 0), (0, 1), (1, 0), (1, 1)]
    first = [e["b64_json"] for e in partials if e["limner"]["image_index"] == 0]
    assert first[0] != first[1]


def test_decompression_bomb_is_refused_by_describe_everywhere(server, tmp_path, capsys):
    data = bomb_png()
    assert len(data) < 100_000
    r = post(server, "/v1/limner/describe", files={"image": ("b.png", data, "image/png")})
    assert r.status_code == 400 and r.json()["error"]["param"] == "image"
    path = tmp_path / "bomb.png"
    path.write_bytes(data)
    assert cli_main(["describe", str(path)]) == 2
    assert "decompression-bomb" in capsys.readouterr().err
    with pytest.raises(LimnerError, match="decompression-bomb"):
        Limner().describe(data)
    r = post(server, "/v1/images/edits", data={"prompt": "make it red"},
             files={"image": ("b.png", data, "image/png")})
    assert r.status_code == 400 and r.json()["error"]["param"].startswith("image")


def test_save_over_an_existing_file_speaks_python(tmp_path):
    img = Limner().generate("a cup", size="64x64")[0]
    target = tmp_path / "a.png"
    img.save(str(target))
    with pytest.raises(FileExistsError, match="overwrite=True"):
        img.save(str(target))


def _fuzz_module():
    spec = importlib.util.spec_from_file_location(
        "fuzz_server", os.path.join(ROOT, "scripts", "fuzz_server.py"))
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod          # its dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def test_schemathesis_sample_finds_no_server_error(server):
    """A bounded sample (~40 requests, positive and negative, generations and multipart
    edits with generated pictures) from OpenAI's spec: no 5xx, no hang, OpenAI's error shape."""
    fuzz = _fuzz_module()
    tally = fuzz.campaign(f"{server.url}/v1", cases=40, seed=1, timeout=60)
    assert tally.cases >= 30
    assert tally.server_errors == 0 and tally.statuses["hang"] == 0
    assert not tally.failures, dict(tally.failures)


def _sleepy(limner, seconds: float) -> str:
    """Work that ignores every cooperative deadline check (stands in for a stuck render)."""
    import time

    time.sleep(seconds)
    return "woke"


def test_a_worker_process_past_its_deadline_is_replaced_alone():
    import time

    from limner.server import KILL_GRACE_SECONDS, ApiError, ProcessWorkers, limner_spec

    workers = ProcessWorkers(1, limner_spec(Limner()))
    try:
        workers.warm_up()
        before = workers.pids()
        t = time.monotonic()
        with pytest.raises(ApiError) as e:
            workers.call(_sleepy, 60, deadline=time.monotonic() + 0.2)
        assert e.value.status == 503 and e.value.code == "deadline_exceeded"
        assert time.monotonic() - t < 0.2 + KILL_GRACE_SECONDS + 10
        assert workers.call(_sleepy, 0) == "woke"          # a fresh process took over
        assert workers.pids() and workers.pids() != before
    finally:
        workers.close(kill=True)


def test_thread_workers_stop_between_images_at_the_deadline():
    import time

    from serverkit import RunningServer

    from limner.server import ServerOptions

    srv = RunningServer(Limner(), ServerOptions(worker_kind="thread", workers=1,
                                                deadline_seconds=0.5, warmup=False))
    try:
        r = post(srv, "/v1/images/generations",
                 json={"prompt": "three red apples", "n": 10, "size": "2048x2048"})
        assert r.status_code == 503, r.text
        assert r.json()["error"]["code"] == "deadline_exceeded"
        assert r.headers["retry-after"]
        t = time.monotonic()
        while srv.service.queue.stats()["running"] and time.monotonic() - t < 10:
            time.sleep(0.05)
        assert srv.service.queue.stats()["running"] == 0     # the worker is free again
    finally:
        srv.stop()


@pytest.mark.parametrize("call,param", [
    (lambda lim: lim.generate(plan={"elements": 5}), "plan"),
    (lambda lim: lim.generate(5), "prompt"),
    (lambda lim: lim.generate("a cup", seed="5"), "seed"),
    (lambda lim: lim.generate("a cup", seed=2**31 - 1, n=2), "seed"),
    (lambda lim: lim.edit("make it red", image=b"garbage"), "image"),
    (lambda lim: lim.describe(5), "image"),
])
def test_python_api_names_the_field_for_bad_input(call, param):
    with pytest.raises(LimnerError) as e:
        call(Limner())
    assert e.value.param == param and str(e.value)
