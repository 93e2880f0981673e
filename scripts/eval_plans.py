#!/usr/bin/env python3
"""Score plans against expectations, exactly by ../shared/eval/README.md ("How a plan is scored").

    python3 scripts/eval_plans.py PROMPTS.jsonl [--planner rules|llm|auto] [--model M] [--json]

Prints the share of prompts that pass, the share of each kind of check, each failing prompt
with its reasons, and milliseconds per prompt. ``score_plan(plan, expect)`` is importable.

Check kinds: ``text`` (each expected string is some text element's exact content),
``text_precision`` (no text element that was never asked for; one check per prompt),
``object`` (elements whose label contains the name as a word: count equal),
``color`` (every matched element's colour names the expected colour: the CSS name itself, a
CSS name that contains it as a word part such as darkgreen for green, or a colour within
RGB distance 90 of it), ``relation`` (box centres of every a against every b), ``aspect``
(width/height within 3%), ``background`` (kind transparent). A prompt passes when all of
its checks pass.

Two optional expectations beyond the shared README, used by this project's held-out set:
``scene`` (the background is that named scene backdrop, ``canvas.background.scene``) and
``ground`` (names of objects that must stand on the scene's ground band: every matched
element's bottom edge lies inside ``planner.layout.GROUND_BANDS[scene]``).

Design expectations (tests/planner/heldout_design.jsonl): ``template`` (the Plan's template),
``shapes`` (``[{"shape": "bar", "count": 4}]``: shape elements of that kind), ``larger``
(``[[a, b]]``: text a is set in a larger font than text b; the font size is the element's
``font_size`` when it has one, else its box height), ``price_column`` (menu lines set in two
columns, ``split``, whose boxes share one left and one right edge), ``evenly_spaced`` (the texts' centres are equally
spaced), ``bar_order`` (bars left to right have heights in the ratio of these values).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

COLOR_DISTANCE = 90.0
ASPECT_TOLERANCE = 0.03


def _rgb(color: str | None) -> tuple[int, int, int] | None:
    import webcolors

    if not color:
        return None
    c = color.strip().lower()
    try:
        if c.startswith("#"):
            return tuple(webcolors.hex_to_rgb(c))
        return tuple(webcolors.name_to_rgb(c.replace(" ", "")))
    except ValueError:
        return None


def color_matches(actual: str | None, expected: str) -> bool:
    """Does an element's colour name the expected colour (CSS name or a hex close to it)?"""
    if not actual:
        return False
    a, e = actual.strip().lower().replace(" ", ""), expected.strip().lower().replace(" ", "")
    if a == e or (e == "gray" and a == "grey") or (e == "grey" and a == "gray"):
        return True
    if not a.startswith("#") and a.endswith(e) and _rgb(a) is not None:
        return True    # darkgreen names green
    ra, re_ = _rgb(a), _rgb(e)
    if ra is None or re_ is None:
        return False
    return math.dist(ra, re_) <= COLOR_DISTANCE


def _word_in(name: str, label: str) -> bool:
    return re.search(r"(?<![\w])" + re.escape(name.lower()) + r"(?![\w])", label.lower()) \
        is not None


def _matched(plan: dict, name: str) -> list[dict]:
    """Elements an expectation name stands for: objects by label word, or ``text:<s>``."""
    els = plan.get("elements", [])
    if name.startswith("text:"):
        s = name[5:]
        return [e for e in els if e.get("kind") == "text" and e.get("content") == s]
    return [e for e in els if e.get("kind") == "object" and _word_in(name, e.get("label", ""))]


def _centre(box: list[float]) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def relation_holds(plan: dict, a: str, rel: str, b: str) -> tuple[bool, str]:
    """Centre comparison over all matched elements; returns (ok, reason)."""
    ea, eb = _matched(plan, a), _matched(plan, b)
    if not ea or not eb:
        return False, f"relation {a} {rel} {b}: no element for {a if not ea else b}"
    axis, sign = {"left of": (0, 1), "right of": (0, -1), "above": (1, 1),
                  "below": (1, -1)}[rel]
    for x in ea:
        for y in eb:
            ca, cb = _centre(x["box"])[axis], _centre(y["box"])[axis]
            if not (sign * (cb - ca) > 0):
                return False, f"relation {a} {rel} {b}: centres {ca:.3f} vs {cb:.3f}"
    return True, ""


def score_plan(plan: Any, expect: dict) -> dict:
    """Score one plan (a Plan or its JSON dict) against one ``expect`` object.

    Returns:
        ``{"passed": bool, "checks": [(kind, ok, reason)], "failures": [reason]}``.
    """
    if hasattr(plan, "model_dump"):
        plan = plan.model_dump(mode="json")
    checks: list[tuple[str, bool, str]] = []
    texts = [e for e in plan.get("elements", []) if e.get("kind") == "text"]
    for s in expect.get("texts", []):
        ok = any(t.get("content") == s for t in texts)
        checks.append(("text", ok, "" if ok else f"text {s!r} missing"))
    asked = set(expect.get("texts", []))
    extra = [t["content"] for t in texts if t.get("content") not in asked]
    checks.append(("text_precision", not extra,
                   "" if not extra else f"unrequested text {extra!r}"))
    for o in expect.get("objects", []):
        found = _matched(plan, o["name"])
        ok = len(found) == o.get("count", 1)
        checks.append(("object", ok, "" if ok else
                       f"object {o['name']}: {len(found)} found, {o.get('count', 1)} expected"))
        if o.get("color"):
            bad = [e.get("color") for e in found if not color_matches(e.get("color"), o["color"])]
            ok = bool(found) and not bad
            checks.append(("color", ok, "" if ok else
                           f"color of {o['name']}: {bad or 'none'} is not {o['color']}"))
    for a, rel, b in expect.get("relations", []):
        ok, why = relation_holds(plan, a, rel, b)
        checks.append(("relation", ok, why))
    canvas = plan.get("canvas", {})
    if expect.get("aspect"):
        w, h = (int(v) for v in expect["aspect"].split(":"))
        r = canvas.get("width", 1) / canvas.get("height", 1)
        ok = abs(r - w / h) / (w / h) <= ASPECT_TOLERANCE
        checks.append(("aspect", ok, "" if ok else
                       f"aspect {canvas.get('width')}x{canvas.get('height')} is not {w}:{h}"))
    if expect.get("background"):
        kind = canvas.get("background", {}).get("kind")
        ok = kind == expect["background"]
        checks.append(("background", ok, "" if ok else
                       f"background {kind} is not {expect['background']}"))
    checks += _scene_checks(plan, expect)
    checks += _design_checks(plan, expect)
    failures = [why for _, ok, why in checks if not ok]
    return {"passed": not failures, "checks": checks, "failures": failures}


def _scene_checks(plan: dict, expect: dict) -> list[tuple[str, bool, str]]:
    """The optional ``scene`` and ``ground`` expectations (see the module docstring)."""
    from planner.layout import GROUND_BANDS

    bg = plan.get("canvas", {}).get("background", {})
    scene = bg.get("scene") if bg.get("kind") == "scene" else None
    checks = []
    if expect.get("scene"):
        ok = scene == expect["scene"]
        checks.append(("scene", ok, "" if ok else f"scene {scene} is not {expect['scene']}"))
    for name in expect.get("ground", []):
        band = GROUND_BANDS.get(scene or "")
        found = _matched(plan, name)
        low = [round(e["box"][3], 2) for e in found
               if band is None or not band[0] <= e["box"][3] <= band[1]]
        ok = bool(found) and band is not None and not low
        checks.append(("ground", ok, "" if ok else
                       f"{name} not on the ground of scene {scene}: bottoms {low or 'none'}"))
    return checks


def _font(plan: dict, content: str) -> float | None:
    els = _matched(plan, "text:" + content)
    if not els:
        return None
    e = els[0]
    h = plan.get("canvas", {}).get("height", 1)
    return (e.get("font_size") or (e["box"][3] - e["box"][1])) * h


def _design_checks(plan: dict, expect: dict) -> list[tuple[str, bool, str]]:
    """The optional design expectations (see the module docstring)."""
    checks: list[tuple[str, bool, str]] = []
    els = plan.get("elements", [])
    if expect.get("template"):
        ok = plan.get("template") == expect["template"]
        checks.append(("template", ok, "" if ok else
                       f"template {plan.get('template')} is not {expect['template']}"))
    for sh in expect.get("shapes", []):
        n = sum(1 for e in els if e.get("kind") == "shape" and e.get("shape") == sh["shape"])
        ok = n == sh.get("count", 1)
        checks.append(("shape", ok, "" if ok else
                       f"shape {sh['shape']}: {n} found, {sh.get('count', 1)} expected"))
    for a, b in expect.get("larger", []):
        fa, fb = _font(plan, a), _font(plan, b)
        ok = fa is not None and fb is not None and fa > fb
        checks.append(("larger", ok, "" if ok else f"text {a!r} ({fa}) not larger than {b!r} ({fb})"))
    if expect.get("price_column"):
        found = [(_matched(plan, "text:" + s) or [None])[0] for s in expect["price_column"]]
        ok = all(found) and all(e.get("split") for e in found) and \
            max(e["box"][2] for e in found) - min(e["box"][2] for e in found) < 0.01 and \
            max(e["box"][0] for e in found) - min(e["box"][0] for e in found) < 0.01
        checks.append(("price_column", ok, "" if ok else
                       "menu lines not set as name + price columns with one right edge"))
    if expect.get("evenly_spaced"):
        found = [(_matched(plan, "text:" + s) or [None])[0] for s in expect["evenly_spaced"]]
        ys = [_centre(e["box"])[1] for e in found if e]
        steps = [b - a for a, b in zip(ys, ys[1:])]
        ok = len(ys) == len(found) and bool(steps) and min(steps) > 0 and \
            max(steps) - min(steps) < 0.01
        checks.append(("spacing", ok, "" if ok else f"centres {ys} not evenly spaced"))
    if expect.get("bar_order"):
        bars = sorted((e for e in els if e.get("kind") == "shape" and e.get("shape") == "bar"),
                      key=lambda e: e["box"][0])
        want = expect["bar_order"]
        hs = [e["box"][3] - e["box"][1] for e in bars]
        ok = len(hs) == len(want) and all(
            abs(h / hs[0] - v / want[0]) < 0.05 * v / want[0] for h, v in zip(hs, want))
        checks.append(("bars", ok, "" if ok else f"bar heights {hs} not in ratio {want}"))
    return checks


def evaluate(rows: list[dict], planner: Any) -> dict:
    """Plan and score every row; returns the summary (shares, failures, ms per prompt)."""
    per_kind: dict[str, list[int]] = {}
    failures, passed, elapsed = [], 0, 0.0
    for row in rows:
        t0 = time.perf_counter()
        try:
            plan = planner.plan(row["prompt"])
            result = score_plan(plan, row.get("expect", {}))
        except Exception as e:  # a planner crash is a failed prompt, reported with its cause
            result = {"passed": False, "checks": [("plan", False, f"planner error: {e}")],
                      "failures": [f"planner error: {type(e).__name__}: {e}"]}
        elapsed += time.perf_counter() - t0
        passed += result["passed"]
        for kind, ok, _ in result["checks"]:
            per_kind.setdefault(kind, [0, 0])
            per_kind[kind][0] += ok
            per_kind[kind][1] += 1
        if not result["passed"]:
            failures.append({"id": row.get("id"), "prompt": row["prompt"],
                             "reasons": result["failures"]})
    n = max(len(rows), 1)
    return {"prompts": len(rows), "passed": passed, "pass_share": passed / n,
            "per_kind": {k: {"passed": v[0], "total": v[1], "share": v[0] / v[1]}
                         for k, v in sorted(per_kind.items())},
            "failures": failures, "ms_per_prompt": 1000 * elapsed / n}


def load_rows(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("prompts", help="JSONL file of {prompt, expect}")
    ap.add_argument("--planner", default="rules", choices=("rules", "llm", "auto"))
    ap.add_argument("--model", default=None, help="LLM preset name or path")
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = ap.parse_args(argv)
    from planner.base import get_planner
    from planner.schema import PlanError

    try:
        planner = get_planner(args.planner, model=args.model)
    except (PlanError, ValueError, OSError) as e:
        print(f"eval_plans: error: {e}", file=sys.stderr)
        return 2
    summary = evaluate(load_rows(args.prompts), planner)
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
        return 0
    print(f"{args.prompts}: {summary['passed']}/{summary['prompts']} prompts pass "
          f"({100 * summary['pass_share']:.1f}%), planner {args.planner}, "
          f"{summary['ms_per_prompt']:.1f} ms per prompt (including the first call)")
    for kind, v in summary["per_kind"].items():
        print(f"  {kind:15s} {v['passed']:4d}/{v['total']:<4d} {100 * v['share']:5.1f}%")
    for f in summary["failures"]:
        print(f"FAIL {f['id']}: {f['prompt']}")
        for r in f["reasons"]:
            print(f"     - {r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
