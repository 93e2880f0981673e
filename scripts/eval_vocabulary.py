"""How everyday nouns are drawn by the draft renderer: icon, emoji glyph, or labelled shape.

    python3 scripts/eval_vocabulary.py [--nouns scripts/data/everyday_nouns.tsv] [--sample 40]

Each noun goes through the rules planner as a user would type it ("a teapot"; Chinese,
Japanese and Korean nouns as they are), and the first object label the planner reads is
matched against the vocabulary (render/vocab.py). Prints, overall and per language, the share
drawn by a vector icon, by an emoji glyph (the font fallback) and by a shape, the nouns the
planner read no object from, and a seeded random sample of (noun → label → picture) for a
spot check by eye.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

HERE = os.path.dirname(os.path.abspath(__file__))


def _read(path: str) -> list[tuple[str, str]]:
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                lang, noun = line.rstrip("\n").split("\t")
                out.append((lang, noun))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nouns", default=os.path.join(HERE, "data", "everyday_nouns.tsv"))
    ap.add_argument("--sample", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from planner.rules import RulesPlanner
    from planner.schema import PlanError
    from render import icons
    from render.vocab import pick

    if not icons.available():
        print(f"note: {icons.INSTALL_HINT}")
    planner = RulesPlanner()
    nouns = _read(args.nouns)
    t = time.perf_counter()
    rows = []
    for lang, noun in nouns:
        prompt = f"a {noun}" if lang == "en" else noun
        try:
            objs = planner.plan(prompt, size=(512, 512)).objects
        except PlanError:  # the planner read nothing to draw
            objs = []
        label = objs[0].label if objs else None
        p = pick(label) if label else None
        rows.append((lang, noun, label, p))
    took = time.perf_counter() - t

    def shares(sel):
        c = collections.Counter("no object" if p is None else p.source for _l, _n, _lab, p in sel)
        n = len(sel)
        return n, {k: c.get(k, 0) / n for k in ("icon", "emoji", "shape", "no object")}

    print(f"{len(rows)} nouns ({took:.1f} s incl. loading)")
    print(f"{'set':>6} {'n':>5} {'icon':>7} {'emoji':>7} {'shape':>7} {'no obj':>7}")
    for lang in ("all", "en", "zh", "ja", "ko"):
        sel = rows if lang == "all" else [r for r in rows if r[0] == lang]
        if not sel:
            continue
        n, s = shares(sel)
        print(f"{lang:>6} {n:>5} {s['icon']:>7.1%} {s['emoji']:>7.1%} {s['shape']:>7.1%} "
              f"{s['no object']:>7.1%}")
    by_set = collections.Counter(p.icon_set for *_x, p in rows if p and p.source == "icon")
    print("icons by set: " + ", ".join(f"{k} {v}" for k, v in by_set.most_common()))
    print("\nshapes: " + ", ".join(f"{n}→{lab}" for _l, n, lab, p in rows
                                   if p is not None and p.source == "shape"))
    print("no object read: " + ", ".join(n for _l, n, _lab, p in rows if p is None))
    rng = random.Random(args.seed)
    drawn = [r for r in rows if r[3] is not None and r[3].source != "shape"]
    print(f"\nspot check ({args.sample} drawn nouns, seed {args.seed}):")
    for lang, noun, label, p in rng.sample(drawn, min(args.sample, len(drawn))):
        what = f"{p.icon_set}:{p.name}" if p.source == "icon" else f"emoji {p.glyph}"
        print(f"  {lang} {noun!r:>22} → {label!r:<20} {what:<40} (matched {p.matched!r})")


if __name__ == "__main__":
    main()
