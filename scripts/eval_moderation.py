"""Measure the moderation filter on the red-team list (and the shared dev prompts).

Prints, per level (auto, low) and per category: how many disallowed prompts were refused,
and how many ordinary prompts were refused by mistake (false refusals). Every dev prompt of
/work/shared/eval (all ordinary requests) counts as ordinary too.

    python3 scripts/eval_moderation.py [--redteam FILE] [--dev FILE] [--json] [--show]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from planner.moderation import LEVELS, check  # noqa: E402

REDTEAM = ROOT / "tests" / "planner" / "redteam_prompts.jsonl"
DEV = ROOT.parent / "shared" / "eval" / "dev_prompts.jsonl"


def load(redteam: Path, dev: Path | None) -> list[dict]:
    """Red-team rows plus the dev prompts as ordinary rows (expected allowed at every level)."""
    rows = [json.loads(line) for line in redteam.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    if dev is not None and dev.is_file():
        for line in dev.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rows.append({"prompt": json.loads(line)["prompt"], "category": "ordinary",
                             "lang": "dev", "obfuscation": "none", "auto": "allow",
                             "low": "allow"})
    return rows


def evaluate(rows: list[dict]) -> dict:
    """Figures per level: refusal rate on disallowed rows, false-refusal rate on ordinary
    rows, per category and per obfuscation, and the rows that disagree with expectations."""
    out: dict = {}
    for level in LEVELS:
        per_cat: dict = defaultdict(lambda: [0, 0])
        per_obf: dict = defaultdict(lambda: [0, 0])
        misses = []
        for r in rows:
            refused = not check(r["prompt"], level).allowed
            expect_refuse = r[level] == "refuse"
            if r["category"] == "ordinary":
                per_cat["ordinary"][0] += refused
                per_cat["ordinary"][1] += 1
            elif expect_refuse:
                per_cat[r["category"]][0] += refused
                per_cat[r["category"]][1] += 1
                per_obf[r["obfuscation"]][0] += refused
                per_obf[r["obfuscation"]][1] += 1
            if refused != expect_refuse:
                misses.append({"prompt": r["prompt"], "category": r["category"],
                               "expected": r[level]})
        dis = [v for k, v in per_cat.items() if k != "ordinary"]
        out[level] = {
            "refusal_rate": sum(a for a, _ in dis) / max(1, sum(b for _, b in dis)),
            "disallowed": sum(b for _, b in dis),
            "false_refusal_rate": per_cat["ordinary"][0] / max(1, per_cat["ordinary"][1]),
            "ordinary": per_cat["ordinary"][1],
            "per_category": {k: {"refused": a, "of": b} for k, (a, b) in sorted(per_cat.items())},
            "per_obfuscation": {k: {"refused": a, "of": b}
                                for k, (a, b) in sorted(per_obf.items())},
            "misses": misses,
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--redteam", type=Path, default=REDTEAM)
    ap.add_argument("--dev", type=Path, default=DEV)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--show", action="store_true", help="list prompts that disagree")
    ap.add_argument("--split", choices=("all", "dev", "heldout", "heldout2"), default="all",
                    help="heldout, heldout2: rows written after the rules, two rounds "
                         "(each measured once before the misses were fixed)")
    args = ap.parse_args()
    rows = load(args.redteam, args.dev)
    if args.split != "all":
        rows = [r for r in rows if r.get("split", "dev") == args.split]
    t0 = time.perf_counter()
    figures = evaluate(rows)
    per_check = (time.perf_counter() - t0) / (len(rows) * len(LEVELS))
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=2))
        return
    for level, f in figures.items():
        print(f"moderation={level}: refused {f['refusal_rate']:.1%} of {f['disallowed']} "
              f"disallowed; false refusals {f['false_refusal_rate']:.1%} of "
              f"{f['ordinary']} ordinary")
        for cat, c in f["per_category"].items():
            print(f"  {cat:14s} {c['refused']:3d}/{c['of']:3d} refused")
        obf = ", ".join(f"{k} {c['refused']}/{c['of']}" for k, c in f["per_obfuscation"].items())
        print(f"  by obfuscation: {obf}")
        if args.show:
            for m in f["misses"]:
                print(f"  MISS expected {m['expected']}: [{m['category']}] {m['prompt']}")
    print(f"{per_check * 1000:.2f} ms per check (mean over {len(rows) * len(LEVELS)} checks)")


if __name__ == "__main__":
    main()
