"""Batch throughput: images/s of `limner batch` with 1 and 2 local workers and on Ray with 2
actors (draft renderer, rules planner), and the scaling ratio.

    python3 scripts/bench_batch.py                 # 1024x1024, 200 images per run
    python3 scripts/bench_batch.py --images 40 --size 1024x1024 --no-ray

Each run is a fresh `limner batch` process writing to an empty directory, so every image is
planned, rendered, encoded, hashed, written and recorded, and every configuration starts cold.
Wall time runs from the command's start to its exit (interpreter, worker processes or Ray
actors included): what a user waits for. Beside it, the busy rate: images / (sum of the
per-image seconds in the manifest / workers), which leaves out process and actor start-up
(a worker's first-image warm-up stays in), the warm rate (each worker's first image left
out too), and the CPU seconds the local runs used. The busy and warm rates assume the workers
were busy at the same time; only the wall-clock ratio does not. A machine check (2 processes
of plain arithmetic vs 1, before and after) shows how much a second process can gain on the
machine at that moment: on a machine shared with other work it can be far below 2.
Goal (issue 9): 2 workers >= 1.8x one worker on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from limner.batch import MANIFEST  # noqa: E402

DEV_PROMPTS = Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev_prompts.jsonl"
FALLBACK = ['A poster that says "SALE" above three red apples', "two blue cups on a table",
            "a yellow cat left of a green tree", "a rocket in space"]


def prompts(k: int) -> list[str]:
    """k prompts cycled from the dev set (the fallback list when it is not there)."""
    base = FALLBACK
    if DEV_PROMPTS.exists():
        base = [json.loads(t)["prompt"] for t in DEV_PROMPTS.read_text().splitlines()
                if t.strip()]
    return [base[i % len(base)] for i in range(k)]


def run(label: str, prompt_file: Path, size: str, workers: int, extra: list[str]) -> dict:
    """One `limner batch` in a fresh process and a fresh output directory, timed by wall
    clock from the command's start to its exit (start-up included: what a user waits for)."""
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "limner", "batch", str(prompt_file), "--out", out,
               "--size", size, "--no-progress", *extra]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            raise SystemExit(f"{label}: exit {proc.returncode}: {proc.stderr[-800:]}")
        rows = [json.loads(t) for t in (Path(out) / MANIFEST).read_text().splitlines()]
    # seconds of each image inside its worker (generate + write); their sum over the workers
    # is the pool's busy time, which leaves out process and actor start-up
    busy = sum(r["seconds"] for r in rows)
    steady = len(rows) / (busy / workers)
    warm = warm_rate(rows)
    # CPU of the batch process and its worker processes (Ray actors are not our children)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    cpu_text = f", {cpu:.1f} CPU s in all" if "Ray" not in label else ""
    print(f"{label:<16} {len(rows):>4} images  {wall:7.2f} s wall  {len(rows) / wall:6.3f} "
          f"images/s  (busy rate {steady:6.3f} images/s, {busy / len(rows):.3f} s "
          f"per image in a worker{cpu_text}; warm {warm:6.3f} images/s)", flush=True)
    return {"label": label, "rate": len(rows) / wall, "steady": steady, "cpu": cpu,
            "warm": warm}


def warm_rate(rows: list[dict]) -> float:
    """Images/s once every worker is warm: each worker's first row (the manifest is in
    completion order) carries its one-off warm-up and is left out."""
    by_worker: dict[str, list[float]] = {}
    for r in rows:
        by_worker.setdefault(r["worker"], []).append(r["seconds"])
    rest = [secs[1:] for secs in by_worker.values()]
    busy = sum(sum(x) for x in rest) / len(by_worker)
    return sum(len(x) for x in rest) / busy if busy > 0 else 0.0


def _spin(n: int) -> float:
    t0 = time.perf_counter()
    x = 0
    for i in range(n):
        x += i * i
    return time.perf_counter() - t0


def process_ceiling(n: int = 10_000_000) -> float:
    """What a second process can add here at all: throughput of 2 processes of plain
    arithmetic over 1 (about 2.0 on 2 idle cores; no limner code involved)."""
    import multiprocessing

    one = _spin(n)
    t0 = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        pool.map(_spin, [n, n])
    return 2 * one / (time.perf_counter() - t0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=200)
    ap.add_argument("--size", default="1024x1024")
    ap.add_argument("--no-ray", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("LIMNER_HOME", tempfile.mkdtemp(prefix="limner_bench_home_"))
    print(f"cores: {os.cpu_count()}  size: {args.size}  images per run: {args.images}  "
          f"load average before: {os.getloadavg()[0]:.1f} (other work on the machine skews "
          f"the ratios; compare runs made at low load)")
    ceiling = process_ceiling()
    print(f"machine check: 2 processes of plain arithmetic = {ceiling:.2f}x one "
          f"(the most any 2-process run can gain here now)")
    with tempfile.TemporaryDirectory() as d:
        pf = Path(d) / "prompts.jsonl"
        pf.write_text("".join(json.dumps({"id": f"b{i:04d}", "prompt": p, "seed": i}) + "\n"
                              for i, p in enumerate(prompts(args.images))))
        one = run("1 worker", pf, args.size, 1, [])
        two = run("2 workers", pf, args.size, 2, ["--workers", "2"])
        ray_fig = None if args.no_ray else bench_ray(pf, args.size)
    print(f"load average after: {os.getloadavg()[0]:.1f}; machine check again: "
          f"{process_ceiling():.2f}x")
    print(f"CPU seconds, 2 workers / 1 worker: {two['cpu'] / one['cpu']:.2f}x (the extra is "
          f"the second process's start-up and warm-up; near 1 means the work splits cleanly)")
    for fig in [two] + ([ray_fig] if ray_fig else []):
        print(f"scaling {fig['label']} / 1 worker: {fig['rate'] / one['rate']:.2f}x wall, "
              f"{fig['steady'] / one['steady']:.2f}x busy rate, "
              f"{fig['warm'] / one['warm']:.2f}x warm  (goal >= 1.8x)")
    return 0


def bench_ray(prompt_file: Path, size: str) -> dict | None:
    """Ray with 2 actors: a local Ray instance is started here (not timed, as a cluster would
    already be running) and the batch joins it with --ray-address."""
    try:
        import ray
    except ImportError:
        print("ray: not installed (pip install 'limner[ray]'), skipped")
        return None
    t0 = time.perf_counter()
    ctx = ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
    print(f"ray.init: {time.perf_counter() - t0:.2f} s (not counted)")
    try:
        return run("Ray, 2 actors", prompt_file, size, 2,
                   ["--ray-address", ctx.address_info["gcs_address"], "--ray-actors", "2"])
    finally:
        ray.shutdown()


if __name__ == "__main__":
    sys.exit(main())
