"""describe: limner files (Plan + OCR agree with what was drawn) and plain images."""

import json
import shutil
import subprocess

import pytest
from PIL import Image, ImageDraw, ImageFont

from limner.api import Limner, LimnerError
from limner.cli import main
from planner.schema import Background, Canvas, ObjectElement, Plan, TextElement
from render.describe import (cell_of, color_name, describe, dominant_colors, layout,
                             tesseract_languages)


def _squash(text: str) -> str:
    return "".join(text.split()).upper()


SCRIPTS = [("GRAND OPENING", "Latn"), ("欢迎光临", "Hans")]
if {"kor", "ara"} <= set(tesseract_languages()):
    SCRIPTS += [("김치찌개", "Kore"), ("أهلا وسهلا", "Arab")]
CELLS = ["top-left", "top-right", "middle-left", "middle-right"]


def _poster() -> Plan:
    """One text per script in a 2x2 block at the top (Korean beside Arabic on one row),
    two red apples at the bottom corners."""
    texts = tuple(TextElement(id=f"text-{i}", content=content, script=script,
                              color="#111111",
                              box=(0.05 + 0.5 * (i % 2), 0.04 + 0.25 * (i // 2),
                                   0.45 + 0.5 * (i % 2), 0.24 + 0.25 * (i // 2)))
                  for i, (content, script) in enumerate(SCRIPTS))
    apples = (ObjectElement(id="apple-1", box=(0.05, 0.62, 0.3, 0.95), label="apple",
                            color="red"),
              ObjectElement(id="apple-2", box=(0.68, 0.62, 0.95, 0.95), label="apple",
                            color="red"))
    return Plan(prompt="poster", seed=5, elements=texts + apples,
                canvas=Canvas(width=512, height=512,
                              background=Background(kind="color", color="#ffffff")))


@pytest.fixture(scope="module")
def lim():
    return Limner()


def test_limner_file_plan_and_ocr_agree(lim):
    plan = _poster()
    data = lim.render([plan])[0].data
    d = lim.describe(data)
    json.dumps(d, ensure_ascii=False)                          # JSON-ready
    assert d["limner"]["plan"] == plan.model_dump(mode="json")
    assert d["limner"]["seed"] == 5 and d["limner"]["renderer"] == "draft"
    els = {e["id"]: e for e in d["limner"]["elements"]}
    assert els["apple-1"]["cell"] == "bottom-left" and els["apple-2"]["cell"] == "bottom-right"
    for i, (content, script) in enumerate(SCRIPTS):
        el = els[f"text-{i}"]
        assert el["cell"] == CELLS[i]
        # OCR, inside the element's box, reads what the Plan says was drawn there (the
        # text engine may wrap it onto several lines).
        assert el["read_matches"], (el, d["text"])
        read = [t for t in d["text"] if _squash(t["text"]) in _squash(content)]
        engine = "tesseract" if script in ("Kore", "Arab") else "rapidocr"
        assert read and {t["engine"] for t in read} == {engine}, d["text"]
        box = read[0]["box"]
        assert cell_of((box[0] + box[2]) / 2, (box[1] + box[3]) / 2) == CELLS[i]
        assert d["layout"]["cells"][CELLS[i]]["elements"] == [f"text {content!r}"]
    assert d["layout"]["cells"]["bottom-left"]["elements"] == ["red apple"]
    assert d["layout"]["cells"]["bottom-left"]["content"] > 0.1
    assert d["layout"]["cells"]["bottom-center"]["content"] < 0.05
    assert "2 red apple" in d["summary"]


def _plain_image():
    """No metadata: a blue card, a yellow square top-left, white 'SALE' bottom-right."""
    im = Image.new("RGB", (480, 360), (20, 60, 170))
    draw = ImageDraw.Draw(im)
    draw.rectangle((20, 20, 140, 110), fill=(250, 210, 20))
    path = subprocess.run(["fc-match", "-f", "%{file}", "Noto Sans:bold"],
                          capture_output=True, text=True).stdout
    font = ImageFont.truetype(path, 56)
    draw.text((330, 270), "SALE", font=font, fill=(255, 255, 255))
    return im


def test_plain_image_ocr_colours_layout(tmp_path):
    path = tmp_path / "plain.png"
    _plain_image().save(path)
    d = describe(str(path))
    assert d["limner"] is None and d["provenance"]["signed"] is False
    assert [t["text"] for t in d["text"]] == ["SALE"]
    assert d["layout"]["cells"]["bottom-right"]["text"] == ["SALE"]
    names = [c["name"] for c in d["colors"]]
    assert names[0] == "blue" and "yellow" in names
    assert d["colors"][0]["share"] > 0.7
    assert abs(sum(c["share"] for c in d["colors"]) - 1) < 0.02
    cells = d["layout"]["cells"]
    assert cells["top-left"]["content"] > 0.3 and cells["middle-center"]["content"] == 0
    assert color_name(tuple(int(d["layout"]["background"][i:i + 2], 16)
                            for i in (1, 3, 5))) == "blue"
    assert d["vlm"] is None and d["caption"] is None


def test_transparent_image_layout():
    im = Image.new("RGBA", (96, 96), (0, 0, 0, 0))
    ImageDraw.Draw(im).ellipse((60, 60, 95, 95), fill=(30, 160, 40, 255))
    grid = layout(im, [])
    assert grid["background"] == "transparent"
    assert grid["cells"]["bottom-right"]["content"] > 0.5
    assert grid["cells"]["top-left"]["content"] == 0
    colors = dominant_colors(im)
    assert colors[0]["name"] == "green" and colors[0]["share"] > 0.9   # opaque pixels only


@pytest.mark.parametrize("rgb, name", [((0, 0, 0), "black"), ((255, 255, 255), "white"),
                                       ((128, 128, 128), "gray"), ((220, 20, 20), "red"),
                                       ((20, 40, 200), "blue"), ((120, 70, 20), "brown"),
                                       ((250, 220, 30), "yellow"), ((0, 90, 0), "dark green")])
def test_color_names(rgb, name):
    assert color_name(rgb) == name


def test_bad_input_is_a_clear_error(lim, tmp_path):
    with pytest.raises(LimnerError, match="not a readable image") as e:
        lim.describe(b"not an image")
    assert e.value.param == "image"
    with pytest.raises(LimnerError, match="does not exist"):
        lim.describe(str(tmp_path / "missing.png"))


def test_cli_describe(tmp_path, capsys):
    path = tmp_path / "plain.png"
    _plain_image().save(path)
    assert main(["describe", str(path), "-q", "what does it say?"]) == 0
    out = capsys.readouterr().out
    assert "text: 'SALE'" in out and "layout:" in out and 'It says "SALE".' in out
    assert main(["describe", str(path), "-q", "is it a sale for shoes?"]) == 0
    assert "needs a vision-language model" in capsys.readouterr().out
    assert main(["describe", str(tmp_path / "nope.png")]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract not installed")
def test_tesseract_languages_listed():
    assert "eng" in tesseract_languages()
