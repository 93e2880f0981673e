"""Describe an image: its embedded Plan, its text (OCR), dominant colours and coarse layout,
and with a configured VLM a caption or an answer to a question.

OCR engines: rapidocr (PP-OCR models inside its wheel) reads Latin, Chinese and Japanese;
it cannot read Korean or Arabic (measured: Korean comes back as low-confidence wrong
characters, Arabic as nothing). Tesseract, when installed with ``kor``/``ara`` data, reads
those. Both run; a tesseract line is kept when it holds Hangul or Arabic letters (the scripts
rapidocr misses), and any rapidocr line it overlaps with a confidence under
``_WEAK_SCORE`` is dropped as a misreading. Each line says which engine read it.

The layout is a 3x3 grid: for each cell, how much of it differs from the background and
which text and (for limner files) which Plan elements sit there.
"""

from __future__ import annotations

import colorsys
import io
import re
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from planner.schema import box_to_pixels

if TYPE_CHECKING:
    from PIL import Image

ROWS = ("top", "middle", "bottom")
COLS = ("left", "center", "right")
_WEAK_SCORE = 0.8        # rapidocr confidence below which a line may be a misreading
_TESS_MIN_CONF = 50.0    # tesseract word confidence (0-100) kept
_OCR_MAX_SIDE = 1600     # larger images are scaled down for OCR (speed; text stays legible)
_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class DescribeError(ValueError):
    """An input that is not a readable image."""


def _load(image: Any) -> tuple["Image.Image", bytes | None]:
    """(PIL image, original file bytes or None) from a path, bytes or a PIL image."""
    from PIL import Image, UnidentifiedImageError

    from render.references import MAX_PIXELS, ImageInputError, check_pixels

    if isinstance(image, Image.Image):
        try:
            check_pixels(image.size, "image")
        except ImageInputError as e:
            raise DescribeError(str(e)) from None
        return image, None
    if isinstance(image, (str, Path)):
        p = Path(image)
        if not p.is_file():
            raise DescribeError(f"image {image} does not exist")
        image = p.read_bytes()
    if not isinstance(image, (bytes, bytearray)):
        raise DescribeError(f"image must be a path, bytes or a PIL image; got "
                            f"{type(image).__name__}")
    try:
        im = Image.open(io.BytesIO(image))
        check_pixels(im.size, "image")      # before decoding: a few KB can declare gigapixels
        im.load()
    except ImageInputError as e:
        raise DescribeError(str(e)) from None
    except Image.DecompressionBombError:
        raise DescribeError(f"image: declares more than {MAX_PIXELS} pixels "
                            "(decompression-bomb guard)") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise DescribeError("not a readable image: Pillow cannot decode it "
                            "(png, jpeg, webp, gif, bmp, tiff, ... expected)") from None
    return im, bytes(image)


def cell_of(x: float, y: float) -> str:
    """Name of the 3x3 cell holding normalised point (x, y), e.g. ``top-left``."""
    r = ROWS[min(int(y * 3), 2)]
    c = COLS[min(int(x * 3), 2)]
    return f"{r}-{c}"


# --- colours -------------------------------------------------------------------------------
def color_name(rgb: tuple[int, int, int]) -> str:
    """A plain colour word for an RGB triple ("dark blue", "light gray", "brown")."""
    h, lum, s = colorsys.rgb_to_hls(*(v / 255 for v in rgb))
    if lum < 0.1:
        return "black"
    if lum > 0.93:
        return "white"
    if s < 0.15 or (s < 0.25 and 0.2 < lum < 0.8 and max(rgb) - min(rgb) < 30):
        base = "gray"
    else:
        deg = h * 360
        bins = ((15, "red"), (40, "orange"), (65, "yellow"), (170, "green"), (200, "cyan"),
                (255, "blue"), (290, "purple"), (345, "pink"), (361, "red"))
        base = next(name for limit, name in bins if deg < limit)
        if base in ("orange", "red") and lum < 0.35 and deg >= 10:
            return "brown"
    if lum < 0.3:
        return f"dark {base}"
    if lum > 0.75:
        return f"light {base}"
    return base


def dominant_colors(im: "Image.Image", k: int = 5) -> list[dict]:
    """The k most common colours (median cut on a 128 px copy), opaque pixels only.

    Returns:
        ``[{"hex", "name", "share"}]`` sorted by share (fractions of opaque pixels).
    """
    from PIL import Image

    small = im.convert("RGBA")
    small.thumbnail((128, 128), Image.Resampling.BILINEAR)
    alpha = small.getchannel("A")
    rgb = small.convert("RGB")
    q = rgb.quantize(colors=2 * k, method=Image.Quantize.MEDIANCUT)
    palette = q.getpalette()
    counts: dict[int, int] = {}
    for idx, a in zip(q.getdata(), alpha.getdata()):
        if a >= 128:
            counts[idx] = counts.get(idx, 0) + 1
    total = sum(counts.values()) or 1
    merged: list[list] = []                          # [rgb, count]: near shades merged
    for idx, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        c = tuple(palette[idx * 3: idx * 3 + 3])
        near = next((m for m in merged if sum(abs(a - b) for a, b in zip(m[0], c)) < 36), None)
        if near:
            near[1] += n
        else:
            merged.append([c, n])
    return [{"hex": "#%02x%02x%02x" % c, "name": color_name(c), "share": round(n / total, 3)}
            for c, n in sorted(merged, key=lambda m: -m[1])[:k]]


# --- OCR -----------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _rapidocr():
    import logging

    try:
        from rapidocr import RapidOCR
    except ImportError as e:
        raise DescribeError(f"OCR needs rapidocr and onnxruntime ({e}): "
                            "pip install 'limner[ocr]'") from None

    # Its INFO lines and "detection result is empty" warnings are noise on a CLI. A filter,
    # because RapidOCR resets its logger's level when an engine is built.
    logging.getLogger("RapidOCR").addFilter(lambda record: record.levelno >= logging.ERROR)
    return RapidOCR()


def _norm_box(points, scale: float, w: int, h: int) -> list[float]:
    xs = [p[0] / scale for p in points]
    ys = [p[1] / scale for p in points]
    return [round(max(0.0, float(min(xs)) / w), 4), round(max(0.0, float(min(ys)) / h), 4),
            round(min(1.0, float(max(xs)) / w), 4), round(min(1.0, float(max(ys)) / h), 4)]


def _ocr_rapid(rgb: "Image.Image", scale: float, size: tuple[int, int]) -> list[dict]:
    import numpy as np

    # Explicit flags: a det-only call (see _detect_regions) changes the engine's defaults.
    res = _rapidocr()(np.asarray(rgb), use_det=True, use_cls=True, use_rec=True)
    if res.txts is None:
        return []
    return [{"text": t, "score": round(float(s), 3), "box": _norm_box(b, scale, *size),
             "engine": "rapidocr"} for t, s, b in zip(res.txts, res.scores, res.boxes)]


@lru_cache(maxsize=1)
def tesseract_languages() -> tuple[str, ...]:
    """Installed tesseract languages, () when tesseract is absent."""
    exe = shutil.which("tesseract")
    if not exe:
        return ()
    out = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=30)
    return tuple(line.strip() for line in out.stdout.splitlines()[1:] if line.strip())


def _tesseract_words(rgb: "Image.Image", psm: int) -> list[list[tuple]]:
    """Tesseract's words, grouped by line: (text, x0, y0, x1, y1, confidence).

    Uses the installed Korean and Arabic data (the scripts rapidocr cannot read)."""
    langs = [lang for lang in ("kor", "ara") if lang in tesseract_languages()]
    if not langs:
        return []
    buf = io.BytesIO()
    rgb.save(buf, "PNG")
    out = subprocess.run(["tesseract", "stdin", "stdout", "-l", "+".join(langs), "--psm",
                          str(psm), "tsv"], input=buf.getvalue(), capture_output=True,
                         timeout=120)
    lines: dict[tuple, list] = {}
    for row in out.stdout.decode("utf-8", "replace").splitlines()[1:]:
        f = row.split("\t")
        word = _BIDI.sub("", f[11]).strip() if len(f) >= 12 else ""
        if not word or float(f[10]) < _TESS_MIN_CONF:
            continue
        x, y, w, h = (int(v) for v in f[6:10])
        lines.setdefault((f[2], f[3], f[4]), []).append(   # block, paragraph, line
            (word, x, y, x + w, y + h, float(f[10])))
    return list(lines.values())


def _tesseract_line(words: list[tuple], offset: tuple[int, int], scale: float,
                    size: tuple[int, int]) -> dict:
    dx, dy = offset
    return {"text": _join_words(words),
            "score": round(sum(w[5] for w in words) / len(words) / 100, 3),
            "box": _norm_box([p for w in words for p in ((w[1] + dx, w[2] + dy),
                                                         (w[3] + dx, w[4] + dy))],
                             scale, *size),
            "engine": "tesseract"}


def _ocr_tesseract(rgb: "Image.Image", regions: list[list[float]], scale: float,
                   size: tuple[int, int]) -> list[dict]:
    """Read Korean/Arabic with tesseract: each text region rapidocr's detector found but
    its recogniser did not read with confidence, as one line (psm 7); the whole image
    (psm 11, sparse text) when the detector found nothing."""
    if not regions:
        return [_tesseract_line(words, (0, 0), scale, size)
                for words in _tesseract_words(rgb, 11)]
    out = []
    w, h = rgb.size
    for box in regions:
        x0, y0, x1, y1 = box_to_pixels(box, w, h)
        pad = max(4, (y1 - y0) // 6)
        x0, y0, x1, y1 = max(0, x0 - pad), max(0, y0 - pad), min(w, x1 + pad), min(h, y1 + pad)
        for words in _tesseract_words(rgb.crop((x0, y0, x1, y1)), 7):
            out.append(_tesseract_line(words, (x0, y0), scale, size))
    return out


def _join_words(words: list[tuple]) -> str:
    """Join tesseract's words; touching Hangul pieces are one word (tesseract often splits
    a Korean word into syllables, with overlapping boxes)."""
    out = words[0][0]
    for prev, cur in zip(words, words[1:]):
        hangul = _is_hangul(prev[0][-1]) and _is_hangul(cur[0][0])
        close = cur[1] - prev[3] < 0.25 * (cur[4] - cur[2])
        out += ("" if hangul and close else " ") + cur[0]
    return out


def _is_hangul(c: str) -> bool:
    return "\uac00" <= c <= "\ud7a3" or "\u1100" <= c <= "\u11ff"


def _is_rapidocr_blind(text: str) -> bool:
    """Hangul or Arabic: the scripts rapidocr's models do not read."""
    return any("\uac00" <= c <= "\ud7a3" or "\u1100" <= c <= "\u11ff" or
               "\u0600" <= c <= "\u06ff" or "\u0750" <= c <= "\u077f" for c in text)


def _overlap(a: list[float], b: list[float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    area = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1])) or 1e-9
    return ix * iy / area


def read_text(im: "Image.Image", tesseract: bool = True) -> list[dict]:
    """OCR lines, top to bottom: ``[{"text", "score", "box" (normalised), "engine"}]``.
    ``tesseract=False`` skips the Korean/Arabic pass (a caller that knows the script)."""
    from PIL import Image

    rgb = im.convert("RGBA")
    if im.mode in ("RGBA", "LA", "P"):
        # Transparent areas become white so dark text on alpha stays readable.
        flat = Image.new("RGBA", rgb.size, (255, 255, 255, 255))
        flat.alpha_composite(rgb)
        rgb = flat
    rgb = rgb.convert("RGB")
    size = rgb.size
    scale = min(1.0, _OCR_MAX_SIDE / max(size))
    if scale < 1.0:
        rgb = rgb.resize((round(size[0] * scale), round(size[1] * scale)),
                         Image.Resampling.LANCZOS)
    lines = _ocr_rapid(rgb, scale, size)
    extra: list[dict] = []
    if tesseract and tesseract_languages():
        sure = [r["box"] for r in lines if r["score"] >= _WEAK_SCORE]
        regions = [b for b in _detect_regions(rgb)
                   if not any(_overlap(b, s) > 0.5 for s in sure)]
        if regions or not lines:
            # Boxes are normalised, so the scaled OCR image's own size is the reference.
            extra = [t for t in _ocr_tesseract(rgb, regions, 1.0, rgb.size)
                     if _is_rapidocr_blind(t["text"])]
    lines = [r for r in lines
             if r["score"] >= _WEAK_SCORE or not any(_overlap(r["box"], t["box"]) > 0.3
                                                     for t in extra)]
    return sorted(lines + extra, key=lambda r: (round(r["box"][1], 2), r["box"][0]))


def _detect_regions(rgb: "Image.Image") -> list[list[float]]:
    """Text regions from rapidocr's detector alone (it finds Hangul and Arabic lines too)."""
    import numpy as np

    res = _rapidocr()(np.asarray(rgb), use_det=True, use_cls=False, use_rec=False)
    return [] if res.boxes is None else [_norm_box(b, 1.0, *rgb.size) for b in res.boxes]


# --- layout --------------------------------------------------------------------------------
def _background(arr) -> tuple[int, int, int]:
    """The most common colour on the image border (quantised to steps of 16)."""
    import numpy as np

    border = np.concatenate([arr[0], arr[-1], arr[:, 0], arr[:, -1]])[:, :3] // 16
    keys, counts = np.unique(border, axis=0, return_counts=True)
    return tuple(int(v) * 16 + 8 for v in keys[counts.argmax()])


def layout(im: "Image.Image", text: list[dict], plan=None, grid: int = 3) -> dict:
    """Where things are, on a 3x3 grid.

    Args:
        im: the image. text: OCR lines (normalised boxes). plan: the embedded Plan or None.
    Returns:
        ``{"background": hex, "cells": {name: {"content", "text", "elements"}},
        "summary": [sentences]}``; ``content`` is the share of the cell's pixels that differ
        from the background (alpha > 0 counts as content on a transparent image).
    """
    import numpy as np
    from PIL import Image

    small = im.convert("RGBA").resize((96, 96), Image.Resampling.BILINEAR)
    arr = np.asarray(small).astype(np.int16)          # (96, 96, 4)
    transparent = bool((arr[..., 3] < 128).mean() > 0.2)
    bg = _background(arr)
    if transparent:
        fg = arr[..., 3] >= 128
    else:
        fg = np.abs(arr[..., :3] - np.array(bg)).sum(axis=-1) > 60
    cells: dict[str, dict] = {}
    for r in range(grid):
        for c in range(grid):
            x0, y0, x1, y1 = box_to_pixels((c / grid, r / grid, (c + 1) / grid,
                                            (r + 1) / grid), 96, 96)
            cells[f"{ROWS[r]}-{COLS[c]}"] = {"content": round(float(fg[y0:y1, x0:x1].mean()), 3),
                                             "text": [], "elements": []}
    for line in text:
        b = line["box"]
        cells[cell_of((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)]["text"].append(line["text"])
    for el in (plan.elements if plan is not None else ()):
        b = el.box
        what = f"text {el.content!r}" if el.kind == "text" else (
            f"{el.color + ' ' if el.color else ''}{el.label}")
        cells[cell_of((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)]["elements"].append(what)
    return {"background": "transparent" if transparent else "#%02x%02x%02x" % bg,
            "cells": cells, "summary": _layout_summary(cells)}


def _layout_summary(cells: dict[str, dict]) -> list[str]:
    out = []
    for name, c in cells.items():
        if c["text"]:
            out.append(f"text {' / '.join(repr(t) for t in c['text'])} at {name}")
    busy = [n for n, c in sorted(cells.items(), key=lambda kv: -kv[1]["content"])
            if c["content"] >= 0.15]
    out.append(f"content mostly at {', '.join(busy[:4])}" if busy else "mostly empty")
    return out


# --- the whole description -------------------------------------------------------------------
def _limner_part(data: bytes | None) -> dict | None:
    """The embedded Plan and metadata of a limner file, else None."""
    if data is None:
        return None
    from render.encode import read_metadata, read_plan

    plan = read_plan(data)
    if plan is None:
        return None
    meta = read_metadata(data)
    elements = []
    for el in plan.elements:
        b = el.box
        item = {"id": el.id, "kind": el.kind, "box": list(b),
                "cell": cell_of((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)}
        item.update({"content": el.content, "script": el.script} if el.kind == "text"
                    else {"label": el.label, "color": el.color})
        elements.append(item)
    return {"plan": plan.model_dump(mode="json"), "seed": meta.get("seed", plan.seed),
            "renderer": meta.get("renderer"), "version": meta.get("version"),
            "digital_source_type": meta.get("digital_source_type"), "elements": elements}


def _provenance_part(data: bytes | None) -> dict | None:
    if data is None:
        return None
    from render.provenance import sniff_format, verify

    if sniff_format(data) is None:
        return None
    r = verify(data)
    return {k: r.get(k) for k in ("signed", "validation_state", "pixels_changed",
                                  "claim_generator", "digital_source_type")}


def describe(image: Any, question: str | None = None, vlm: str | None = None,
             cache: dict | None = None, reader: Callable[[], Any] | None = None) -> dict:
    """Describe an image (``limner describe``, ``Limner.describe``).

    Args:
        image: a path, the file's bytes or a PIL image.
        question: answered by the VLM when one is configured.
        vlm: VLM preset name or local model directory (default ``$LIMNER_VLM``, else none).
        cache: a dict that keeps a loaded VLM between calls (Limner passes its own).
        reader: called only for a question with no VLM configured; returns a VLM that is
            already loaded (the renderer pipeline's own, model/shared_lm.py) or None. Its
            answer comes before the Plan/OCR answers, as a configured VLM's does.
    Returns:
        ``width``, ``height``, ``mode``, ``format``, ``limner`` (embedded Plan, seed,
        renderer, elements with their grid cell; None for other images), ``text`` (OCR
        lines), ``colors``, ``layout``, ``provenance`` (C2PA summary), ``summary`` (one
        sentence built from the above), and ``vlm``/``caption``/``answer`` (None without
        a VLM; then ``note`` says how to configure one when a question was asked).
    Raises:
        DescribeError: for input that is not an image.
    """
    import os

    im, data = _load(image)
    name = vlm or os.environ.get("LIMNER_VLM") or None
    model = _cached_vlm(name, cache if cache is not None else {}) if name else None
    plan_part = _limner_part(data)
    text = read_text(im)
    from planner.schema import Plan

    plan = Plan.model_validate(plan_part["plan"]) if plan_part else None
    out = {"width": im.width, "height": im.height, "mode": im.mode,
           "format": (im.format or "").lower() or None, "limner": plan_part, "text": text,
           "colors": dominant_colors(im), "layout": layout(im, text, plan),
           "provenance": _provenance_part(data)}
    if plan_part:
        _attach_reads(plan_part["elements"], text)
    out["summary"] = summary_sentence(out)
    out.update(vlm=name, caption=None, answer=None)
    if model is not None:
        out["caption"] = model.caption(im)
        if question:
            out["answer"] = model.ask(im, question)
    elif question and (shared := reader() if reader is not None else None) is not None:
        out["vlm"] = shared.preset.repo
        out["answer"] = shared.ask(im, question)
    elif question:
        facts = answer_from_facts(question, im, plan_part, text)
        if facts is not None:
            out["answer"] = facts.pop("answer")
            out["answer_facts"] = facts
        else:
            out["note"] = (
                "this question needs a vision-language model: the image's Plan and OCR "
                "answer only how many X, what colour X is and what the text says. "
                "Pass --vlm PRESET (configs/vlm.yaml; Limner(...).describe(vlm=...)) or set "
                "LIMNER_VLM to a preset name or a local model directory, or use a renderer "
                "whose pipeline holds a VLM (--renderer qwen-image)")
    return out


def _cached_vlm(name: str, store: dict):
    """Load a VLM once per ``store`` (a Limner keeps its own), before any other work so a
    bad name fails fast."""
    from model.vlm import load_vlm

    key = f"_vlm:{name}"
    if key not in store:
        store[key] = load_vlm(name)
    return store[key]


def _attach_reads(elements: list[dict], text: list[dict]) -> None:
    """Give each Plan text element the OCR lines centred inside its box (``read``) and
    whether they say the same thing, ignoring spaces and case (``read_matches``)."""
    def squash(t: str) -> str:
        return "".join(t.split()).casefold()

    for el in elements:
        if el["kind"] != "text":
            continue
        x0, y0, x1, y1 = el["box"]
        inside = [t["text"] for t in text
                  if x0 <= (t["box"][0] + t["box"][2]) / 2 <= x1
                  and y0 <= (t["box"][1] + t["box"][3]) / 2 <= y1]
        el["read"] = " ".join(inside)
        el["read_matches"] = squash(el["read"]) == squash(el["content"])


def summary_sentence(d: dict) -> str:
    """One plain sentence from the description's parts (no model involved)."""
    parts = []
    if d.get("limner"):
        objs = [e for e in d["limner"]["elements"] if e["kind"] == "object"]
        counts: dict[str, int] = {}
        for e in objs:
            label = f"{e['color'] + ' ' if e.get('color') else ''}{e['label']}"
            counts[label] = counts.get(label, 0) + 1
        if counts:
            parts.append("a limner image of " + ", ".join(
                f"{n} {label}" for label, n in counts.items()))
        else:
            parts.append("a limner image")
    texts = [t["text"] for t in d.get("text", [])]
    if texts:
        parts.append("text " + ", ".join(repr(t) for t in texts[:6]))
    colors = [c["name"] for c in d.get("colors", [])[:3]]
    if colors:
        parts.append("mostly " + ", ".join(dict.fromkeys(colors)))
    return f"{d['width']}x{d['height']} image: " + "; ".join(parts)


# --- questions answered from what the Plan and OCR know ----------------------------------------
_REPLY = {   # script -> (count, colour, text, nothing found); {n} {label} {color} {texts}
    "Latn": ("There {be} {n} {label}{s}.", "The {label} is {color}.", "It says {texts}.",
             "There is no {label} in this image's Plan."),
    "Hans": ("有{n}个。", "{label}是{color}。", "写着{texts}。", "图中的计划里没有{label}。"),
    "Hant": ("有{n}個。", "{label}是{color}。", "寫著{texts}。", "圖中的計劃裡沒有{label}。"),
    "Jpan": ("{n}つあります。", "{label}は{color}です。", "{texts}と書いてあります。",
             "この画像のプランに{label}はありません。"),
    "Kore": ("{n}개 있어요.", "{label}은(는) {color}이에요.", "{texts}라고 쓰여 있어요.",
             "이 이미지의 계획에는 {label}이(가) 없어요."),
}
_QUOTES = {"Latn": '"{}"', "Hans": "“{}”", "Hant": "「{}」", "Jpan": "「{}」", "Kore": '"{}"'}


def answer_from_facts(question: str, im: "Image.Image", plan_part: dict | None,
                      text: list[dict]) -> dict | None:
    """Answer "how many X", "what colour is X", "what does (X) say" from the embedded Plan
    and the OCR lines, in the question's language (en, zh, ja, ko).

    Returns:
        ``{"answer", "kind", "label", "value", "source"}``, or None when the question is
        none of these or the facts cannot answer it (then a VLM is needed).
    """
    from planner.questions import label_matches, read_question

    q = read_question(question)
    if q is None:
        return None
    frames = _REPLY.get(q.script, _REPLY["Latn"])
    els = plan_part["elements"] if plan_part else []
    if q.kind == "text":
        return _answer_text(q, els, text, frames)
    if not plan_part or q.label is None:
        return None        # counting or colouring things needs the Plan (or a VLM)
    hits = [e for e in els if e["kind"] == "object" and label_matches(q.label, e["label"])]
    base = {"kind": q.kind, "label": q.label, "source": "plan"}
    if not hits:
        return {**base, "value": 0, "answer": frames[3].format(label=q.label)}
    if q.kind == "count":
        n = len(hits)
        return {**base, "value": n, "answer": frames[0].format(
            n=n, label=q.label, s="" if n == 1 else "s", be="is" if n == 1 else "are")}
    colors = [_element_color(e, im) for e in hits]
    names = list(dict.fromkeys(c for c, _ in colors))
    source = "plan" if all(s == "plan" for _, s in colors) else "pixels"
    return {**base, "source": source, "value": names,
            "answer": frames[1].format(label=q.label, color=", ".join(names))}


def _element_color(el: dict, im: "Image.Image") -> tuple[str, str]:
    """An element's colour: the Plan's when it names one, else the most common colour of
    the pixels inside its box."""
    if el.get("color"):
        from render.color import basic_name, parse_color

        value = el["color"]
        rgb = parse_color(value)
        named = value if not value.strip().startswith(("#", "rgb")) else \
            (basic_name(rgb) if rgb else value)
        return named, "plan"
    x0, y0, x1, y1 = box_to_pixels(tuple(el["box"]), im.width, im.height)
    top = dominant_colors(im.crop((x0, y0, x1, y1)), k=1)
    return (top[0]["name"] if top else "unknown"), "pixels"


def _answer_text(q, els: list[dict], text: list[dict], frames) -> dict | None:
    """Texts of the Plan (exact) or, without a Plan, the OCR lines; restricted to the named
    object's box when the Plan has that object."""
    box = None
    if q.label:
        from planner.questions import label_matches

        owner = next((e for e in els if e["kind"] == "object"
                      and label_matches(q.label, e["label"])), None)
        box = owner["box"] if owner else None

    def inside(b) -> bool:
        if box is None:
            return True
        cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
        return box[0] <= cx <= box[2] and box[1] <= cy <= box[3]

    planned = [e["content"] for e in els if e["kind"] == "text" and inside(e["box"])]
    found, source = (planned, "plan") if planned else \
        ([t["text"] for t in text if inside(t["box"])], "ocr")
    if not found:
        return None
    quote = _QUOTES.get(q.script, '"{}"')
    return {"kind": "text", "label": q.label, "value": found, "source": source,
            "answer": frames[2].format(texts=", ".join(quote.format(t) for t in found))}
