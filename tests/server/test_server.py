"""`limner serve` end to end, with the real `openai` SDK as the client."""

from __future__ import annotations

import base64
import io
import os
import threading
import time

import httpx
import openai
import pytest
from serverkit import RunningServer, decode_b64, png_bytes

from limner.api import Limner
from limner.server import ServerOptions
from planner.schema import Plan
from render.encode import read_plan

POSTER = 'A poster that says "OPEN LATE" above two red mugs'


def _plan(item) -> Plan:
    return Plan.model_validate(item.model_extra["limner"]["plan"])


@pytest.mark.parametrize("size", ["1024x1024", "1536x1024", "640x480"])
def test_generate_sizes(server, size):
    client = server.client()
    r = client.images.generate(model="gpt-image-2", prompt=POSTER, size=size,
                               extra_body={"seed": 3})
    w, h = map(int, size.split("x"))
    assert r.size == size and len(r.data) == 1
    assert decode_b64(r.data[0].b64_json).size == (w, h)
    assert _plan(r.data[0]).size == (w, h)
    assert r.usage.output_tokens == (w // 32) * (h // 32)
    assert r.usage.input_tokens_details.text_tokens > 0


def test_generate_auto_size_follows_the_prompt(server):
    r = server.client().images.generate(prompt="A 16:9 banner that says \"SALE\"", size="auto")
    w, h = decode_b64(r.data[0].b64_json).size
    assert r.size == f"{w}x{h}" and w > h


@pytest.mark.parametrize("fmt,pil", [("png", "PNG"), ("jpeg", "JPEG"), ("webp", "WEBP")])
def test_generate_formats(server, fmt, pil):
    r = server.client().images.generate(prompt=POSTER, size="512x512", output_format=fmt,
                                        extra_body={"seed": 1})
    data = base64.b64decode(r.data[0].b64_json)
    im = decode_b64(r.data[0].b64_json)
    assert im.format == pil and im.size == (512, 512) and r.output_format == fmt
    # the file carries its Plan, and it is the one the response reports
    assert read_plan(data) == _plan(r.data[0])


def test_output_compression_shrinks_jpeg(server):
    sizes = []
    for q in (95, 20):
        r = server.client().images.generate(prompt=POSTER, size="512x512", output_format="jpeg",
                                            output_compression=q, extra_body={"seed": 1})
        sizes.append(len(base64.b64decode(r.data[0].b64_json)))
    assert sizes[1] < sizes[0]


@pytest.mark.parametrize("fmt", ["png", "webp"])
def test_transparent_background_has_alpha(server, fmt):
    r = server.client().images.generate(prompt="a red apple", background="transparent",
                                        size="512x512", output_format=fmt)
    im = decode_b64(r.data[0].b64_json)
    assert r.background == "transparent" and im.mode == "RGBA"
    lo, hi = im.getchannel("A").getextrema()
    assert lo == 0 and hi == 255          # see-through background, opaque apple


def test_jpeg_cannot_be_transparent(server):
    with pytest.raises(openai.BadRequestError) as e:
        server.client().images.generate(prompt="a red apple", background="transparent",
                                        output_format="jpeg")
    assert "jpeg" in e.value.body["message"]


def test_n_images_share_subjects_and_vary_layout(server):
    r = server.client().images.generate(prompt="three red apples left of a cup", n=3,
                                        size="512x512", extra_body={"seed": 10})
    assert len(r.data) == 3
    seeds = [d.model_extra["limner"]["seed"] for d in r.data]
    assert seeds == [10, 11, 12]
    plans = [_plan(d) for d in r.data]
    assert {tuple(sorted(o.subject_id for o in p.objects)) for p in plans} == {
        tuple(sorted(o.subject_id for o in plans[0].objects))}
    assert len({d.b64_json for d in r.data}) == 3


def test_same_seed_same_bytes_and_random_seed_otherwise(server):
    client = server.client()
    a, b = (client.images.generate(prompt=POSTER, size="512x512", extra_body={"seed": 42})
            for _ in range(2))
    assert a.data[0].b64_json == b.data[0].b64_json
    c, d = (client.images.generate(prompt=POSTER, size="512x512") for _ in range(2))
    assert c.data[0].model_extra["limner"]["seed"] != d.data[0].model_extra["limner"]["seed"]


def test_revised_prompt_says_what_was_understood(server):
    r = server.client().images.generate(prompt=POSTER, size="512x512")
    assert '"OPEN LATE"' in r.data[0].revised_prompt and "mug" in r.data[0].revised_prompt


def test_edit_several_images_and_a_mask(server):
    client = server.client()
    base = client.images.generate(prompt="a red apple next to a blue cup", size="512x512",
                                  extra_body={"seed": 2})
    first = base64.b64decode(base.data[0].b64_json)
    mask = png_bytes((512, 512), (0, 0, 0, 0))
    r = client.images.edit(model="gpt-image-1", prompt="make the apple green",
                           image=[("a.png", first, "image/png"),
                                  ("ref.png", png_bytes((64, 64)), "image/png")],
                           mask=("mask.png", mask, "image/png"), input_fidelity="high")
    assert len(r.data) == 1 and r.size == "512x512"
    after = _plan(r.data[0])
    assert any(o.label == "apple" and o.color for o in after.objects)
    assert after != _plan(base.data[0])
    assert r.usage.input_tokens_details.image_tokens == (512 // 32) ** 2 + 2 * 2


def test_edit_rejects_a_mask_of_another_size(server):
    with pytest.raises(openai.BadRequestError) as e:
        server.client().images.edit(prompt="x", image=("a.png", png_bytes((64, 64)), "image/png"),
                                    mask=("m.png", png_bytes((32, 32)), "image/png"))
    assert e.value.body["param"] == "mask"


def test_edit_json_body_with_data_urls(server):
    url = "data:image/png;base64," + base64.b64encode(png_bytes((256, 256))).decode()
    r = httpx.post(f"{server.url}/v1/images/edits", timeout=30, json={
        "model": "gpt-image-2", "prompt": "add a yellow star", "images": [{"image_url": url}],
        "size": "256x256", "output_format": "webp"})
    assert r.status_code == 200, r.text
    assert decode_b64(r.json()["data"][0]["b64_json"]).format == "WEBP"
    for ref, word in (({"file_id": "file-abc"}, "Files API"),
                      ({"image_url": "https://example.com/x.png"}, "data URL")):
        bad = httpx.post(f"{server.url}/v1/images/edits", timeout=30,
                         json={"prompt": "x", "images": [ref]})
        assert bad.status_code == 400 and word in bad.json()["error"]["message"]
        assert bad.json()["error"]["param"] == "images[0]"


def test_stream_generation_partials_then_completed(server):
    client = server.client()
    events = list(client.images.generate(prompt=POSTER, size="512x512", stream=True,
                                         partial_images=2, extra_body={"seed": 5}))
    assert [e.type for e in events] == ["image_generation.partial_image"] * 2 + [
        "image_generation.completed"]
    assert [e.partial_image_index for e in events[:2]] == [0, 1]
    # previews grow (1/3, 2/3 of the final size here) and each differs from the last
    assert [decode_b64(e.b64_json).size for e in events[:2]] == [(176, 176), (336, 336)]
    assert events[0].b64_json != events[1].b64_json
    assert [e.model_extra["limner"]["image_index"] for e in events[:2]] == [0, 0]
    done = events[-1]
    assert done.size == "512x512" and done.usage.output_tokens == 256
    # streaming and not streaming give the same image for the same seed
    plain = client.images.generate(prompt=POSTER, size="512x512", extra_body={"seed": 5})
    assert done.b64_json == plain.data[0].b64_json


def test_stream_n_images_and_edit_stream(server):
    client = server.client()
    events = list(client.images.generate(prompt="a blue cup", size="256x256", n=2,
                                         stream=True))
    assert [e.type for e in events] == ["image_generation.completed"] * 2
    assert [e.model_extra["limner"]["image_index"] for e in events] == [0, 1]
    edited = list(client.images.edit(prompt="make it red", stream=True, partial_images=1,
                                     image=("a.png", base64.b64decode(events[0].b64_json),
                                            "image/png")))
    assert edited[-1].type == "image_edit.completed"
    assert decode_b64(edited[-1].b64_json).size == (256, 256)


@pytest.mark.parametrize("kwargs,param", [
    (dict(size="1000x1000"), "size"), (dict(size="4096x4096"), "size"),
    (dict(n=11), "n"), (dict(quality="ultra"), "quality"),
    (dict(output_format="gif"), "output_format"),
    (dict(extra_body={"partial_images": 4}), "partial_images"),
    (dict(extra_body={"colour": "red"}), "colour"),
    (dict(response_format="url"), "response_format"),
    (dict(model="dall-e-9"), "model"),
])
def test_bad_input_is_400_in_openai_shape(server, kwargs, param):
    with pytest.raises(openai.BadRequestError) as e:
        server.client().images.generate(**{"prompt": "a cup", **kwargs})
    body = e.value.body
    assert set(body) >= {"message", "type", "param", "code"}
    assert body["type"] == "invalid_request_error" and body["param"] == param
    assert body["message"]


def test_prompt_limits(server):
    for prompt in ("", " ", "x" * 32001):
        with pytest.raises(openai.BadRequestError) as e:
            server.client().images.generate(prompt=prompt)
        assert e.value.body["param"] == "prompt"


def test_moderation_blocked(server):
    client = server.client()
    with pytest.raises(openai.BadRequestError) as e:
        client.images.generate(prompt="a nude woman on a sofa", moderation="auto")
    assert e.value.body["code"] == "moderation_blocked"
    assert e.value.body["type"] == "image_generation_user_error"
    with pytest.raises(openai.BadRequestError) as e:
        client.images.generate(prompt="hardcore porn", moderation="low", stream=True)
    assert e.value.body["code"] == "moderation_blocked"
    with pytest.raises(openai.BadRequestError) as e:
        client.images.edit(prompt="make it hardcore porn",
                           image=("a.png", png_bytes(), "image/png"))
    assert e.value.body["code"] == "moderation_blocked"


def test_models_and_health(server):
    ids = [m.id for m in server.client().models.list()]
    assert ids[:2] == ["draft", "limner"] and "gpt-image-2" in ids and "gpt-image-1" in ids
    assert server.client().models.retrieve("gpt-image-2").owned_by == "limner"
    with pytest.raises(openai.NotFoundError):
        server.client().models.retrieve("sdxl")      # not the loaded renderer
    health = httpx.get(f"{server.url}/healthz", timeout=30).json()
    assert health["status"] == "ok" and health["renderer"] == "draft"
    assert httpx.get(f"{server.url}/v1/nothing", timeout=30).json()["error"]["code"] == "not_found"


def test_client_filenames_never_reach_the_filesystem(server, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    name = f"limner-probe-{os.getpid()}.png"
    r = server.client().images.edit(prompt="add a star",
                                    image=(f"../../{name}", png_bytes(), "image/png"))
    assert len(r.data) == 1
    assert not any(name in files for _, _, files in os.walk(tmp_path.parent.parent))
    assert not os.path.exists(os.path.join("/tmp", name))


# --- a strict server: API key, tiny body limit, one worker, no queue ------------------------
class GatedLimner(Limner):
    """The real Limner, but a prompt containing "[hold]" waits for the test to open the gate:
    that is how the test fills the one worker deterministically."""

    def __init__(self):
        super().__init__()
        self.gate = threading.Event()
        self.holding = threading.Event()

    def generate(self, prompt=None, **kw):
        if prompt and "[hold]" in prompt:
            self.holding.set()
            self.gate.wait(30)
        return super().generate(prompt, **kw)


@pytest.fixture(scope="module")
def strict():
    lim = GatedLimner()
    srv = RunningServer(lim, ServerOptions(api_key="sk-test", workers=1, queue=0,
                                           max_body_bytes=300_000, worker_kind="thread"))
    yield srv, lim
    lim.gate.set()
    srv.stop()


def test_api_key_required(strict):
    srv, _ = strict
    with pytest.raises(openai.AuthenticationError) as e:
        srv.client("sk-wrong").images.generate(prompt="a cup", size="256x256")
    assert e.value.status_code == 401 and e.value.body["code"] == "invalid_api_key"
    assert httpx.get(f"{srv.url}/v1/models", timeout=30).status_code == 401
    # the page and /healthz need no key
    assert httpx.get(f"{srv.url}/healthz", timeout=30).status_code == 200
    assert httpx.get(f"{srv.url}/", timeout=30).status_code == 200
    ok = srv.client("sk-test").images.generate(prompt="a cup", size="256x256")
    assert len(ok.data) == 1


def test_oversize_body_is_413(strict):
    srv, _ = strict
    noise = os.urandom(400_000)
    with pytest.raises(openai.APIStatusError) as e:
        srv.client("sk-test").images.edit(prompt="x", image=("a.png", noise, "image/png"))
    assert e.value.status_code == 413 and e.value.body["code"] == "request_too_large"
    # chunked, with no Content-Length: counted while read
    r = httpx.post(f"{srv.url}/v1/images/generations", timeout=30, headers={
        "Authorization": "Bearer sk-test", "Content-Type": "application/json"},
        content=iter([b'{"prompt": "', b"x" * 200_000, b"y" * 200_000, b'"}']))
    assert r.status_code == 413
    assert srv.client("sk-test").images.generate(prompt="a cup", size="256x256").data


def test_full_queue_is_429_with_retry_after(strict):
    srv, lim = strict
    lim.gate.clear()
    lim.holding.clear()
    results = {}

    def slow():
        results["slow"] = srv.client("sk-test").images.generate(prompt="a cup [hold]",
                                                                size="256x256")

    t = threading.Thread(target=slow)
    t.start()
    assert lim.holding.wait(10)
    with pytest.raises(openai.RateLimitError) as e:
        srv.client("sk-test").images.generate(prompt="a cup", size="256x256")
    assert e.value.status_code == 429 and e.value.body["code"] == "rate_limit_exceeded"
    assert int(e.value.response.headers["Retry-After"]) >= 1
    lim.gate.set()
    t.join(30)
    assert len(results["slow"].data) == 1
    assert srv.client("sk-test").images.generate(prompt="a cup", size="256x256").data


def test_shutdown_finishes_running_and_fails_waiting_cleanly(shared_limner):
    lim = GatedLimner()
    srv = RunningServer(lim, ServerOptions(workers=1, queue=4, grace_seconds=20,
                                           worker_kind="thread"))
    statuses: list[int] = []
    lock = threading.Lock()

    def call(prompt):
        r = httpx.post(f"{srv.url}/v1/images/generations", timeout=60,
                       json={"prompt": prompt, "size": "256x256"})
        with lock:
            statuses.append(r.status_code)
            if r.status_code != 200:
                assert r.json()["error"]["code"] == "server_shutting_down"

    threads = [threading.Thread(target=call, args=("a cup [hold]",))]
    threads[0].start()
    assert lim.holding.wait(10)
    threads += [threading.Thread(target=call, args=("a cup",)) for _ in range(3)]
    for t in threads[1:]:
        t.start()
    deadline = time.monotonic() + 10
    while srv.service.queue.stats()["waiting"] < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    srv.server.should_exit = True            # as on SIGTERM
    while not srv.service.queue.stats()["closed"] and time.monotonic() < deadline + 10:
        time.sleep(0.01)
    lim.gate.set()                           # the running request may now finish
    for t in threads:
        t.join(30)
    srv.thread.join(30)
    assert not srv.thread.is_alive()
    assert sorted(statuses) == [200, 503, 503, 503]
    assert srv.service.queue.join(1)


def test_describe_extension_reads_back_the_plan_and_text(server):
    r = server.client().images.generate(prompt='A sign that says "HELLO" and a cat',
                                        size="256x256", extra_body={"seed": 1})
    url = "data:image/png;base64," + r.data[0].b64_json
    ok = httpx.post(f"{server.url}/v1/limner/describe", timeout=120,
                    json={"image": url, "question": "what does the sign say?"})
    assert ok.status_code == 200, ok.text
    out = ok.json()
    assert out["object"] == "limner.description" and out["description"]["width"] == 256
    assert out["description"]["limner"]["plan"] == r.data[0].model_extra["limner"]["plan"]
    # multipart needs a file; JSON needs a data URL (both refused before any work)
    no_file = httpx.post(f"{server.url}/v1/limner/describe", timeout=30,
                         files={"other": ("x.png", png_bytes(), "image/png")})
    assert no_file.status_code == 400 and no_file.json()["error"]["param"] == "image"
    missing = httpx.post(f"{server.url}/v1/limner/describe", json={"question": "?"},
                         timeout=30)
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "image"


@pytest.mark.parametrize("quality,size,reported", [
    ("auto", "256x256", "high"), ("auto", "1920x1344", "medium"),
    ("standard", "256x256", "medium"), ("hd", "256x256", "high"), ("low", "256x256", "low")])
def test_quality_names_the_tier_rendered(server, quality, size, reported):
    r = server.client().images.generate(prompt="a cup", size=size, quality=quality)
    assert r.quality == reported
    assert _plan(r.data[0]).quality == ("auto" if quality == "auto" else reported)


def test_wrong_key_with_a_large_upload_still_reads_401(strict):
    srv, _ = strict
    with pytest.raises(openai.AuthenticationError):
        srv.client("sk-wrong").images.edit(prompt="x", image=("a.png", os.urandom(250_000),
                                                               "image/png"))


def test_service_defaults_follow_the_renderer():
    """Nothing loads here: Limner builds its parts on first use, processes start on the
    first job."""
    from limner.server import Service

    neural = Service(Limner(renderer="sdxl"), ServerOptions())
    draft = Service(Limner(), ServerOptions(workers=3))
    llm_planned = Service(Limner(planner="llm"), ServerOptions())
    custom = Service(GatedLimner(), ServerOptions())
    threads = Service(Limner(), ServerOptions(worker_kind="thread"))
    services = (neural, draft, llm_planned, custom, threads)
    try:
        assert neural.queue.workers == 1 and neural.served[0] == "sdxl"
        assert neural.worker_kind == "thread" and neural.processes is None
        assert neural.previewer.renderer_name == "draft" and neural.previewer is not neural.limner
        assert draft.worker_kind == "process" and draft.queue.workers == 3
        assert draft.processes.count == 3 and draft.processes.pids() == []
        assert llm_planned.worker_kind == "thread" and custom.worker_kind == "thread"
        assert threads.worker_kind == "thread" and threads.queue.workers == 2
    finally:
        for svc in services:
            svc.close(1)
    with pytest.raises(ValueError, match="worker_kind must be one of thread, process"):
        Service(Limner(), ServerOptions(worker_kind="fork"))


def test_same_seed_same_bytes_in_processes_and_threads(server, strict):
    """The default server runs worker processes, the strict one threads: one seed, one file."""
    srv, _ = strict
    assert server.service.worker_kind == "process" and srv.service.worker_kind == "thread"
    kw = dict(prompt=POSTER, size="512x512", n=2, extra_body={"seed": 7})
    a = server.client().images.generate(**kw)
    b = srv.client("sk-test").images.generate(**kw)
    assert [d.b64_json for d in a.data] == [d.b64_json for d in b.data]
    assert [_plan(d) for d in a.data] == [_plan(d) for d in b.data]
    stream = dict(prompt=POSTER, size="512x512", stream=True, partial_images=1, seed=7)
    events = [_stream_events(s.url, stream, key) for s, key in ((server, None),
                                                                (srv, "sk-test"))]
    assert [e["b64_json"] for e in events[0]] == [e["b64_json"] for e in events[1]]
    assert events[0][-1]["b64_json"] == a.data[0].b64_json


def _stream_events(url: str, body: dict, key: str | None) -> list[dict]:
    import json

    headers = {"Authorization": f"Bearer {key}"} if key else {}
    r = httpx.post(f"{url}/v1/images/generations", json=body, headers=headers, timeout=60)
    assert r.status_code == 200, r.text
    return [json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: ")]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:                      # a zombie is dead, only not yet reaped
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_process_workers_survive_a_crash_and_stop_with_the_server():
    """Worker processes: a killed worker is replaced; on shutdown the running request
    finishes, the waiting ones get 503 and no worker process is left behind."""
    srv = RunningServer(Limner(), ServerOptions(workers=1, queue=4, grace_seconds=30,
                                                worker_kind="process"))
    first = srv.service.processes.pids()
    assert len(first) == 1 and _alive(first[0])         # started by the warm-up
    os.kill(first[0], 9)
    ok = httpx.post(f"{srv.url}/v1/images/generations", timeout=60,
                    json={"prompt": "a cup", "size": "256x256", "seed": 3})
    assert ok.status_code == 200, ok.text
    pids = srv.service.processes.pids()
    assert pids and pids != first
    statuses: list[int] = []
    lock = threading.Lock()

    def call(body):
        r = httpx.post(f"{srv.url}/v1/images/generations", json=body, timeout=120)
        with lock:
            statuses.append(r.status_code)
            assert r.status_code == 200 or r.json()["error"]["code"] == "server_shutting_down"

    heavy = threading.Thread(target=call, args=({"prompt": POSTER, "size": "1536x1536",
                                                 "n": 6},))
    heavy.start()
    deadline = time.monotonic() + 20
    while srv.service.queue.stats()["running"] < 1 and time.monotonic() < deadline:
        time.sleep(0.005)
    waiting = [threading.Thread(target=call, args=({"prompt": "a cup", "size": "256x256"},))
               for _ in range(3)]
    for t in waiting:
        t.start()
    while srv.service.queue.stats()["waiting"] < 3 and time.monotonic() < deadline:
        time.sleep(0.005)
    srv.stop(60)
    for t in [heavy, *waiting]:
        t.join(60)
    assert not srv.thread.is_alive()
    assert sorted(statuses) == [200, 503, 503, 503]
    assert not any(_alive(p) for p in pids)


def test_page_assets_come_from_a_fixed_list(server):
    page = httpx.get(f"{server.url}/", timeout=30)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert httpx.get(f"{server.url}/web/app.js", timeout=30).headers[
        "content-type"].startswith("text/javascript")
    for path in ("/web/server.py", "/web/..%2Fserver.py", "/web/%2e%2e/api.py", "/web/"):
        assert httpx.get(f"{server.url}{path}", timeout=30).status_code == 404, path


def test_cli_worker_kind_is_checked(capsys):
    from limner.cli import main

    assert main(["serve", "--worker-kind", "fork", "--port", "18998"]) == 2
    assert "--worker-kind must be thread or process; got 'fork'" in capsys.readouterr().err


def test_two_image_edit_without_a_plan_composes_them(server):
    """OpenAI's multi-image edit: plain pictures (no Plan) composed at the requested size."""
    from PIL import Image, ImageDraw

    def product(colour):
        im = Image.new("RGB", (96, 128), (255, 255, 255))
        ImageDraw.Draw(im).rectangle((20, 20, 76, 112), fill=colour)
        buf = io.BytesIO()
        im.save(buf, "PNG")
        return buf.getvalue()

    r = server.client().images.edit(
        prompt="put both on a table", size="1024x1024",
        image=[("a.png", product((230, 20, 20)), "image/png"),
               ("b.png", product((20, 20, 230)), "image/png")])
    assert r.size == "1024x1024"
    image = Image.open(io.BytesIO(base64.b64decode(r.data[0].b64_json))).convert("RGB")
    assert image.size == (1024, 1024)
    plan = _plan(r.data[0])
    bound = {e.reference: e for e in plan.objects if e.reference is not None}
    assert sorted(bound) == [0, 1] and plan.canvas.background.scene == "table"
    from planner.schema import box_to_pixels

    for i, colour in enumerate([(230, 20, 20), (20, 20, 230)]):
        x0, y0, x1, y1 = box_to_pixels(bound[i].box, 1024, 1024)
        px = [image.getpixel((x, y)) for x in range(x0, x1, 4) for y in range(y0, y1, 4)]
        assert sum(max(abs(p - c) for p, c in zip(q, colour)) <= 40 for q in px) > 50
    assert "notes" not in r.model_extra["limner"]    # nothing was left undrawn
    assert "(image 1)" in r.data[0].revised_prompt and "(image 2)" in r.data[0].revised_prompt


def test_edit_notes_what_the_renderer_could_not_do(server):
    """A style the draft cannot put on a photo's own pixels is reported, not dropped; a
    recolour of what the photo shows is a 400 naming who can do it."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    Image.fromarray((rng.random((64, 96, 3)) * 60 + 90).astype(np.uint8)).save(buf, "PNG")
    client = server.client()
    r = client.images.edit(prompt="make it watercolor",
                           image=("p.png", buf.getvalue(), "image/png"))
    assert any("watercolor" in n for n in r.model_extra["limner"]["notes"])
    with pytest.raises(openai.BadRequestError) as e:
        client.images.edit(prompt="make the car blue",
                           image=("p.png", buf.getvalue(), "image/png"))
    assert e.value.body["param"] == "prompt" and "renderer" in e.value.body["message"]


def test_streamed_edit_carries_the_notes(server):
    """A streamed edit reports what the renderer could not do (and the options it ignored)
    in its completed event, as the non-streamed response does."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    Image.fromarray((rng.random((64, 96, 3)) * 60 + 90).astype(np.uint8)).save(buf, "PNG")
    client = server.client()
    plain = client.images.edit(prompt="make it watercolor",
                               image=("p.png", buf.getvalue(), "image/png"))
    events = list(client.images.edit(prompt="make it watercolor", stream=True,
                                     partial_images=1,
                                     image=("p.png", buf.getvalue(), "image/png")))
    done = events[-1]
    assert done.type == "image_edit.completed"
    notes = done.model_extra["limner"]["notes"]
    assert any("watercolor" in n for n in notes)
    assert any("partial_images ignored" in n for n in notes)
    assert set(plain.model_extra["limner"]["notes"]) <= set(notes)


def test_text_mode_field_and_report(server):
    """``text`` (exact|native|auto) is accepted as an extra field; each image says who drew
    each text (the draft renderer: always the text engine); a bad value is a 400."""
    client = server.client()
    r = client.images.generate(prompt=POSTER, size="512x512",
                               extra_body={"seed": 1, "text": "native"})
    texts = r.data[0].model_extra["limner"]["texts"]
    assert [t["text"] for t in texts] == ["OPEN LATE"]
    assert texts[0]["drawn_by"] == "text engine" and texts[0]["mode"] == "exact"
    with pytest.raises(openai.BadRequestError) as e:
        client.images.generate(prompt=POSTER, size="512x512", extra_body={"text": "loud"})
    assert e.value.body["param"] == "text"
