"""Measure editing: how much of the picture an edit redraws, how long it takes against a full
render, and that every pixel outside the diff mask is kept.

Usage:
    python3 scripts/bench_edit.py [--size 1024x1024] [--repeat 3] [--tiny-diffusion]

Prints one line per edit verb (changed share of the canvas, partial vs full render time,
pixels outside the mask kept exactly) and, with --tiny-diffusion, the same check for the
inpainting path on a tiny random-init SDXL built in-process (weights are random: the
figure is the mechanism's cost and exactness, not image quality).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

EDITS = [
    "add a red umbrella for the cat", "remove the left apple", "replace the cat with a dog",
    "make the cat blue", "move the cat to the left", "make the green apple bigger",
    "make the title say SPRING SALE", "change the background to rainy weather",
]


def _plan(size):
    from planner.schema import Canvas, ObjectElement, Plan, TextElement

    return Plan(seed=2, canvas=Canvas(width=size[0], height=size[1]), elements=(
        ObjectElement(id="apple-1", box=(0.05, 0.55, 0.22, 0.72), label="apple", color="red",
                      subject_id="apple-1"),
        ObjectElement(id="apple-2", box=(0.3, 0.55, 0.47, 0.72), label="apple",
                      color="green", subject_id="apple-2"),
        ObjectElement(id="cat-1", box=(0.6, 0.4, 0.92, 0.8), label="cat", subject_id="cat-1"),
        TextElement(id="title-1", box=(0.1, 0.04, 0.9, 0.2), content="HELLO", role="title"),
    ))


def _best(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return out, min(times)


def bench_draft(size, repeat):
    import numpy as np

    from planner.revise import revise
    from render.draft import DraftRenderer
    from render.edit import apply_edit

    r = DraftRenderer()
    p0 = _plan(size)
    before = r.render(p0).image
    print(f"draft renderer, {size[0]}x{size[1]}, best of {repeat}")
    print(f"{'edit':<42} {'redrawn':>8} {'full s':>7} {'edit s':>7} {'ratio':>6}  outside kept")
    for ins in EDITS:
        p1 = revise(p0, ins)
        _, full = _best(lambda: r.render(p1).image, repeat)
        res, part = _best(lambda: apply_edit(r, before, p0, p1), repeat)
        keep = np.asarray(res.mask) == 0
        same = np.array_equal(np.asarray(before)[keep], np.asarray(res.image)[keep])
        print(f"{ins:<42} {1 - keep.mean():>7.1%} {full:>7.3f} {part:>7.3f} "
              f"{part / full:>6.2f}  {same}")


def bench_tiny_diffusion():
    import numpy as np
    from PIL import Image

    from model.diffusion import resolve_preset
    from model.tiny import build_tiny
    from planner.revise import revise
    from planner.schema import Canvas, ObjectElement, Plan
    from render.diffusion import DiffusionOptions, DiffusionRenderer
    from render.edit import apply_edit

    t = time.perf_counter()
    name, preset = resolve_preset("sdxl")
    r = DiffusionRenderer(build_tiny("sdxl"), preset, name,
                          DiffusionOptions(steps=2, native=(64, 64)))
    built = time.perf_counter() - t
    p0 = Plan(quality="low", canvas=Canvas(width=64, height=64), elements=(
        ObjectElement(id="cat-1", box=(0.5, 0.4, 0.9, 0.9), label="cat", subject_id="cat-1"),))
    before = Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8))
    p1 = revise(p0, "make the cat blue")
    t = time.perf_counter()
    res = apply_edit(r, before, p0, p1)
    took = time.perf_counter() - t
    keep = np.asarray(res.mask) == 0
    same = np.array_equal(np.asarray(before)[keep], np.asarray(res.image)[keep])
    changed = (np.asarray(before)[~keep] != np.asarray(res.image)[~keep]).any()
    print(f"tiny SDXL inpaint 64x64: build {built:.1f} s, edit {took:.2f} s, redrawn "
          f"{1 - keep.mean():.1%}, outside kept {same}, inside changed {changed}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="1024x1024")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--tiny-diffusion", action="store_true")
    a = ap.parse_args()
    w, h = (int(v) for v in a.size.lower().split("x"))
    bench_draft((w, h), a.repeat)
    if a.tiny_diffusion:
        bench_tiny_diffusion()


if __name__ == "__main__":
    main()
