"""Benchmark `limner serve` on localhost: throughput and latency, then a burst.

Starts `python -m limner serve` as a child process on a free 127.0.0.1 port (the server and
this load generator in separate processes, as in real use), then:

1. throughput and p50/p99 latency at concurrency 1, 8 and 32 (draft renderer, 1024x1024
   PNG unless told otherwise; 429s are counted, not retried);
2. a burst of 200 concurrent requests: every one must be answered 200 or 429 (none lost, no
   other status, no connection error) and the server must still be healthy afterwards.

Bounded: each phase stops after --requests requests or --seconds seconds, whichever first;
the whole run stops the server itself. Localhost only.

    python3 scripts/bench_server.py                  # defaults: 1024x1024 png
    python3 scripts/bench_server.py --format webp --workers 2 --queue 64
    python3 scripts/bench_server.py --worker-kind thread   # default for draft: process
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import time

import httpx
from bench_batch import process_ceiling  # scripts/ is this script's sys.path[0]

GOAL_IMAGES_PER_S = 20.0
GOAL_CORES = 2
# Prompts of the kinds limner serves (posters, counts, relations, scripts); written here.
PROMPTS = [
    'A bakery poster that says "FRESH BREAD" above three loaves',
    "Two yellow ducks to the left of a red umbrella on a beach",
    'A 1:1 app icon with a white rocket and the word "GO"',
    "Four green pears in a row on a wooden table",
    'A cafe sign reading "OPEN 7AM" with a blue mug',
    "A black cat under a round table in a kitchen",
    'A poster that says "夏祭り" with two red lanterns',
    "Three orange fish swimming above a green plant underwater",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker_pids(pid: int) -> list[int]:
    """The server's child processes (its workers), from /proc; empty where there is none."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(p) for p in fh.read().split()]
    except OSError:
        return []


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds used so far by these processes (from /proc)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])      # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def start_server(port: int, args: argparse.Namespace) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "limner", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--queue", str(args.queue), "--renderer", "draft"]
    if args.workers:
        cmd += ["--workers", str(args.workers)]
    if args.worker_kind:
        cmd += ["--worker-kind", args.worker_kind]
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.Popen(cmd, cwd=repo, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not become healthy in 120 s")


def body(i: int, args: argparse.Namespace) -> dict:
    return {"model": "gpt-image-2", "prompt": PROMPTS[i % len(PROMPTS)], "size": args.size,
            "output_format": args.format, "seed": i}


async def one(client: httpx.AsyncClient, i: int, args: argparse.Namespace) -> tuple:
    """(status or exception name, seconds, response bytes)."""
    t0 = time.perf_counter()
    try:
        r = await client.post("/v1/images/generations", json=body(i, args))
        content = r.content
        if r.status_code == 200 and b'"b64_json"' not in content:
            return "bad-200", time.perf_counter() - t0, len(content)
        return r.status_code, time.perf_counter() - t0, len(content)
    except httpx.HTTPError as e:
        return type(e).__name__, time.perf_counter() - t0, 0


async def closed_loop(base: str, concurrency: int, args: argparse.Namespace) -> dict:
    """``concurrency`` clients, each sending its next request when the last is answered."""
    results: list[tuple] = []
    counter = iter(range(10**9))
    stop_at = time.monotonic() + args.seconds
    limits = httpx.Limits(max_connections=concurrency + 4)
    async with httpx.AsyncClient(base_url=base, timeout=300, limits=limits) as client:
        async def worker() -> None:
            while time.monotonic() < stop_at and len(results) < args.requests:
                results.append(await one(client, next(counter), args))

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - t0
    ok = sorted(s for status, s, _ in results if status == 200)
    return {"concurrency": concurrency, "sent": len(results), "ok": len(ok),
            "rejected_429": sum(1 for r in results if r[0] == 429),
            "other": [r[0] for r in results if r[0] not in (200, 429)],
            "wall_s": wall, "images_per_s": len(ok) / wall,
            "p50_s": statistics.median(ok) if ok else float("nan"),
            "p99_s": ok[min(len(ok) - 1, int(round(0.99 * (len(ok) - 1))))] if ok else
            float("nan"),
            "mean_bytes": statistics.mean(r[2] for r in results if r[0] == 200) if ok else 0}


async def burst(base: str, count: int, args: argparse.Namespace) -> dict:
    """``count`` requests at once; each must be answered 200 or 429."""
    limits = httpx.Limits(max_connections=count + 8)
    async with httpx.AsyncClient(base_url=base, timeout=600, limits=limits) as client:
        t0 = time.perf_counter()
        results = await asyncio.gather(*(one(client, 10_000 + i, args) for i in range(count)))
        wall = time.perf_counter() - t0
    # A new connection: the burst's idle keep-alive ones may have been closed by the server.
    async with httpx.AsyncClient(base_url=base, timeout=600) as client:
        health = await client.get("/healthz")
        after = await one(client, 99_999, args)
    statuses = [r[0] for r in results]
    return {"sent": count, "answered": len(results), "ok": statuses.count(200),
            "rejected_429": statuses.count(429),
            "other": [s for s in statuses if s not in (200, 429)], "wall_s": wall,
            "healthy_after": health.status_code == 200 and health.json()["status"] == "ok",
            "generate_after": after[0]}


def direct_rate(args: argparse.Namespace, count: int = 12) -> float:
    """Images/s of Limner.generate called directly, one at a time, in this process: the
    renderer's own cost, against which the server's overhead shows."""
    from limner.api import Limner

    lim = Limner()
    lim.generate(PROMPTS[0], size=args.size, output_format=args.format, seed=0)
    t0 = time.perf_counter()
    for i in range(count):
        lim.generate(PROMPTS[i % len(PROMPTS)], size=args.size, output_format=args.format,
                     seed=i)
    return count / (time.perf_counter() - t0)


def stage_costs(args: argparse.Namespace, count: int = 8) -> dict[str, float]:
    """Mean milliseconds per image of each stage behind one response (direct calls)."""
    from limner.api import Limner
    from planner.moderation import check
    from render.base import RenderOptions
    from render.encode import encode_image

    lim = Limner()
    costs = {"moderation": 0.0, "planning": 0.0, "draft render": 0.0, "encode": 0.0}
    for i in range(count + 1):           # the first round warms caches and is not counted
        prompt = PROMPTS[i % len(PROMPTS)]
        marks = [time.perf_counter()]
        check(prompt)
        marks.append(time.perf_counter())
        plan = lim.plan(prompt, size=args.size, seed=i)
        marks.append(time.perf_counter())
        result = lim.renderer.render([plan], RenderOptions())
        marks.append(time.perf_counter())
        encode_image(result.images[0], result.plans[0], seed=i, renderer="draft",
                     digital_source_type=lim.renderer.digital_source_type, fmt=args.format)
        marks.append(time.perf_counter())
        if i:
            for key, a, b in zip(costs, marks, marks[1:]):
                costs[key] += (b - a) * 1000 / count
    return costs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="1024x1024")
    ap.add_argument("--format", default="png", choices=("png", "jpeg", "webp"))
    ap.add_argument("--workers", type=int, default=None, help="server workers (default: auto)")
    ap.add_argument("--worker-kind", default=None, choices=("thread", "process"),
                    help="server worker kind (default: the server's choice, process for draft)")
    ap.add_argument("--queue", type=int, default=32, help="server queue (default 32)")
    ap.add_argument("--requests", type=int, default=160, help="max requests per phase")
    ap.add_argument("--seconds", type=float, default=25.0, help="max seconds per phase")
    ap.add_argument("--burst", type=int, default=200)
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} (other work on the machine "
          "lowers every figure)")
    print(f"machine check before: 2 processes of plain arithmetic = {process_ceiling():.2f}x "
          "one (2.0 = two free cores; what worker processes can gain here at all)")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(port, args)
    children = worker_pids(proc.pid)
    try:
        asyncio.run(closed_loop(base, 2, argparse.Namespace(**{**vars(args), "requests": 6})))
        health = httpx.get(f"{base}/healthz", timeout=10).json()
        print(f"limner serve, draft renderer, {args.size} {args.format}, {os.cpu_count()} cores, "
              f"queue {args.queue}, {health['queue']['workers']} {health['worker_kind']} "
              f"workers ({len(children)} child processes)")
        print(f"{'conc':>4} {'sent':>5} {'ok':>5} {'429':>5} {'img/s':>7} {'p50 s':>7} "
              f"{'p99 s':>7} {'KiB':>6} {'cores':>6}  (cores: server CPU s / wall s, workers "
              "included; threads cannot pass ~1)")
        rates = {}
        server_pids = [proc.pid] + worker_pids(proc.pid)
        for c in (1, 8, 32):
            cpu0 = cpu_seconds(server_pids)
            r = asyncio.run(closed_loop(base, c, args))
            cores = (cpu_seconds(server_pids) - cpu0) / r["wall_s"]
            rates[c] = r["images_per_s"]
            print(f"{c:>4} {r['sent']:>5} {r['ok']:>5} {r['rejected_429']:>5} "
                  f"{r['images_per_s']:>7.2f} {r['p50_s']:>7.3f} {r['p99_s']:>7.3f} "
                  f"{r['mean_bytes'] / 1024:>6.0f} {cores:>6.2f}" + (
                      f"  other: {r['other']}" if r["other"] else ""))
        direct = direct_rate(args)
        print(f"direct Limner.generate, one thread, no server: {direct:.2f} images/s; "
              f"server at concurrency 1 = {rates[1] / direct:.2f}x that")
        costs = stage_costs(args)
        print("per image, ms: " + ", ".join(f"{k} {v:.0f}" for k, v in costs.items()) +
              f"; total {sum(costs.values()):.0f} ms = at most "
              f"{GOAL_CORES * 1000 / sum(costs.values()):.1f} images/s on {GOAL_CORES} cores "
              "even with perfect parallelism")
        best = max(rates.values())
        print(f"best throughput {best:.2f} images/s = {best / GOAL_IMAGES_PER_S:.2f}x the goal "
              f"of {GOAL_IMAGES_PER_S:.0f}/s on {GOAL_CORES} cores")
        b = asyncio.run(burst(base, args.burst, args))
        lost = b["sent"] - b["ok"] - b["rejected_429"]
        print(f"burst: {b['sent']} at once → {b['ok']} ok, {b['rejected_429']} x 429, "
              f"{lost} lost/other {b['other'][:5]} in {b['wall_s']:.1f} s; healthy after: "
              f"{b['healthy_after']}; a request after: {b['generate_after']}")
        passed = lost == 0 and b["healthy_after"] and b["generate_after"] == 200
        print("burst goal (all answered 200/429, server healthy):", "met" if passed else "MISSED")
        print(f"load average after: {os.getloadavg()[0]:.1f}; machine check after: "
              f"{process_ceiling():.2f}x")
        return 0 if passed else 1
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
        time.sleep(0.5)
        left = [p for p in children if alive(p)]
        print(f"server stopped (exit {proc.returncode}); worker processes left: {len(left)}")


if __name__ == "__main__":
    sys.exit(main())
