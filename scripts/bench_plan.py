#!/usr/bin/env python3
"""Planning speed of the rules planner: warm ms per prompt and cold start, printed.

    python3 scripts/bench_plan.py [PROMPTS.jsonl] [--repeat N]

Warm: every prompt planned once to load tables, then timed over ``--repeat`` rounds (median
per prompt). Cold: a fresh interpreter that imports the planner and plans one prompt (the
lazy loads of lemminflect and webcolors included), and the ``limner plan --json`` command end
to end. Goal: <= 20 ms per prompt warm.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
DEFAULT = os.path.join(os.path.dirname(REPO), "shared", "eval", "dev_prompts.jsonl")
GOAL_MS = 20.0

_COLD = """
import time, sys
t0 = time.perf_counter()
from planner.rules import RulesPlanner
t1 = time.perf_counter()
RulesPlanner().plan(sys.argv[1])
t2 = time.perf_counter()
heavy = ('torch' in sys.modules, 'PIL' in sys.modules)
print(f"{(t1 - t0) * 1000:.1f} {(t2 - t1) * 1000:.1f} {heavy[0]} {heavy[1]}")
"""


def warm(prompts: list[str], repeat: int) -> list[float]:
    from planner.rules import RulesPlanner

    planner = RulesPlanner()
    for p in prompts:
        planner.plan(p)
    per_prompt = []
    for p in prompts:
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            planner.plan(p)
            times.append((time.perf_counter() - t0) * 1000)
        per_prompt.append(statistics.median(times))
    return per_prompt


def cold(prompt: str) -> tuple[float, float, bool, bool]:
    out = subprocess.run([sys.executable, "-c", _COLD, prompt], cwd=REPO, check=True,
                         capture_output=True, text=True).stdout.split()
    return float(out[0]), float(out[1]), out[2] == "True", out[3] == "True"


def cli_wall(prompt: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "limner", "plan", "--json", prompt], cwd=REPO,
                   check=True, capture_output=True)
    return (time.perf_counter() - t0) * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("prompts", nargs="?", default=DEFAULT)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    with open(args.prompts, encoding="utf-8") as fh:
        prompts = [json.loads(line)["prompt"] for line in fh if line.strip()]
    times = warm(prompts, args.repeat)
    mean, p50, worst = statistics.mean(times), statistics.median(times), max(times)
    print(f"warm: {len(prompts)} prompts, mean {mean:.2f} ms, median {p50:.2f} ms, "
          f"max {worst:.2f} ms per prompt (goal <= {GOAL_MS:.0f} ms: "
          f"{'met' if mean <= GOAL_MS else 'missed'}, mean/goal {mean / GOAL_MS:.2f})")
    imp, first, torch_loaded, pil_loaded = cold(prompts[0])
    print(f"cold: import {imp:.0f} ms + first plan {first:.0f} ms (lazy loads) = "
          f"{imp + first:.0f} ms; torch imported: {torch_loaded}; PIL imported: {pil_loaded}")
    print(f"cli: `limner plan --json` end to end {cli_wall(prompts[0]):.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
