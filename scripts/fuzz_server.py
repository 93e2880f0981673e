"""Fuzz `limner serve` from OpenAI's published Images API spec (issue 16).

schemathesis turns ../shared/openai/images-openapi.json into request generators for
POST /images/generations (JSON) and POST /images/edits (multipart and JSON), in its positive
(schema-valid) and negative (schema-breaking) modes. Edits get real pictures too: random
PNG/JPEG/WebP of random sizes and modes, some with alpha masks, some made by limner (with an
embedded Plan), besides schemathesis's own bytes. Every answer is checked:
- no 5xx, no hang (no answer within --timeout seconds);
- every 4xx in OpenAI's error shape: {"error": {"message": str, "type": str, "param", "code"}};
- every 200 holds images (JSON ``data[].b64_json``, or SSE events for ``stream``).

Usage (runs its own server; niced: the machine is shared):
    nice -n 19 python3 scripts/fuzz_server.py --cases 5000
    python3 scripts/fuzz_server.py --url http://127.0.0.1:8000/v1 --cases 200

Prints counts by operation, mode and status, the failures (first few of each kind), and the
slowest input classes.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

SPEC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "openai",
                    "images-openapi.json")
WORDS = ["a", "red", "apple", "left", "of", "blue", "cup", "three", "cats", "poster", "says",
         '"SALE"', '"特价"', '"세일"', '"تخفيض"', "🍕", "make", "it", "remove", "the", "add",
         "a", "dog", "on", "table", "at", "night", "16:9", "transparent", "background", "title"]


def spec_path() -> str:
    """The spec: $LIMNER_OPENAI_SPEC, else ../shared/openai next to the repository."""
    if os.environ.get("LIMNER_OPENAI_SPEC"):
        return os.environ["LIMNER_OPENAI_SPEC"]
    here = os.path.abspath(SPEC)
    if os.path.exists(here):
        return here
    return os.path.join(os.getcwd(), "..", "shared", "openai", "images-openapi.json")


# --- pictures for edits ------------------------------------------------------------------------
def random_picture(rng: random.Random) -> tuple[bytes, str]:
    """A random image upload and its input class (for the slowest-class report)."""
    from PIL import Image

    kind = rng.choice(["png", "png-alpha", "jpeg", "webp", "tiny", "wide", "garbage", "gif"])
    if kind == "garbage":
        return bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 64))), "image:garbage"
    w, h = rng.choice([(64, 64), (256, 256), (512, 384), (1024, 1024), (96, 32)])
    if kind == "tiny":
        w, h = rng.randint(1, 8), rng.randint(1, 8)
    if kind == "wide":
        w, h = rng.choice([(2000, 16), (16, 1200), (1600, 1600)])
    mode = "RGBA" if kind == "png-alpha" else rng.choice(["RGB", "L", "P", "RGBA"])
    im = Image.new(mode, (w, h), tuple(rng.randrange(256) for _ in range(len(mode)))
                   if mode not in ("L", "P") else rng.randrange(256))
    if kind == "png-alpha":
        im.paste((0, 0, 0, 0), (0, 0, w // 2, h // 2))     # a transparent hole: a mask
    buf = io.BytesIO()
    fmt = {"jpeg": "JPEG", "webp": "WEBP", "gif": "GIF"}.get(kind, "PNG")
    im.convert("RGB" if fmt == "JPEG" else im.mode).save(buf, fmt)
    return buf.getvalue(), f"image:{kind}"


def limner_picture(url: str, rng: random.Random) -> bytes | None:
    """A picture made by this server (it carries a Plan, so edits revise it)."""
    import base64

    import requests

    body = {"prompt": rng.choice(['a sign that says "HI" above a red apple',
                                  "three cats on a table", 'a poster "SALE 特价"']),
            "size": "256x256"}
    try:
        r = requests.post(f"{url}/images/generations", json=body, timeout=60)
        return base64.b64decode(r.json()["data"][0]["b64_json"])
    except Exception:                     # noqa: BLE001 - reported by the campaign itself
        return None


def lexicon_prompt(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 25)))


# --- checks ------------------------------------------------------------------------------------
def error_shape_problem(body: object) -> str | None:
    """None when ``body`` is OpenAI's error JSON, else what is wrong with it."""
    if not isinstance(body, dict) or set(body) != {"error"} or not isinstance(body["error"], dict):
        return "not {'error': {...}}"
    err = body["error"]
    for key in ("message", "type", "param", "code"):
        if key not in err:
            return f"error has no {key!r}"
    if not isinstance(err["message"], str) or not err["message"]:
        return "error.message is not a non-empty string"
    if not isinstance(err["type"], str):
        return "error.type is not a string"
    for key in ("param", "code"):
        if err[key] is not None and not isinstance(err[key], str):
            return f"error.{key} is not a string or null"
    return None


def success_problem(resp) -> str | None:
    ctype = resp.headers.get("content-type", "")
    ctype = ctype[0] if isinstance(ctype, list) else ctype      # schemathesis: lists
    if ctype.startswith("text/event-stream"):
        events = [json.loads(line[6:]) for line in resp.text.splitlines()
                  if line.startswith("data: ") and line[6:].strip() not in ("", "[DONE]")]
        if not any(e.get("type", "").endswith(".completed") for e in events):
            return "stream without a completed event"
        return None
    try:
        data = resp.json()["data"]
    except Exception:                     # noqa: BLE001
        return "200 without data[]"
    if not data or not all(d.get("b64_json") for d in data):
        return "200 with an empty image list or no b64_json"
    return None


@dataclass
class Tally:
    statuses: Counter = field(default_factory=Counter)
    by_group: dict = field(default_factory=lambda: defaultdict(Counter))
    failures: dict = field(default_factory=lambda: defaultdict(list))
    times: dict = field(default_factory=lambda: defaultdict(list))
    reasons: Counter = field(default_factory=Counter)
    cases: int = 0

    def fail(self, kind: str, detail: str) -> None:
        self.failures[kind].append(detail[:400])

    @property
    def server_errors(self) -> int:
        return sum(n for s, n in self.statuses.items() if isinstance(s, int) and s >= 500)


def _input_class(case, extra: str) -> str:
    body = case.body if isinstance(case.body, dict) else {}
    prompt = body.get("prompt")
    plen = len(prompt) if isinstance(prompt, str) else -1
    size = body.get("size") if isinstance(body.get("size"), str) else "-"
    bucket = "none" if plen < 0 else "short" if plen < 100 else "long" if plen < 4000 else "huge"
    n = body.get("n") if isinstance(body.get("n"), int) else 1
    return f"{case.operation.path} size={size} n={n} prompt={bucket}{extra}"


def _request_kwargs(case, url: str) -> dict:
    """schemathesis's request, with image parts sent as files: for ``image``'s anyOf
    (file or array of files) it sends bare form fields, which no client does."""
    kw = case.as_transport_kwargs(base_url=url)
    files = kw.get("files")
    if isinstance(files, list):
        fixed = []
        for name, part in files:
            if name in ("image", "image[]", "mask") and isinstance(part, tuple) \
                    and isinstance(part[1], (bytes, str)) and part[0] is None:
                data = part[1].encode() if isinstance(part[1], str) else part[1]
                part = (f"{name.strip('[]')}.png", data, "image/png")
            fixed.append((name, part))
        kw["files"] = fixed
    return kw


def run_case(case, url: str, timeout: float, tally: Tally, group: str, extra: str) -> None:
    import requests

    t = time.perf_counter()
    try:
        resp = requests.request(**_request_kwargs(case, url), timeout=timeout)
    except requests.exceptions.Timeout:
        tally.statuses["hang"] += 1
        tally.by_group[group]["hang"] += 1
        tally.fail("hang", f"{group}: {str(case.body)[:300]}")
        return
    except requests.exceptions.ConnectionError as e:
        tally.statuses["connection"] += 1
        tally.fail("connection", f"{group}: {e}")
        return
    elapsed = time.perf_counter() - t
    tally.cases += 1
    tally.statuses[resp.status_code] += 1
    tally.by_group[group][resp.status_code] += 1
    tally.times[_input_class(case, extra)].append(elapsed)
    if resp.status_code >= 500:
        tally.fail("5xx", f"{group} {resp.status_code}: {resp.text[:200]} <- {str(case.body)[:300]}")
    elif resp.status_code >= 400:
        try:
            problem = error_shape_problem(resp.json())
        except ValueError:
            problem = "not JSON"
        if not problem and "positive" in group:
            err = resp.json()["error"]
            tally.reasons[(group, err["param"], err["code"], err["message"][:60])] += 1
        if problem:
            tally.fail("error shape", f"{group} {resp.status_code}: {problem}: {resp.text[:200]}")
    elif resp.status_code == 200:
        problem = success_problem(resp)
        if problem:
            tally.fail("bad 200", f"{group}: {problem}")


SIZES = ["auto", "256x256", "512x512", "1024x1024", "1536x1024", "1024x1536", "64x64",
         "1536x512", "3840x2160"]


def _spec_properties() -> dict[str, set[str]]:
    """The request fields OpenAI's spec names, per media type and path."""
    with open(spec_path()) as fh:
        spec = json.load(fh)
    schemas = spec["components"]["schemas"]
    out = {}
    for path, item in spec["paths"].items():
        for media, content in item["post"]["requestBody"]["content"].items():
            name = content["schema"]["$ref"].rsplit("/", 1)[1]
            out[(path, media)] = set(schemas[name]["properties"])
    return out


def _positive(case, rng: random.Random, made: list[bytes], fields: set[str]) -> None:
    """Make a schema-valid case reach further than the first check: the spec allows extra
    properties, which OpenAI (and limner) refuse as unknown parameters, so they are dropped;
    half the sizes come from the sizes limner draws; JSON edits get data-URL pictures."""
    import base64

    body = case.body
    if not isinstance(body, dict):
        return
    for key in [k for k in body if k not in fields]:
        del body[key]
    if rng.random() < 0.3:
        body["prompt"] = lexicon_prompt(rng)
    if "size" in body and rng.random() < 0.5:
        body["size"] = rng.choice(SIZES)
    if isinstance(body.get("images"), list) and rng.random() < 0.7:
        pics = [rng.choice(made) if made and rng.random() < 0.5 else random_picture(rng)[0]
                for _ in body["images"]]
        body["images"] = [{"image_url": "data:image/png;base64," +
                           base64.b64encode(p).decode()} for p in pics] or body["images"]
    if isinstance(body.get("mask"), dict) and rng.random() < 0.7:
        from PIL import Image

        buf = io.BytesIO()
        Image.new("RGBA", (256, 256), (0, 0, 0, 0)).save(buf, "PNG")
        body["mask"] = {"image_url": "data:image/png;base64," +
                        base64.b64encode(buf.getvalue()).decode()}


def _with_pictures(case, rng: random.Random, made: list[bytes]) -> str:
    """Swap schemathesis's image bytes for real pictures half of the time; returns the
    input class suffix."""
    body = case.body
    if not isinstance(body, dict) or case.media_type != "multipart/form-data":
        return ""
    extra = ""
    for key in ("image", "image[]", "mask"):
        if key in body and rng.random() < 0.6:
            if made and key != "mask" and rng.random() < 0.4:
                data, cls = rng.choice(made), "image:limner"
            else:
                data, cls = random_picture(rng)
            body[key] = [data] if isinstance(body[key], list) and key != "mask" else data
            extra += f" {key}={cls}"
    return extra


def campaign(url: str, cases: int, seed: int = 0, timeout: float = 60.0,
             progress: bool = False) -> Tally:
    """Run about ``cases`` requests spread over both operations and both modes."""
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis.generation import GenerationMode

    schema = schemathesis.openapi.from_path(spec_path())
    rng = random.Random(seed)
    made = [p for p in (limner_picture(url, rng) for _ in range(3)) if p]
    tally = Tally()
    plan = [(path, mode) for path in ("/images/generations", "/images/edits")
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
    per = max(1, cases // len(plan))
    fields = _spec_properties()
    for path, mode in plan:
        op = schema[path]["POST"]
        group = f"{path} {mode.value}"
        strategy = op.as_strategy(generation_mode=mode)

        @settings(max_examples=per, database=None, deadline=None, derandomize=False,
                  phases=[Phase.generate], suppress_health_check=list(HealthCheck))
        @given(strategy)
        def one(case):
            if mode == GenerationMode.POSITIVE:
                _positive(case, rng, made, fields.get((path, case.media_type), set()))
            extra = _with_pictures(case, rng, made)
            run_case(case, url, timeout, tally, group, extra)
            if progress and tally.cases % 250 == 0:
                print(f"  {tally.cases} cases, {dict(tally.statuses)}", flush=True)

        one()
    return tally


def report(tally: Tally, wall: float) -> None:
    print(f"cases: {tally.cases} in {wall:.0f} s")
    print("statuses:", ", ".join(f"{s}: {n}" for s, n in sorted(tally.statuses.items(),
                                                                  key=lambda kv: str(kv[0]))))
    for group, counts in tally.by_group.items():
        print(f"  {group}: " + ", ".join(f"{s}: {n}" for s, n in sorted(counts.items(),
                                                                      key=lambda kv: str(kv[0]))))
    print(f"server errors (5xx): {tally.server_errors}; hangs: {tally.statuses['hang']}")
    for kind, items in tally.failures.items():
        print(f"FAIL {kind}: {len(items)}")
        for item in items[:5]:
            print("   ", item)
    if not tally.failures:
        print("failures: none (every 4xx in OpenAI's error shape, every 200 holds images)")
    if tally.reasons:
        print("most common 4xx answers to schema-valid requests (group, param, code):")
        for (group, param, code, msg), n in tally.reasons.most_common(12):
            print(f"  {n:5d} {group} {param} {code}: {msg}")
    slow = sorted(((max(v), sum(v) / len(v), len(v), k) for k, v in tally.times.items()),
                  reverse=True)[:8]
    print("slowest input classes (max s, mean s, cases):")
    for worst, mean, n, k in slow:
        print(f"  {worst:6.2f} {mean:6.2f} {n:5d}  {k}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(workers: int, queue: int) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    proc = subprocess.Popen([sys.executable, "-m", "limner", "serve", "--port", str(port),
                             "--workers", str(workers), "--queue", str(queue)], env=env,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    import requests

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                return proc, f"{url}/v1"
        except requests.exceptions.RequestException:
            pass
        if proc.poll() is not None:
            raise SystemExit("the server did not start")
        time.sleep(0.5)
    proc.terminate()
    raise SystemExit("the server did not become ready in 120 s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=5000)
    ap.add_argument("--url", help="fuzz a running server (…/v1) instead of starting one")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds before a hang")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--queue", type=int, default=64)
    args = ap.parse_args()
    proc = None
    url = args.url
    if url is None:
        proc, url = start_server(args.workers, args.queue)
    t = time.perf_counter()
    try:
        tally = campaign(url, args.cases, args.seed, args.timeout, progress=True)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
    report(tally, time.perf_counter() - t)
    sys.exit(1 if tally.failures else 0)


if __name__ == "__main__":
    main()
