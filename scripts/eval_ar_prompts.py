#!/usr/bin/env python3
"""How much of each Plan reaches the prompt-driven families (Ideogram 4, GLM-Image, Janus-Pro,
Bria FIBO).

These families get no init image and no attention masks: the prompt is the only channel for
the layout. For every prompt of a JSONL file (default ../shared/eval/dev_prompts.jsonl) the
rules planner writes a Plan; then, per family:

1. once, a tiny build of the family (model/tiny.py, bf16, CPU) renders one Plan through
   ``Limner`` with a spy on the pipeline's ``__call__``: the prompt the pipeline received must
   be exactly the family's conditioning of that Plan (so the figures below describe what the
   model reads, not a copy of it);
2. for every Plan, from that conditioning: the share of objects whose label and placement
   reach the prompt (Ideogram 4: an ``obj`` element whose parsed box equals the Plan's to
   1/1000; the others: the label and the position words of its box), the share of texts
   quoted verbatim (Janus-Pro is asked for empty text areas instead: exact text mode), and
   for Ideogram 4 the largest box error after parsing the caption back. FIBO takes positions
   as words: an object counts when its parsed entry has its label, colour, grid cell and size
   class, and the run also counts objects that share their grid cell with another object of
   the same label (what FIBO's 3 x 3 cells cannot tell apart; boxes could).

    python3 scripts/eval_ar_prompts.py [--prompts FILE] [--no-render]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEV = ROOT.parent / "shared" / "eval" / "dev_prompts.jsonl"
FAMILIES = ("ideogram4", "glm-image", "janus-pro", "fibo")


def received_prompt(key: str, plan) -> tuple[str, str]:
    """(prompt the tiny pipeline received, the family's conditioning) for one render."""
    from limner.api import Limner
    from model.tiny import save_tiny

    d = save_tiny(key, Path(tempfile.mkdtemp()) / key)
    lim = Limner(renderer=str(d), device="cpu", dtype="bfloat16", steps=2, native=(32, 32))
    pipe = lim.renderer.pipe
    seen = []
    original = type(pipe).__call__

    def spy(self, *a, **kw):
        p = kw.get("prompt")
        seen.extend([p] if isinstance(p, str) else p)
        return original(self, *a, **kw)

    # a small canvas: the tiny builds are sampled at 32 px (their native size here)
    small = plan.model_copy(update={"canvas": plan.canvas.model_copy(
        update={"width": 64, "height": 64})})
    type(pipe).__call__ = spy
    try:
        lim.render([small])
    finally:
        type(pipe).__call__ = original
    expected = lim.renderer.family.conditioning(small, None, "auto")[0][0]
    return seen[0], expected


def coverage(key: str, plan) -> dict:
    from render.families import get_family
    from render.prompting import position_words

    text = get_family(key).conditioning(plan, None, "auto")[0][0]
    objs, texts = plan.objects, plan.texts
    out = {"objects": len(objs), "texts": len(texts), "obj_ok": 0, "text_ok": 0, "box_err": 0.0}
    if key == "ideogram4":
        from render.families.ideogram4_caption import read_caption

        parsed = read_caption(text)
        for el in [*objs, *texts]:
            match = [p for p in parsed if p.kind == ("text" if el.kind == "text" else "object")
                     and max(abs(a - b) for a, b in zip(p.box, el.box)) <= 1e-3 + 1e-9
                     and (p.head == el.content if el.kind == "text"
                          else p.head.endswith(getattr(el, "label", "")))]
            if match:
                out["text_ok" if el.kind == "text" else "obj_ok"] += 1
                err = max(abs(a - b) for a, b in zip(match[0].box, el.box))
                out["box_err"] = max(out["box_err"], err)
        return out
    if key == "fibo":
        return _fibo_coverage(plan, text, out)
    low = text.lower()
    for el in objs:
        out["obj_ok"] += int(el.label.lower() in low and position_words(el.box) in low)
    for t in texts:
        out["text_ok"] += int(f'"{t.content}"' in text)
    return out


def _fibo_coverage(plan, text: str, out: dict) -> dict:
    from render.color import parse_color, to_hex
    from render.families.fibo_prompt import cell_of, read_prompt, size_of

    def hx(c):
        rgb = parse_color(c) if c else None
        return to_hex(rgb).lower() if rgb else None

    parsed = read_prompt(text)
    for el in [*plan.objects, *plan.texts]:
        kind = "text" if el.kind == "text" else "object"
        head_ok = ((lambda h: h == el.content) if kind == "text"
                   else (lambda h: h.endswith(el.label)))
        if any(p.kind == kind and head_ok(p.head) and p.cell == cell_of(el.box)
               and p.size == size_of(el.box) and p.color == hx(el.color) for p in parsed):
            out["text_ok" if kind == "text" else "obj_ok"] += 1
    out["same_cell"] = sum(any(o is not el and o.label == el.label
                               and cell_of(o.box) == cell_of(el.box) for o in plan.objects)
                           for el in plan.objects)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompts", type=Path, default=DEV)
    ap.add_argument("--no-render", action="store_true", help="skip the tiny-build check")
    args = ap.parse_args()
    from planner.rules import RulesPlanner

    rows = [json.loads(x) for x in args.prompts.read_text(encoding="utf-8").splitlines()
            if x.strip()]
    planner = RulesPlanner()
    plans = [planner.plan(r["prompt"], seed=i) for i, r in enumerate(rows)]
    for key in FAMILIES:
        if not args.no_render:
            got, want = received_prompt(key, plans[0])
            print(f"{key}: tiny pipeline received the family's conditioning exactly: "
                  f"{got == want} ({len(got)} chars)")
        tot = {"objects": 0, "texts": 0, "obj_ok": 0, "text_ok": 0, "box_err": 0.0,
               "same_cell": 0}
        for plan in plans:
            c = coverage(key, plan)
            for k in ("objects", "texts", "obj_ok", "text_ok", "same_cell"):
                tot[k] += c.get(k, 0)
            tot["box_err"] = max(tot["box_err"], c["box_err"])
        what = {"ideogram4": "label + box (parsed back)",
                "fibo": "label + colour + grid cell + size class (parsed back)"}.get(
                    key, "label + position words")
        line = (f"{key}: {len(plans)} plans; objects with {what}: "
                f"{tot['obj_ok']}/{tot['objects']}; ")
        if key == "janus-pro":
            line += f"texts: {tot['texts']} left to the text engine (exact mode)"
        else:
            line += f"texts quoted verbatim: {tot['text_ok']}/{tot['texts']}"
        if key == "ideogram4":
            line += f"; largest box error {tot['box_err']:.4f}"
        if key == "fibo":
            line += (f"; objects sharing their grid cell with another of the same label: "
                     f"{tot['same_cell']}/{tot['objects']}")
        print(line)


if __name__ == "__main__":
    main()
