"""How well `describe` reads limner images back: Plan text vs OCR, on the shared dev prompts.

For each prompt: plan (rules planner) → draw (draft renderer) → describe. A text element
counts as read when the OCR lines centred in its box say the same thing, ignoring spaces and
case (``read_matches``). The same pixels with no metadata are described too, and a text counts
as found when it appears in the joined OCR text. Prints rates per script and seconds per image.

    python3 scripts/eval_describe.py [--prompts FILE] [--size 768x768] [--limit N]
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEV = ROOT.parent / "shared" / "eval" / "dev_prompts.jsonl"


def _squash(text: str) -> str:
    return "".join(text.split()).casefold()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompts", type=Path, default=DEV)
    ap.add_argument("--size", default="768x768")
    ap.add_argument("--limit", type=int, default=0)
    args = ap.parse_args()
    from limner.api import Limner

    lim = Limner()
    rows = [json.loads(x) for x in args.prompts.read_text(encoding="utf-8").splitlines()
            if x.strip()]
    rows = rows[:args.limit] if args.limit else rows
    read, found = defaultdict(lambda: [0, 0]), defaultdict(lambda: [0, 0])
    times, misses = [], []
    for row in rows:
        img = lim.generate(row["prompt"], size=args.size)[0]
        t0 = time.perf_counter()
        d = lim.describe(img.data)
        times.append(time.perf_counter() - t0)
        plain = io.BytesIO()
        img.image.convert("RGBA" if img.plan.transparent else "RGB").save(plain, "PNG")
        ocr = _squash(" ".join(t["text"] for t in lim.describe(plain.getvalue())["text"]))
        for el in d["limner"]["elements"]:
            if el["kind"] != "text":
                continue
            read[el["script"]][0] += el["read_matches"]
            read[el["script"]][1] += 1
            found[el["script"]][0] += _squash(el["content"]) in ocr
            found[el["script"]][1] += 1
            if not el["read_matches"]:
                misses.append(f"{row['id']}: {el['content']!r} read as {el['read']!r}")
    total = [sum(v[0] for v in read.values()), sum(v[1] for v in read.values())]
    print(f"{len(rows)} images at {args.size}; text elements read back exactly inside their "
          f"box: {total[0]}/{total[1]} ({total[0] / max(1, total[1]):.1%})")
    for script in sorted(read):
        r, f = read[script], found[script]
        print(f"  {script}: with Plan {r[0]}/{r[1]}, without metadata (found in OCR text) "
              f"{f[0]}/{f[1]}")
    times.sort()
    print(f"describe: median {times[len(times) // 2]:.2f} s per image, max {times[-1]:.2f} s")
    for m in misses:
        print("  MISS", m)


if __name__ == "__main__":
    main()
