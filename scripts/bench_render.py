"""Bench the draft path: plan + render + encode, next to a bare Pillow PNG encode.

    python3 scripts/bench_render.py [--runs 3] [--cores all] [--prompt TEXT] [--quality auto]
    python3 scripts/bench_render.py --cold   # render seconds with empty icon caches vs warm
    python3 scripts/bench_render.py --styles # 4K render seconds per drawn style

Pinned to one core by default (os.sched_setaffinity), torch never imported. For each size
it prints the best-of-runs seconds of plan, render, encode and their total, and two baselines:
``blank`` = Pillow's PNG encode of a same-size solid canvas, ``same`` = Pillow's PNG encode
of the rendered pixels (the cost of PNG itself). Ratios are total / baseline.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SIZES = ((1024, 1024), (2048, 2048), (3840, 2160))
PROMPT = ('A travel poster with the title "VISIT THE COAST" above three red apples and a '
          'blue bicycle on a beach')


def _best_times(fns: dict, runs: int) -> dict[str, float]:
    """Fastest of ``runs`` for each function, the functions interleaved run by run so a
    machine shared with other work slows all of them alike (the minimum is the figure
    least disturbed by other processes)."""
    best = {k: float("inf") for k in fns}
    for _ in range(runs):
        for k, fn in fns.items():
            t = time.perf_counter()
            fn()
            best[k] = min(best[k], time.perf_counter() - t)
    return best


def _png(image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def bench(prompt: str, runs: int, quality: str) -> None:
    from PIL import Image

    from limner.api import Limner
    from render.encode import encode_image

    lim = Limner()
    renderer = lim.renderer
    print(f"prompt: {prompt!r}  quality: {quality}  runs: {runs} (best, interleaved)  "
          f"cores: {sorted(os.sched_getaffinity(0))}")
    print(f"{'size':>10} {'plan':>7} {'render':>7} {'encode':>7} {'total':>7} "
          f"{'blank':>7} {'same':>7} {'x blank':>8} {'x same':>7}")
    for w, h in SIZES:
        p = lim.plan(prompt, size=(w, h), seed=1, quality=quality)
        img = renderer.render(p).image  # warm caches (fonts, sprites) before timing
        blank = Image.new("RGB", (w, h), (244, 241, 234))
        t = _best_times({
            "plan": lambda: lim.plan(prompt, size=(w, h), seed=1, quality=quality),
            "render": lambda: renderer.render(p),
            "encode": lambda: encode_image(img, p, seed=p.seed, renderer="draft",
                                           digital_source_type=renderer.digital_source_type),
            "blank": lambda: _png(blank),
            "same": lambda: _png(img),
        }, runs)
        total = t["plan"] + t["render"] + t["encode"]
        print(f"{w}x{h:<5} {t['plan']:7.3f} {t['render']:7.3f} {t['encode']:7.3f} {total:7.3f} "
              f"{t['blank']:7.3f} {t['same']:7.3f} {total / t['blank']:8.2f} "
              f"{total / t['same']:7.2f}")
    print("torch imported:", "torch" in sys.modules)


def cold(prompt: str, runs: int) -> None:
    """Render seconds with the object-picture caches emptied before each run (every icon
    rasterised from its vector at its final size), next to the warm figure."""
    from limner.api import Limner
    from render import icons, sprites

    lim = Limner()
    print(f"cold vs warm render (best of {runs}), icon sets installed: {icons.available()}")
    for w, h in SIZES:
        p = lim.plan(prompt, size=(w, h), seed=1)
        lim.renderer.render(p)  # loads the sets' JSON and the vocabulary once

        def run_cold():
            for fn in (sprites.object_sprite, sprites.vector_color_map, icons.render_icon):
                fn.cache_clear()
            lim.renderer.render(p)

        t = _best_times({"cold": run_cold, "warm": lambda: lim.renderer.render(p)}, runs)
        print(f"{w}x{h:<5} cold {t['cold']:.3f} s  warm {t['warm']:.3f} s")


def styles(prompt: str, runs: int) -> None:
    """3840x2160 render seconds per drawn style (render/styles.py), first run (styled
    sprites and masks not cached yet) and best warm run."""
    from limner.api import Limner
    from render.styles import DRAWN

    lim = Limner()
    base = lim.plan(prompt, size=(3840, 2160), seed=1)
    print(f"{'style':>12} {'first':>7} {'warm':>7}")
    for name in [""] + list(DRAWN):
        p = base.model_copy(update={"style": base.style.model_copy(update={"text": name})})
        t0 = time.perf_counter()
        lim.renderer.render(p)
        first = time.perf_counter() - t0
        warm = _best_times({"w": lambda: lim.renderer.render(p)}, runs)["w"]
        print(f"{name or 'default':>12} {first:7.3f} {warm:7.3f}")


def png_levels(prompt: str, runs: int) -> None:
    """Seconds and bytes of Pillow's PNG encode of one 3840x2160 render per zlib level."""
    from limner.api import Limner

    lim = Limner()
    img = lim.renderer.render(lim.plan(prompt, size=(3840, 2160), seed=1)).image
    sizes = {}

    def encode(level: int):
        buf = io.BytesIO()
        img.save(buf, "PNG", compress_level=level)
        sizes[level] = len(buf.getvalue())

    levels = (1, 3, 4, 6)
    best = _best_times({lvl: (lambda lvl=lvl: encode(lvl)) for lvl in levels}, runs)
    for lvl in levels:
        print(f"zlib level {lvl}: {best[lvl]:.3f} s ({best[lvl] / best[6]:.2f}x level 6), "
              f"{sizes[lvl]} bytes ({sizes[lvl] / sizes[6]:.2f}x level 6)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cores", default="1", help="1 (pin to one core) or all")
    ap.add_argument("--prompt", default=PROMPT)
    ap.add_argument("--quality", default="auto", choices=("low", "medium", "high", "auto"))
    ap.add_argument("--png-levels", action="store_true",
                    help="instead: PNG encode time and size per zlib level at 3840x2160")
    ap.add_argument("--cold", action="store_true",
                    help="instead: render time with empty icon caches vs warm")
    ap.add_argument("--styles", action="store_true",
                    help="instead: 3840x2160 render seconds per drawn style")
    args = ap.parse_args()
    if args.cores == "1" and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    if args.png_levels:
        png_levels(args.prompt, args.runs)
    elif args.cold:
        cold(args.prompt, args.runs)
    elif args.styles:
        styles(args.prompt, args.runs)
    else:
        bench(args.prompt, args.runs, args.quality)


if __name__ == "__main__":
    main()
