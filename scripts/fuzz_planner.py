"""Fuzz the rules planner and reviser, and measure how their time grows with input length.

1. Random inputs (random Unicode, the lexicon's own words, quotes, long inputs): counts of
   Plans, PlanErrors and anything else (the goal: nothing else).
2. Scaling: for each input class, the time to plan (and to revise) prompts of 1k to 32k
   characters; prints ms per 1,000 characters and the growth ratio from 4k to 32k characters
   (8.0 = linear; the caps make most long prompts a fast PlanError).

Usage: nice python3 scripts/fuzz_planner.py [--cases 2000] [--seed 0]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import traceback
from collections import Counter

from planner import lexicon as lx
from planner.revise import revise
from planner.rules import RulesPlanner
from planner.schema import MAX_PROMPT_CHARS, Canvas, ObjectElement, Plan, PlanError, TextElement

WORDS = sorted({*lx.NUMBER_WORDS, *lx.CONTAINERS, *lx.DOC_WORDS, *lx.SCENE_WORDS,
                *lx.STYLE_WORDS, *lx.CJK_COLORS, *lx.CJK_COUNTERS, "red", "blue", "apple",
                "cup", "cat", "left", "of", "above", "on", "the", "a", "and", "says", "texts",
                "remove", "make", "add", "move", "it", "all", "\"", "「", "」", "🍕", "세일"})
CLASSES = {
    "objects": lambda n, rng: ("a red apple and a blue cup, " * (n // 28 + 1))[:n],
    "one quote": lambda n, rng: 'a poster that says "' + ("lorem ipsum " * n)[:n - 22] + '"',
    "many quotes": lambda n, rng: " ".join(f'"w{i}"' for i in range(n))[:n],
    "lexicon words": lambda n, rng: " ".join(rng.choice(WORDS) for _ in range(n))[:n],
    "random unicode": lambda n, rng: "".join(chr(rng.randrange(32, 0x2FFFF)) for _ in range(n)),
    "chinese": lambda n, rng: ("三只红苹果在桌子上，" * n)[:n],
}
EDIT_CLASSES = {
    "recolour clauses": lambda n: ("make the apple blue and " * n)[:n],
    "add clauses": lambda n: ("add a red ball, " * n)[:n],
    "lexicon words": lambda n: " ".join(random.Random(n).choice(WORDS) for _ in range(n))[:n],
}


def base_plan() -> Plan:
    return Plan(canvas=Canvas(width=256, height=256), elements=(
        ObjectElement(id="apple-1", box=(0.1, 0.5, 0.3, 0.7), label="apple", color="red"),
        ObjectElement(id="cup-1", box=(0.6, 0.5, 0.8, 0.7), label="cup"),
        TextElement(id="text-1", box=(0.1, 0.05, 0.9, 0.2), content="HELLO")))


def timed(fn) -> tuple[float, str]:
    t = time.perf_counter()
    try:
        fn()
        outcome = "plan"
    except PlanError:
        outcome = "PlanError"
    return time.perf_counter() - t, outcome


def random_prompt(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(0, 60)):
        kind = rng.random()
        if kind < 0.5:
            parts.append(rng.choice(WORDS))
        elif kind < 0.75:
            parts.append("".join(chr(rng.randrange(1, 0x2FFFF)) for _ in range(rng.randint(0, 8))))
        else:
            parts.append('"' + "".join(chr(rng.randrange(32, 0x3000))
                                       for _ in range(rng.randint(0, 20))) + '"')
    return " ".join(parts)


def fuzz(cases: int, seed: int) -> Counter:
    rng = random.Random(seed)
    planner = RulesPlanner()
    counts: Counter = Counter()
    worst = (0.0, "")
    planner.plan("a cup")                   # first-use loads (lemma tables) are not fuzzing
    for i in range(cases):
        prompt = random_prompt(rng)
        for name, fn in (("plan", lambda: planner.plan(prompt, seed=i)),
                         ("revise", lambda: revise(base_plan(), prompt))):
            try:
                dt, outcome = timed(fn)
                counts[f"{name}: {outcome}"] += 1
                worst = max(worst, (dt, f"{name} of {len(prompt)} characters {prompt[:50]!r}"))
            except Exception:               # noqa: BLE001 - that is what is being counted
                counts[f"{name}: OTHER {traceback.format_exc().splitlines()[-1][:80]}"] += 1
    print(f"random inputs: {cases} prompts, each planned and used as an edit instruction")
    for k, v in sorted(counts.items()):
        print(f"  {v:6d}  {k}")
    print(f"  slowest: {worst[0] * 1000:.0f} ms, {worst[1]}")
    return counts


def scaling() -> None:
    planner = RulesPlanner()
    lengths = [1000, 4000, 8000, 16000, MAX_PROMPT_CHARS]
    print("\nplanning time by prompt length (median of 3; ms, then ok = a Plan, err = a "
          "PlanError):")
    print(f"  {'class':16s} " + " ".join(f"{n:>14d}" for n in lengths) + "   4k->32k ratio")
    for name, make in CLASSES.items():
        row, times = [], {}
        for n in lengths:
            prompt = make(n, random.Random(n))
            runs = [timed(lambda: planner.plan(prompt)) for _ in range(3)]
            dt = statistics.median(r[0] for r in runs)
            times[n] = dt
            row.append(f"{dt * 1000:9.0f} {'ok' if runs[0][1] == 'plan' else 'err':>4s}")
        ratio = times[MAX_PROMPT_CHARS] / max(times[4000], 1e-6)
        print(f"  {name:16s} " + " ".join(row) + f"   {ratio:5.1f} (linear: 8.0)")
    print("\nrevising time by instruction length (median of 3; ms, ok | err):")
    for name, make in EDIT_CLASSES.items():
        row, times = [], {}
        for n in lengths:
            text = make(n)
            runs = [timed(lambda: revise(base_plan(), text)) for _ in range(3)]
            dt = statistics.median(r[0] for r in runs)
            times[n] = dt
            row.append(f"{dt * 1000:9.0f} {'ok' if runs[0][1] == 'plan' else 'err':>4s}")
        ratio = times[MAX_PROMPT_CHARS] / max(times[4000], 1e-6)
        print(f"  {name:16s} " + " ".join(row) + f"   {ratio:5.1f} (linear: 8.0)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    counts = fuzz(args.cases, args.seed)
    scaling()
    sys.exit(1 if any("OTHER" in k for k in counts) else 0)


if __name__ == "__main__":
    main()
