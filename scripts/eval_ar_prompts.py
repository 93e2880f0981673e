#!/usr/bin/env python3
"""How much of each Plan reaches the prompt-driven families (Ideogram 4, GLM-Image, Janus-Pro).

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
   for Ideogram 4 the largest box error after parsing the caption back.

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
FAMILIES = ("ideogram4", "glm-image", "janus-pro")


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
    low = text.lower()
    for el in objs:
        out["obj_ok"] += int(el.label.lower() in low and position_words(el.box) in low)
    for t in texts:
        out["text_ok"] += int(f'"{t.content}"' in text)
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
        tot = {"objects": 0, "texts": 0, "obj_ok": 0, "text_ok": 0, "box_err": 0.0}
        for plan in plans:
            c = coverage(key, plan)
            for k in ("objects", "texts", "obj_ok", "text_ok"):
                tot[k] += c[k]
            tot["box_err"] = max(tot["box_err"], c["box_err"])
        what = "label + box (parsed back)" if key == "ideogram4" else "label + position words"
        line = (f"{key}: {len(plans)} plans; objects with {what}: "
                f"{tot['obj_ok']}/{tot['objects']}; ")
        if key == "janus-pro":
            line += f"texts: {tot['texts']} left to the text engine (exact mode)"
        else:
            line += f"texts quoted verbatim: {tot['text_ok']}/{tot['texts']}"
        if key == "ideogram4":
            line += f"; largest box error {tot['box_err']:.4f}"
        print(line)


if __name__ == "__main__":
    main()
