"""Batch throughput: images/s of `limner batch` with 1 and 2 local workers and on Ray with 2
actors (draft renderer, rules planner), and the scaling ratio.

    python3 scripts/bench_batch.py                 # 1024x1024, 24 images per run
    python3 scripts/bench_batch.py --images 40 --size 1024x1024 --no-ray

Each run starts from an empty output directory, so every image is rendered, encoded, hashed,
written and recorded. Wall time includes starting the workers (process spawn and Limner
construction, or Ray actor start-up): that is what a user waits for. The steady-state rate
(after the first image of each worker is done) is printed beside it.
Goal (issue 9): 2 workers >= 1.8x one worker on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from limner.batch import MANIFEST, BatchOptions, run_batch  # noqa: E402

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


def run(label: str, prompt_file: Path, size: str, workers: int = 1, ray=None) -> dict:
    """One timed batch into a fresh directory; returns the figures."""
    with tempfile.TemporaryDirectory() as out:
        opts = BatchOptions(out_dir=out, size=size, workers=workers)
        t0 = time.perf_counter()
        summary = run_batch(prompt_file, opts, progress=False, ray=ray)
        wall = time.perf_counter() - t0
        rows = [json.loads(t) for t in (Path(out) / MANIFEST).read_text().splitlines()]
    assert summary.exit_code == 0 and summary.done == len(rows), summary.text()
    busy = sum(r["seconds"] for r in rows)  # render+encode+write seconds, summed over images
    rate = summary.done / wall
    print(f"{label:<18} {summary.done:>4} images  {wall:7.2f} s wall  {rate:6.3f} images/s  "
          f"({busy / summary.done:.3f} s per image inside a worker)", flush=True)
    return {"label": label, "images": summary.done, "wall": wall, "rate": rate,
            "per_image": busy / summary.done}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=24)
    ap.add_argument("--size", default="1024x1024")
    ap.add_argument("--no-ray", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("LIMNER_HOME", tempfile.mkdtemp(prefix="limner_bench_home_"))
    print(f"cores: {os.cpu_count()}  size: {args.size}  images per run: {args.images}  "
          f"load average before: {os.getloadavg()[0]:.1f} (other work on the machine skews "
          f"the ratios; compare runs made at low load)")
    with tempfile.TemporaryDirectory() as d:
        pf = Path(d) / "prompts.jsonl"
        pf.write_text("".join(json.dumps({"id": f"b{i:04d}", "prompt": p, "seed": i}) + "\n"
                              for i, p in enumerate(prompts(args.images))))
        run("warm-up (1 worker)", pf, args.size)  # fonts, sprite caches, imports
        one = run("1 worker", pf, args.size)
        two = run("2 workers", pf, args.size, workers=2)
        ray_fig = None
        if not args.no_ray:
            ray_fig = bench_ray(pf, args.size)
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print(f"scaling 2 workers / 1 worker: {two['rate'] / one['rate']:.2f}x  (goal >= 1.8x)")
    if ray_fig is not None:
        print(f"scaling Ray 2 actors / 1 worker: {ray_fig['rate'] / one['rate']:.2f}x")
    return 0


def bench_ray(prompt_file: Path, size: str) -> dict | None:
    try:
        import ray
    except ImportError:
        print("ray: not installed (pip install 'limner[ray]'), skipped")
        return None
    from limner.ray_backend import RayOptions

    t0 = time.perf_counter()
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"LIMNER_HOME": os.environ["LIMNER_HOME"]}})
    print(f"ray.init: {time.perf_counter() - t0:.2f} s (not counted below)")
    try:
        return run("Ray, 2 actors", prompt_file, size, ray=RayOptions(actors=2, batch_size=1))
    finally:
        ray.shutdown()


if __name__ == "__main__":
    sys.exit(main())
