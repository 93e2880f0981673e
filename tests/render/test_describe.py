"""describe: limner files (Plan + OCR agree with what was drawn) and plain images."""

import json
import shutil
import subprocess

import pytest
from PIL import Image, ImageDraw, ImageFont

from limner.api import Limner, LimnerError
from limner.cli import main
from planner.schema import Background, Canvas, ObjectElement, Plan, TextElement
from render.describe import cell_of, color_name, describe, tesseract_languages


def _squash(text: str) -> str:
    return "".join(text.split()).upper()


def _poster(content: str, script: str) -> Plan:
    return Plan(prompt="poster", seed=5,
                canvas=Canvas(width=384, height=384,
                              background=Background(kind="color", color="#ffffff")),
                elements=(TextElement(id="title", box=(0.08, 0.04, 0.92, 0.3),
                                      content=content, script=script, color="#111111"),
                          ObjectElement(id="apple-1", box=(0.05, 0.62, 0.3, 0.95),
                                        label="apple", color="red"),
                          ObjectElement(id="apple-2", box=(0.68, 0.62, 0.95, 0.95),
                                        label="apple", color="red")))


SCRIPTS = [("GRAND OPENING", "Latn"), ("欢迎光临", "Hans")]
if {"kor", "ara"} <= set(tesseract_languages()):
    SCRIPTS += [("김치찌개", "Kore"), ("أهلا وسهلا", "Arab")]


@pytest.fixture(scope="module")
def lim():
    return Limner()


@pytest.mark.parametrize("content, script", SCRIPTS)
def test_limner_file_plan_and_ocr_agree(lim, content, script):
    plan = _poster(content, script)
    data = lim.render([plan])[0].data
    d = lim.describe(data)
    json.dumps(d, ensure_ascii=False)                          # JSON-ready
    assert d["limner"]["plan"] == plan.model_dump(mode="json")
    assert d["limner"]["seed"] == 5 and d["limner"]["renderer"] == "draft"
    cells = {e["id"]: e["cell"] for e in d["limner"]["elements"]}
    assert cells == {"title": "top-center", "apple-1": "bottom-left", "apple-2": "bottom-right"}
    title = d["limner"]["elements"][0]
    # OCR, inside the title's box, reads what the Plan says was drawn there (the text
    # engine may wrap it onto several lines).
    assert title["read_matches"], (title, d["text"])
    assert _squash(" ".join(t["text"] for t in d["text"])) == _squash(content)
    engine = "tesseract" if script in ("Kore", "Arab") else "rapidocr"
    assert {t["engine"] for t in d["text"]} == {engine}
    box = d["text"][0]["box"]
    assert cell_of((box[0] + box[2]) / 2, (box[1] + box[3]) / 2) == "top-center"
    assert d["layout"]["cells"]["top-center"]["elements"] == [f"text {content!r}"]
    assert d["layout"]["cells"]["bottom-left"]["elements"] == ["red apple"]
    assert d["layout"]["cells"]["bottom-left"]["content"] > 0.1
    assert d["layout"]["cells"]["middle-center"]["content"] < 0.05
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
    d = describe(im)
    assert d["layout"]["background"] == "transparent"
    assert d["layout"]["cells"]["bottom-right"]["content"] > 0.5
    assert d["colors"][0]["name"] == "green"


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
    assert "text: 'SALE'" in out and "layout:" in out and "no VLM configured" in out
    assert main(["describe", str(tmp_path / "nope.png")]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract not installed")
def test_tesseract_languages_listed():
    assert "eng" in tesseract_languages()
