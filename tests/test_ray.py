"""limner on Ray: `limner batch --ray` on a local Ray instance, killed and resumed, equals a
local batch byte for byte; `--ray` without Ray says what to install; `limner serve --ray`
answers OpenAI requests. One local Ray instance (2 CPUs) serves the whole module."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from limner.batch import MANIFEST, BatchOptions, Manifest, run_batch
from limner.cli import main

PROMPTS = [
    'A poster that says "RAY" above two red apples',
    "three blue cups on a table",
    "a yellow cat left of a green tree",
    'A sign that reads "CAFE" with a mug',
    "two pink flowers",
    "a rocket in space",
    "a green car under a blue sky",
]


def _write(path: Path, lines: list[dict]) -> Path:
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return path


def _rows(out: Path) -> list[dict]:
    rows = []
    for text in (out / MANIFEST).read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(text))
        except ValueError:  # a torn last line after a kill
            pass
    return rows


def _images(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in out.iterdir() if p.suffix == ".png"}


def test_ray_missing_says_what_to_install(tmp_path, monkeypatch, capsys):
    """Simulate a machine without Ray: the import fails, --ray is one line and exit 2."""
    from limner.ray_backend import require_ray

    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` raise ImportError
    monkeypatch.setitem(sys.modules, "ray.data", None)
    with pytest.raises(Exception, match=r"pip install 'limner\[ray\]'"):
        require_ray()
    f = _write(tmp_path / "p.jsonl", [{"prompt": "a cat"}])
    for flag in (["--ray"], ["--ray-address", "auto"]):
        assert main(["batch", str(f), "--out", str(tmp_path / "o"), *flag]) == 2
        err = capsys.readouterr().err.strip()
        assert "pip install 'limner[ray]'" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "o").exists()  # nothing was started
    assert main(["serve", "--ray", "--port", "18999"]) == 2
    assert "pip install 'limner[ray]'" in capsys.readouterr().err


def test_serve_deployment_options():
    from limner.api import LimnerError
    from limner.ray_backend import ServeOptions, deployment_config

    fixed = deployment_config(ServeOptions(replicas=3, num_gpus=1))
    assert fixed == {"ray_actor_options": {"num_cpus": 1.0, "num_gpus": 1},
                     "num_replicas": 3}
    auto = deployment_config(ServeOptions(min_replicas=0, max_replicas=4, num_gpus=0.5))
    assert "num_replicas" not in auto
    assert auto["autoscaling_config"]["min_replicas"] == 0
    assert auto["autoscaling_config"]["max_replicas"] == 4
    assert auto["autoscaling_config"]["initial_replicas"] == 1
    assert auto["ray_actor_options"]["num_gpus"] == 0.5
    with pytest.raises(LimnerError, match="min <= max"):
        deployment_config(ServeOptions(min_replicas=5, max_replicas=2))


@pytest.fixture(scope="module")
def ray_local(tmp_path_factory):
    ray = pytest.importorskip("ray")
    # Ray's workers get an empty LIMNER_HOME (no signing key), as the local runs here do:
    # through the raylet's environment (drivers started by a subprocess) and the job's
    # runtime_env (this driver)
    home = str(tmp_path_factory.mktemp("ray_limner_home"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LIMNER_HOME", home)
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                 runtime_env={"env_vars": {"LIMNER_HOME": home}})
    yield ray
    ray.shutdown()


def test_ray_batch_of_200_killed_and_resumed_equals_local_batch(ray_local, tmp_path):
    """200 lines on 2 actors: a `limner batch --ray-address` driver is killed (-9) partway,
    the rerun on Ray completes with one row per image, and the directory equals a local
    run of the same file byte for byte (images and manifest rows)."""
    from limner.ray_backend import RayOptions

    lines = [{"id": f"r{i:03d}", "prompt": PROMPTS[i % len(PROMPTS)], "seed": i}
             for i in range(200)]
    f = _write(tmp_path / "p.jsonl", lines)
    local, on_ray = tmp_path / "local", tmp_path / "ray"
    s_local = run_batch(f, BatchOptions(out_dir=str(local), size="128x128"), progress=False)
    assert s_local.done == 200

    address = ray_local.get_runtime_context().gcs_address
    cmd = [sys.executable, "-m", "limner", "batch", str(f), "--out", str(on_ray), "--size",
           "128x128", "--no-progress", "--ray-address", address, "--ray-actors", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        if (on_ray / MANIFEST).exists() and len(_rows(on_ray)) >= 20:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "ended before the kill: " + proc.stderr.read().decode()[-800:]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    at_kill = _rows(on_ray)
    assert 20 <= len(at_kill) < 200
    assert all(Manifest(on_ray).verified(r) for r in at_kill)

    s = run_batch(f, BatchOptions(out_dir=str(on_ray), size="128x128"), progress=False,
                  ray=RayOptions(actors=2, batch_size=8))
    rows = _rows(on_ray)
    assert [r["error"] for r in rows if r["error"]] == []
    assert s.exit_code == 0 and s.done + s.skipped == 200 and s.skipped >= len(at_kill)
    assert sorted(r["id"] for r in rows) == [x["id"] for x in lines]   # each image once
    assert {r["file"] for r in rows} == set(_images(on_ray))
    a, b = _images(local), _images(on_ray)
    assert len(a) == 200 and a == b
    # rows differ only in how long an image took and which process made it
    strip = lambda r: {k: v for k, v in r.items()  # noqa: E731
                       if k not in ("seconds", "worker")}
    key = lambda r: r["id"]  # noqa: E731
    assert sorted(map(strip, _rows(local)), key=key) == sorted(map(strip, rows), key=key)


def test_serve_on_ray_answers_openai_requests(ray_local):
    """`limner serve --ray`: the same FastAPI app as a Ray Serve deployment (autoscaling 1-2
    replicas); a generation is a PNG carrying its Plan, a bad size is OpenAI's 400 JSON."""
    import base64
    import socket

    import httpx
    from ray import serve

    from limner.ray_backend import ServeOptions, serve_app
    from limner.server import ServerOptions
    from render.encode import read_plan

    with socket.socket() as s:  # a free port: other services may hold 8000
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    serve_app({"options": ServerOptions()},
              ServeOptions(port=port, min_replicas=1, max_replicas=2), blocking=False)
    try:
        url = f"http://127.0.0.1:{port}/v1/images/generations"
        r = httpx.post(url, json={"prompt": PROMPTS[0], "size": "256x256"}, timeout=60)
        assert r.status_code == 200, r.text
        data = base64.b64decode(r.json()["data"][0]["b64_json"])
        plan = read_plan(data)
        assert plan is not None and plan.size == (256, 256)
        assert any(t.content == "RAY" for t in plan.texts)
        bad = httpx.post(url, json={"prompt": "x", "size": "100x100"}, timeout=60)
        assert bad.status_code == 400
        assert bad.json()["error"]["param"] == "size"
        status = serve.status().applications["limner"].deployments["limner"]
        assert status.status == "HEALTHY"
    finally:
        serve.shutdown()
