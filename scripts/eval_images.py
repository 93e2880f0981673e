"""Plan, render and OCR-score prompts, as ../shared/eval/README.md describes.

    python3 scripts/eval_images.py PROMPTS.jsonl [--out DIR] [--planner rules] [--size WxH]

Each prompt is planned (rules planner by default, seed 0) and drawn by the draft renderer;
the image is read back by an OCR engine that did not draw it: rapidocr for Latin, Chinese
and Japanese, tesseract (kor, ara) for Korean and Arabic. Reads and expectations are
compared after Unicode NFKC and whitespace collapse. Printed: word accuracy (share of
expected words read back exactly), NED (1 - Levenshtein / max length, best over the read
lines and runs of adjacent lines), exact-string rate, overall, per script, and per script
on plain (colour/gradient/transparent) backgrounds. ``--scenes`` redraws every Plan on a
procedural scene backdrop instead (text on busy backgrounds).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import unicodedata
from collections import defaultdict
from functools import lru_cache

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TESSERACT_LANG = {"Kore": "kor", "Arab": "ara"}


def normalise(text: str) -> str:
    """NFKC, then whitespace runs collapsed to one space."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


@lru_cache(maxsize=1)
def _rapid():
    import logging

    from rapidocr import RapidOCR

    logging.getLogger("RapidOCR").setLevel(logging.ERROR)
    return RapidOCR()


def _on_white(image):
    """Flatten alpha onto white: OCR reads what a viewer shows."""
    from PIL import Image

    if image.mode == "RGBA":
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, (0, 0), image)
        return flat
    return image.convert("RGB")


def _read_once(flat, script: str) -> list[str]:
    import numpy as np

    if script not in TESSERACT_LANG:
        result = _rapid()(np.asarray(flat)[:, :, ::-1])  # rapidocr wants BGR arrays
        return [normalise(t) for t in (result.txts or ()) if t.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "page.png")
        flat.save(path)
        lines: list[str] = []
        for psm in ("11", "6"):  # sparse text first, then one uniform block
            out = subprocess.run(["tesseract", path, "-", "-l", TESSERACT_LANG[script],
                                  "--psm", psm], capture_output=True, text=True, timeout=120)
            lines += [normalise(ln) for ln in out.stdout.splitlines() if ln.strip()]
    return lines


def ocr_lines(image, script: str, scales: tuple[float, ...] = (1.0, 0.5)
              ) -> list[list[str]]:
    """Text lines read from a PIL image by the engine for ``script``.

    Both engines misread very large glyphs now and then (rapidocr splits a 120 px line,
    tesseract confuses 치/지 at poster size), so the page is read at full size and at half
    size and both reads are kept, as a person would step back from a poster.

    Args:
        image: the rendered image (RGB or RGBA).
        script: Latn/Hans/Hant/Jpan → rapidocr; Kore/Arab → tesseract with kor/ara.
        scales: the sizes, relative to the image, to read at.
    Returns:
        One list of normalised lines per scale, each in the engine's order.
    """
    from PIL import Image

    flat = _on_white(image)
    reads = []
    for k in scales:
        page = flat if k == 1.0 else flat.resize(
            (max(16, int(flat.width * k)), max(16, int(flat.height * k))), Image.LANCZOS)
        reads.append(_read_once(page, script))
    return reads


def levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _candidates(reads: list[list[str]]) -> list[str]:
    """Single lines and runs of up to 4 adjacent lines of one read (wrapped text), joined
    with a space and without one (CJK)."""
    out: set[str] = set()
    for lines in reads:
        out.update(lines)
        for i in range(len(lines)):
            for j in range(i + 2, min(len(lines), i + 4) + 1):
                out.add(" ".join(lines[i:j]))
                out.add("".join(lines[i:j]))
    return sorted(out)


def _word_found(word: str, text: str) -> bool:
    if re.search(r"[A-Za-z0-9]", word):  # spaced scripts: the word must stand alone
        return re.search(r"(?<!\w)" + re.escape(word) + r"(?!\w)", text) is not None
    return word in text


def score_string(expected: str, reads: list[list[str]]) -> dict:
    """Exactness, word accuracy and NED of one expected string against OCR reads (one list
    of lines per read, as :func:`ocr_lines` gives)."""
    exp = normalise(expected)
    cands = _candidates([[normalise(ln) for ln in lines] for lines in reads])
    text = " | ".join(cands)
    words = exp.split(" ")
    found = sum(_word_found(w, text) for w in words)
    best = 0.0
    for c in cands:
        for window in {c} | ({c[k:k + len(exp)] for k in range(max(1, len(c) - len(exp) + 1))}
                            if len(c) > len(exp) else set()):
            best = max(best, 1 - levenshtein(window, exp) / max(len(window), len(exp), 1))
    return {"exact": any(_word_found(exp, c) for c in cands), "words": len(words),
            "words_found": found, "ned": best}


def _on_scene(plan, index: int):
    """The Plan with its background swapped for a procedural scene (cycled by index) and
    its text colours cleared: text legibility on busy backdrops, which the dev prompts
    rarely ask for."""
    from planner.schema import SCENES, Background

    scene = SCENES[index % len(SCENES)]
    canvas = plan.canvas.model_copy(update={"background": Background(kind="scene",
                                                                     scene=scene)})
    # The planner chose text colours for the old background; let the renderer choose anew.
    elements = tuple(e.model_copy(update={"color": None}) if e.kind == "text" else e
                     for e in plan.elements)
    return plan.model_copy(update={"canvas": canvas, "elements": elements})


def evaluate(rows: list[dict], planner: str, size: str | None, out_dir: str | None,
             scenes: bool = False) -> dict:
    from limner.api import Limner
    from render.fonts import detect_script

    lim = Limner(planner=planner)
    index = 0
    per = defaultdict(lambda: {"strings": 0, "exact": 0, "words": 0, "found": 0, "ned": 0.0})
    failures = []
    for row in rows:
        texts = row.get("expect", {}).get("texts") or []
        if not texts:
            continue
        plan = lim.plan(row["prompt"], size=size, seed=0)
        if scenes:
            plan, index = _on_scene(plan, index), index + 1
        image = lim.renderer.render(plan).image
        if out_dir:
            image.save(os.path.join(out_dir, f"{row.get('id', 'x')}.png"))
        plain = plan.canvas.background.kind != "scene"
        reads: dict[str, list[str]] = {}
        tagged = {normalise(el.content): el.script for el in plan.texts}
        for t in texts:
            # Group by the planner's script tag when it drew the string (寿司 in a Japanese
            # prompt is Jpan), else by the characters.
            script = tagged.get(normalise(t)) or detect_script(t)
            engine = "tesseract" if script in TESSERACT_LANG else "rapidocr"
            if engine not in reads:
                reads[engine] = ocr_lines(image, script)
            s = score_string(t, reads[engine])
            for key in ("all", script) + ((f"{script} plain",) if plain else ()):
                agg = per[key]
                agg["strings"] += 1
                agg["exact"] += s["exact"]
                agg["words"] += s["words"]
                agg["found"] += s["words_found"]
                agg["ned"] += s["ned"]
            if not s["exact"]:
                failures.append((row.get("id"), t, reads[engine]))
    return {"per": dict(per), "failures": failures}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("prompts")
    ap.add_argument("--out", help="also save each render here")
    ap.add_argument("--planner", default="rules")
    ap.add_argument("--size", default=None)
    ap.add_argument("--scenes", action="store_true",
                    help="draw every Plan on a procedural scene (cycled) instead of its own "
                         "background: text legibility on busy backdrops")
    args = ap.parse_args()
    with open(args.prompts, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    if args.out:
        os.makedirs(args.out, exist_ok=True)
    res = evaluate(rows, args.planner, args.size, args.out, scenes=args.scenes)
    print(f"{'group':<12} {'strings':>7} {'exact':>7} {'word acc':>9} {'NED':>6}")
    for key in sorted(res["per"], key=lambda k: (k != "all", k)):
        a = res["per"][key]
        print(f"{key:<12} {a['strings']:>7} {a['exact'] / a['strings']:>7.1%} "
              f"{a['found'] / max(1, a['words']):>9.1%} {a['ned'] / a['strings']:>6.3f}")
    for pid, text, reads in res["failures"]:
        print(f"MISSED {pid}: {text!r} read as {reads}")


if __name__ == "__main__":
    main()
