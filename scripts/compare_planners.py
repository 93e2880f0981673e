"""What an LLM planner adds to the rules planner, prompt by prompt.

    python3 scripts/compare_planners.py PROMPTS.jsonl [--model smollm2-135m] [--json]

Plans every prompt twice — the rules planner, then the LLM planner (whose replies are cached
under $LIMNER_HOME/cache/llm, so a rerun after ``eval_plans.py --planner llm`` is quick) — and
prints where the two Plans differ: objects (label x count), their colours, texts, background,
style, size, template and boxes, plus the model's own notes ("model added: ..."). The rules' facts
always win in the LLM planner (planner/llm.py: merge), so every difference is something the
model filled in or added.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def summary(plan) -> dict:
    """The parts of a Plan the two planners can disagree on, as comparable values."""
    things = [e for e in plan.elements if e.kind == "object"]
    objects = Counter(e.label for e in things)
    colours = Counter((e.label, e.color) for e in things)
    texts = Counter(e.content for e in plan.elements if e.kind == "text")
    shapes = Counter(e.shape for e in plan.elements if e.kind == "shape")
    d = plan.model_dump(mode="json")
    return {"objects": objects, "colours": colours, "texts": texts, "shapes": shapes,
            "background": json.dumps(d["canvas"]["background"], sort_keys=True),
            "style": json.dumps(d["style"], sort_keys=True),
            "size": (plan.canvas.width, plan.canvas.height),
            "template": plan.template,
            "layout": [(e.id, [round(v, 2) for v in e.box]) for e in plan.elements]}


def differences(rules, llm) -> list[str]:
    a, b = summary(rules), summary(llm)
    out = []
    for key in ("objects", "colours", "texts", "shapes"):
        more, fewer = b[key] - a[key], a[key] - b[key]
        if more:
            out.append(f"{key} +{dict(more)}")
        if fewer:
            out.append(f"{key} -{dict(fewer)}")
    for key in ("background", "style", "size", "template"):
        if a[key] != b[key]:
            out.append(f"{key}: {a[key]} -> {b[key]}")
    if not out and a["layout"] != b["layout"]:
        out.append("same elements, other boxes (a relation or position the model added)")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("prompts")
    ap.add_argument("--model", default="smollm2-135m", help="LLM preset name or path")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    from planner.base import get_planner

    rules, llm = get_planner("rules"), get_planner("llm", model=args.model)
    rows = [json.loads(line) for line in Path(args.prompts).read_text(encoding="utf-8")
            .splitlines() if line.strip()]
    report, t0 = [], time.perf_counter()
    for row in rows:
        a, b = rules.plan(row["prompt"]), llm.plan(row["prompt"])
        notes = [n.strip() for n in (b.reasoning or "").split(";")
                 if n.strip().startswith("model added")]
        report.append({"id": row.get("id"), "prompt": row["prompt"],
                       "differences": differences(a, b), "model_notes": notes})
    changed = [r for r in report if r["differences"]]
    if args.json:
        print(json.dumps({"prompts": len(rows), "changed": len(changed), "rows": report},
                         ensure_ascii=False, indent=2))
        return 0
    print(f"{args.prompts}: the {args.model} plan differs from the rules plan on "
          f"{len(changed)}/{len(rows)} prompts ({time.perf_counter() - t0:.1f} s)")
    for r in changed:
        print(f"- {r['id']}: {r['prompt'][:90]}")
        for d in r["differences"]:
            print(f"    {d}")
        for n in r["model_notes"]:
            print(f"    note: {n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
