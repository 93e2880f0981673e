"""Time C2PA signing and verifying per image, and the size it adds.

    python3 scripts/bench_provenance.py [--size 1024] [--repeat 5]

Uses a throw-away LIMNER_HOME with a fresh local key. Prints, per format: encode time
without a key, with a key (the difference is the signing cost), verify time, and bytes added.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _image(size: int):
    from PIL import Image, ImageDraw

    im = Image.new("RGB", (size, size), (240, 236, 228))
    d = ImageDraw.Draw(im)
    for i in range(12):   # some structure so compressed sizes are realistic
        d.ellipse((i * size // 14, i * size // 20, i * size // 14 + size // 5,
                   i * size // 20 + size // 5), fill=(20 * i % 255, 90, 200 - 10 * i))
    return im


def _time(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    os.environ["LIMNER_HOME"] = tempfile.mkdtemp(prefix="limner_bench_")
    from planner.schema import Canvas, Plan
    from render import provenance as pv
    from render.encode import encode_image

    plan = Plan(prompt="bench", canvas=Canvas(width=args.size, height=args.size))
    image = _image(args.size)
    dst = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"

    def enc(fmt):
        return lambda: encode_image(image, plan, seed=0, renderer="draft",
                                    digital_source_type=dst, fmt=fmt)

    unsigned = {f: _time(enc(f), args.repeat) for f in ("png", "jpeg", "webp")}
    pv.init_keys()
    print(f"{args.size}x{args.size}, median of {args.repeat}")
    for fmt, (t_plain, data_plain) in unsigned.items():
        t_signed, data = _time(enc(fmt), args.repeat)
        t_verify, report = _time(lambda: pv.verify(data), args.repeat)
        assert report["valid"], report["failures"]
        print(f"  {fmt:5s} encode {t_plain * 1000:7.1f} ms  signed {t_signed * 1000:7.1f} ms "
              f"(+{(t_signed - t_plain) * 1000:6.1f} ms, x{t_signed / t_plain:.2f})  "
              f"verify {t_verify * 1000:6.1f} ms  +{len(data) - len(data_plain)} bytes")


if __name__ == "__main__":
    main()
