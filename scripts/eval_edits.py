#!/usr/bin/env python3
"""Multi-turn edit evaluation: conversations of edits, each turn's Plan and pixels checked.

    python3 scripts/eval_edits.py [scripts/edit_turns.jsonl] [--size 384x256] [--json]
                                  [--consistency]

Each line of the JSONL is one conversation: ``start`` (a prompt, generated first) or
``start_photo: true`` (a plain picture made here: a textured ground with one yellow subject,
no limner metadata), then ``turns``: ``instruction``, optional ``references`` (RGB colours;
each becomes a plain product shot made here, a flat rectangle on white), and ``expect``.

A turn passes when its Plan meets every expectation: the checks of scripts/eval_plans.py
(``objects`` with count and colour, ``texts``, ``relations``, ``scene``) plus
``references`` ({"1": "backpack"}: reference 1 stands for an element with that label),
``background_reference`` (that reference is the backdrop), ``subject_kept`` (the photo's
subject pixels are exactly the first picture's) and ``off_subject`` (labels whose boxes
cover at most 10% of their area inside the subject). An edit that raises fails its turn;
the conversation goes on from the last picture.

Pixels kept: for each turn, the share of the pixels the edit had no reason to touch that
are exactly as before. For a Plan's edit that is everything outside the Plan diff's change
mask (render/edit.py change_mask); for a photo's overlay edit, the photo's own pixels outside
the padded boxes of everything drawn over it; for a photo's new background, the subject.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

DEFAULT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "edit_turns.jsonl")


def plain_reference(colour) -> "object":
    from PIL import Image, ImageDraw

    im = Image.new("RGB", (64, 80), (255, 255, 255))
    ImageDraw.Draw(im).rectangle((12, 10, 52, 70), fill=tuple(colour))
    return im


def plain_photo(size, key: str):
    """A textured ground (no uniform border) and a yellow subject in the middle third."""
    import numpy as np
    from PIL import Image

    w, h = size
    rng = np.random.default_rng(zlib.crc32(key.encode()))
    a = (rng.random((h, w, 3)) * 50 + 90).astype(np.uint8)
    box = (w * 2 // 5, h // 4, w * 3 // 5, h * 4 // 5)
    a[box[1]:box[3], box[0]:box[2]] = (245, 200, 10)
    return Image.fromarray(a), box


def _png(im) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def _overlap_share(box, sub) -> float:
    w = min(box[2], sub[2]) - max(box[0], sub[0])
    h = min(box[3], sub[3]) - max(box[1], sub[1])
    area = (box[2] - box[0]) * (box[3] - box[1])
    return (w * h / area) if w > 0 and h > 0 and area > 0 else 0.0


def extra_checks(plan, expect: dict, image, photo, subject) -> list[tuple[str, bool, str]]:
    """The checks beyond eval_plans.score_plan (see the module docstring)."""
    import numpy as np

    checks = []
    for n, label in (expect.get("references") or {}).items():
        idx = int(n) - 1
        els = [e for e in plan.objects if e.reference == idx]
        ok = any(label in e.label.lower().split() for e in els)
        checks.append(("reference", ok, "" if ok else
                       f"reference {n}: {[e.label for e in els] or 'unused'} is not {label}"))
    if "background_reference" in expect:
        want = expect["background_reference"] - 1
        ok = plan.canvas.background.reference == want
        checks.append(("backdrop", ok, "" if ok else
                       f"backdrop reference {plan.canvas.background.reference} != {want}"))
    if expect.get("subject_kept") and photo is not None:
        x0, y0, x1, y1 = subject
        now = np.asarray(image.convert("RGB"))[y0:y1, x0:x1]
        ok = bool((now == np.asarray(photo)[y0:y1, x0:x1]).all())
        checks.append(("subject", ok, "" if ok else "the photo's subject pixels changed"))
    W, H = image.size
    if subject is not None:
        sub = (subject[0] / W, subject[1] / H, subject[2] / W, subject[3] / H)
        for label in expect.get("off_subject", []):
            els = [e for e in plan.objects if label in e.label.lower().split()]
            bad = [e.id for e in els if _overlap_share(e.box, sub) > 0.1]
            ok = bool(els) and not bad
            checks.append(("off_subject", ok, "" if ok else
                           f"{label}: {'over the subject: ' + str(bad) if bad else 'missing'}"))
    return checks


def kept_share(prev_img, prev_plan, img, plan, subject) -> float | None:
    """Share of the pixels the edit had no reason to touch that are unchanged."""
    import numpy as np

    from render.edit import change_mask, is_overlay, pad_pixels, regions_mask

    if prev_img.size != img.size:
        return None
    if prev_plan is not None and not is_overlay(prev_plan):
        free = np.asarray(change_mask(prev_plan, plan, size=img.size)) == 0
    elif is_overlay(plan):
        # A photo's overlay: the photo's own pixels, outside everything drawn over it
        # (a style turn may redraw what earlier turns drew).
        boxes = [e.box for e in plan.elements]
        free = np.asarray(regions_mask(boxes, img.size, pad_pixels(img.size))) == 0
    elif subject is not None:
        free = np.zeros((img.size[1], img.size[0]), bool)
        x0, y0, x1, y1 = subject
        free[y0:y1, x0:x1] = True
    else:
        return None
    if not free.any():
        return None
    a = np.asarray(prev_img.convert("RGB"))
    b = np.asarray(img.convert("RGB"))
    return float((a == b).all(-1)[free].mean())


def run(rows: list[dict], size: tuple[int, int]) -> dict:
    from eval_plans import score_plan

    from limner.api import Limner

    lim = Limner()
    turns, kept = [], []
    for row in rows:
        photo, subject = None, None
        if row.get("start_photo"):
            photo, subject = plain_photo(size, row["id"])
            data, plan, image = _png(photo), None, photo
        else:
            made = lim.generate(row["start"], size=f"{size[0]}x{size[1]}", seed=0)[0]
            data, plan, image = made.data, made.plan, made.image
        for k, turn in enumerate(row["turns"]):
            refs = [plain_reference(c) for c in turn.get("references", [])]
            rec = {"id": f"{row['id']}.{k + 1}", "instruction": turn["instruction"]}
            t0 = time.perf_counter()
            try:
                out = lim.edit(turn["instruction"], image=data, references=refs)[0]
            except Exception as e:   # noqa: BLE001 - a failed turn is a result, not a crash
                rec.update(passed=False, failures=[f"{type(e).__name__}: {e}"])
                turns.append(rec)
                continue
            rec["ms"] = round((time.perf_counter() - t0) * 1000, 1)
            expect = dict(turn["expect"])
            custom = extra_checks(out.plan, expect, out.image, photo, subject)
            for key in ("references", "background_reference", "subject_kept", "off_subject"):
                expect.pop(key, None)
            scored = score_plan(out.plan, expect)
            checks = scored["checks"] + custom
            rec["failures"] = [why for _kind, ok, why in checks if not ok]
            rec["passed"] = not rec["failures"]
            share = kept_share(image, plan, out.image, out.plan, subject)
            if share is not None:
                rec["kept"] = round(share, 6)
                kept.append(share)
            turns.append(rec)
            data, plan, image = out.data, out.plan, out.image
    passed = sum(t["passed"] for t in turns)
    return {"turns": len(turns), "passed": passed,
            "plan_share": passed / max(1, len(turns)),
            "kept_mean": sum(kept) / max(1, len(kept)), "kept_min": min(kept, default=None),
            "kept_turns": len(kept), "rows": turns}


CONSISTENCY_PROMPTS = ("a red fox next to a tree", "a cat and a dog in a room",
                       "一只猫和一个杯子", "a robot holding a flower on a beach")


def consistency(n: int = 4, side: int = 48) -> dict:
    """The same subject across n images of one prompt (the draft shares sprites by
    ``subject_id``): mean absolute difference (0-255) between each subject's crop in image
    1 and in images 2..n, each resized to ``side``², against the difference between two
    different subjects of image 1."""
    import itertools

    import numpy as np
    from PIL import Image

    from limner.api import Limner
    from planner.schema import box_to_pixels

    def crop(img, box):
        px = box_to_pixels(box, *img.size)
        return np.asarray(img.convert("RGB").crop(px).resize((side, side), Image.BILINEAR),
                          dtype=float)

    same, other = [], []
    lim = Limner()
    for prompt in CONSISTENCY_PROMPTS:
        r = lim.generate(prompt, n=n, size="384x256")
        first = {e.subject_id: e for e in r.images[0].plan.objects}
        for g in r.images[1:]:
            for e in g.plan.objects:
                if e.subject_id in first:
                    same.append(np.abs(crop(g.image, e.box) -
                                       crop(r.images[0].image, first[e.subject_id].box)).mean())
        for a, b in itertools.combinations(first.values(), 2):
            other.append(np.abs(crop(r.images[0].image, a.box) -
                                crop(r.images[0].image, b.box)).mean())
    return {"same_subject": float(np.mean(same)), "same_subject_max": float(np.max(same)),
            "different_subjects": float(np.mean(other)), "pairs": len(same)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("path", nargs="?", default=DEFAULT)
    ap.add_argument("--size", default="384x256")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--consistency", action="store_true",
                    help="also measure one subject's look across 4 images of a prompt")
    args = ap.parse_args(argv)
    with open(args.path, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    size = tuple(int(v) for v in args.size.lower().split("x"))
    t0 = time.perf_counter()
    report = run(rows, size)
    report["seconds"] = round(time.perf_counter() - t0, 1)
    if args.consistency:
        report["consistency"] = consistency()
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    for t in report["rows"]:
        if not t["passed"]:
            print(f"FAIL {t['id']} {t['instruction']!r}: {'; '.join(t['failures'])}")
    print(f"turns whose Plan meets the expectations: {report['passed']}/{report['turns']} "
          f"({report['plan_share']:.1%})")
    print(f"pixels the edit had no reason to touch, kept exactly: mean "
          f"{report['kept_mean']:.2%}, worst turn {report['kept_min']:.2%} "
          f"(over {report['kept_turns']} turns)")
    print(f"{len(rows)} conversations in {report['seconds']} s")
    c = report.get("consistency")
    if c:
        print(f"same subject across 4 images (draft): crop difference {c['same_subject']:.1f}"
              f"/255 mean, {c['same_subject_max']:.1f} worst over {c['pairs']} pairs; two "
              f"different subjects: {c['different_subjects']:.1f}/255")
    return 0


if __name__ == "__main__":
    sys.exit(main())
