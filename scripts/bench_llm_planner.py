#!/usr/bin/env python3
"""Time the LLM planner: model load, one uncached plan, a cached rerun, and a batch.

    python3 scripts/bench_llm_planner.py [--model smollm2-135m] [--prompts N] [--batch B]

Prints seconds for the load, milliseconds per prompt for single uncached plans, for cached
reruns (the reply cache under a temporary LIMNER_HOME) and for ``plan_many`` in batches, and
how many batched plans equal the single ones (greedy decoding in a padded batch can differ in
the last float bits). Uses the first N prompts of ../shared/eval/dev_prompts.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
DEV = os.path.join(os.path.dirname(ROOT), "shared", "eval", "dev_prompts.jsonl")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--prompts", type=int, default=8)
    ap.add_argument("--batch", type=int, default=8)
    args = ap.parse_args(argv)
    from planner.llm import LLMPlanner

    with open(DEV, encoding="utf-8") as f:
        prompts = [json.loads(line)["prompt"] for line in f if line.strip()][:args.prompts]
    home = tempfile.mkdtemp(prefix="limner-bench-llm-")
    single = LLMPlanner(args.model, cache_dir=os.path.join(home, "single"))
    t0 = time.perf_counter()
    single.llm
    load = time.perf_counter() - t0
    t0 = time.perf_counter()
    singles = [single.plan(p) for p in prompts]
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = [single.plan(p) for p in prompts]
    warm = time.perf_counter() - t0
    batched = LLMPlanner(args.model, llm=single.llm, batch_size=args.batch,
                         cache_dir=os.path.join(home, "batch"))
    batched._identity = single.identity()
    t0 = time.perf_counter()
    many = batched.plan_many(prompts)
    batch = time.perf_counter() - t0
    n = len(prompts)
    print(f"model {args.model}: load {load:.1f} s")
    print(f"uncached plan: {1000 * cold / n:.0f} ms per prompt ({n} prompts, one at a time)")
    print(f"cached rerun:  {1000 * warm / n:.1f} ms per prompt "
          f"(identical: {sum(a == b for a, b in zip(singles, again))}/{n}); "
          f"speed-up {cold / max(warm, 1e-9):.0f}x")
    print(f"plan_many:     {1000 * batch / n:.0f} ms per prompt (batches of {args.batch}); "
          f"{cold / max(batch, 1e-9):.2f}x the single speed; "
          f"equal to single: {sum(a == b for a, b in zip(singles, many))}/{n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
