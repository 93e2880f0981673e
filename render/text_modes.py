"""Who draws the Plan's text: the text engine (exact), the model (native), or the model
checked by OCR (auto).

- ``exact``: the model is asked to leave text areas empty and the text engine draws every
  text afterwards (render/harmonise.py), exact in every script.
- ``native``: the model draws each quoted text itself (families whose encoder reads text,
  e.g. Qwen-Image, Z-Image, FLUX.2); nothing is drawn over it.
- ``auto`` (default): native, then each text is read back inside its box with the OCR limner
  ships (render/describe.py: rapidocr, tesseract for Korean and Arabic) and the text engine
  draws the exact text over it only where the reading differs from the Plan.

A family without native text treats ``auto`` and ``native`` as ``exact``. Every call reports,
per text, which way it went: ``{"id", "text", "drawn_by": "model"|"text engine",
"ocr": the reading or None}``; the reports go into the image metadata and API responses.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Callable

from planner.schema import Plan, TextElement, box_to_pixels

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

TEXT_MODES = ("exact", "native", "auto")
MODEL, ENGINE = "model", "text engine"
_MIN_LINE_PX = 40   # crops are scaled so a text line is at least this tall for OCR


def check_text_mode(mode: str) -> str:
    """``mode`` if it is one of TEXT_MODES, else ValueError naming the allowed values."""
    if mode not in TEXT_MODES:
        raise ValueError(f"text must be one of {', '.join(TEXT_MODES)}; got {mode!r}")
    return mode


def effective_mode(mode: str, native_text: bool) -> str:
    """The mode a family runs: without native text every mode is ``exact``."""
    return check_text_mode(mode) if native_text else "exact"


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def crop_for_ocr(image: "Image.Image", el: TextElement) -> "Image.Image":
    """The text's box with a margin of a quarter of its height, flattened to RGB and scaled
    up when small (OCR wants lines of a few dozen pixels)."""
    from PIL import Image

    w, h = image.size
    x0, y0, x1, y1 = box_to_pixels(el.box, w, h)
    pad = max(2, (y1 - y0) // 4)
    box = (max(0, x0 - pad), max(0, y0 - pad), min(w, x1 + pad), min(h, y1 + pad))
    crop = image.convert("RGBA").crop(box)
    flat = Image.new("RGBA", crop.size, (255, 255, 255, 255))
    flat.alpha_composite(crop)
    scale = max(1.0, _MIN_LINE_PX * 2 / max(1, crop.height))
    if scale > 1.0:
        flat = flat.resize((round(crop.width * scale), round(crop.height * scale)),
                           Image.Resampling.LANCZOS)
    return flat.convert("RGB")


# Scripts rapidocr's models do not read: tesseract reads these (render/describe.py).
_TESSERACT_SCRIPTS = ("Kore", "Arab")


def read_back(image: "Image.Image", el: TextElement) -> str:
    """What OCR reads inside ``el``'s box (lines joined by spaces; "" when nothing);
    tesseract runs only for the scripts rapidocr cannot read."""
    from render.describe import read_text

    lines = read_text(crop_for_ocr(image, el), tesseract=el.script in _TESSERACT_SCRIPTS)
    return _norm(" ".join(line["text"] for line in lines))


def reads_as(reading: str, content: str) -> bool:
    """Whether an OCR reading shows ``content`` exactly (after NFKC and whitespace folding;
    lines may wrap, and CJK lines may be joined without a space)."""
    want = _norm(content)
    got = _norm(reading)
    return bool(want) and (got == want or got.replace(" ", "") == want.replace(" ", ""))


def finish_texts(image: "Image.Image", plan: Plan, mode: str, native_text: bool,
                 font: str | None = None,
                 inpaint: Callable[["Image.Image", "np.ndarray"], "Image.Image"] | None = None,
                 reader: Callable[["Image.Image", TextElement], str] = read_back,
                 ) -> tuple["Image.Image", list[dict]]:
    """Apply ``mode`` to a sampled image: draw the texts the model did not draw right.

    Args:
        image: the model's output at the Plan's size (RGB or RGBA).
        plan: its Plan. mode: exact | native | auto. native_text: the family draws text.
        font: a font file for the text engine. inpaint: optional ring inpaint (exact texts).
        reader: ``(image, text element) -> reading`` (OCR by default; tests pass their own).
    Returns:
        ``(RGBA image, one report per text in Plan order)``.
    """
    from render.harmonise import apply_text

    run = effective_mode(mode, native_text)
    texts = plan.texts
    readings: dict[str, str | None] = {t.id: None for t in texts}
    if run == "exact":
        redraw = list(texts)
    elif run == "native":
        redraw = []
    else:
        for t in texts:
            readings[t.id] = reader(image, t)
        redraw = [t for t in texts if not reads_as(readings[t.id] or "", t.content)]
    keep = {t.id for t in redraw}
    only = plan.model_copy(update={"elements": tuple(
        e for e in plan.elements if not isinstance(e, TextElement) or e.id in keep)})
    out = apply_text(image, only, font=font, inpaint=inpaint) if redraw else \
        image.convert("RGBA")
    report = [{"id": t.id, "text": t.content, "mode": run,
               "drawn_by": ENGINE if t.id in keep else MODEL, "ocr": readings[t.id]}
              for t in texts]
    return out, report
