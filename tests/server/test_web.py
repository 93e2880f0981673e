"""The web page in headless Chromium (Debian's chromium + chromium-driver, via selenium):
generate, see the image and its Plan's boxes, edit once, download link. A screenshot is kept
in tests/artifacts/ (gitignored)."""

from __future__ import annotations

import json
import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARTIFACTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                         "artifacts")

pytestmark = pytest.mark.skipif(
    not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)),
    reason="Debian chromium and chromium-driver are not installed (scripts/setup.sh --test)")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    opts.binary_location = CHROMIUM
    # The closed network refuses Chromium's background connections; these flags stop them.
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 "--window-size=1400,1000",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    yield driver
    driver.quit()


def _wait(driver, predicate, timeout=30):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: predicate(d))


def _css(driver, selector):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def _boxes_match_plan(driver) -> dict:
    """Every element of the shown Plan has one box over the image, where the Plan puts it."""
    plan = json.loads(driver.find_element("id", "plan-json").get_attribute("textContent"))
    img = driver.find_element("id", "main-image")
    assert driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth",
                                 img) == plan["canvas"]["width"]
    boxes = _css(driver, "#overlay .box")
    assert len(boxes) == len(plan["elements"]) > 0
    ir = img.rect
    for el, box in zip(plan["elements"], boxes, strict=True):
        r = box.rect
        assert abs(r["x"] - (ir["x"] + el["box"][0] * ir["width"])) <= 2
        assert abs(r["y"] - (ir["y"] + el["box"][1] * ir["height"])) <= 2
        assert abs(r["width"] - (el["box"][2] - el["box"][0]) * ir["width"]) <= 3
    return plan


def test_generate_see_boxes_edit_download(server, browser):
    from selenium.webdriver.support.ui import Select

    browser.get(server.url + "/")
    _wait(browser, lambda d: "ok" in d.find_element("id", "health").text)
    browser.find_element("id", "prompt").send_keys(
        'A poster that says "FRESH BREAD" above two red apples')
    Select(browser.find_element("id", "size")).select_by_value("1536x1024")
    Select(browser.find_element("id", "quality")).select_by_value("high")
    n = browser.find_element("id", "n")
    n.clear()
    n.send_keys("2")
    browser.find_element("id", "generate").click()
    _wait(browser, lambda d: len(_css(d, "#gallery .thumb")) == 2)
    plan = _boxes_match_plan(browser)
    assert plan["canvas"]["width"] == 1536 and plan["quality"] == "high"
    assert any(el.get("content") == "FRESH BREAD" for el in plan["elements"])
    labels = [s.text for s in _css(browser, "#overlay .box span")]
    assert "\u201cFRESH BREAD\u201d" in labels

    browser.find_element("id", "edit-input").send_keys("make the apples green")
    browser.find_element("id", "edit-button").click()
    _wait(browser, lambda d: len(_css(d, "#gallery .thumb")) == 3)
    turns = [t.text for t in _css(browser, "#conversation .turn .said")]
    assert turns == ['A poster that says "FRESH BREAD" above two red apples',
                     "make the apples green"]
    edited = _boxes_match_plan(browser)
    assert all(o.get("color") != "red" for o in edited["elements"] if o["kind"] == "object")
    link = browser.find_element("id", "download")
    assert link.get_attribute("href").startswith("blob:")
    assert link.get_attribute("download").endswith(".png")
    assert "error" not in browser.find_element("id", "status").get_attribute("class")
    os.makedirs(ARTIFACTS, exist_ok=True)
    browser.save_screenshot(os.path.join(ARTIFACTS, "web_page.png"))
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not severe, severe


def test_errors_are_shown_not_thrown(server, browser):
    from selenium.webdriver.support.ui import Select

    browser.get(server.url + "/")
    browser.find_element("id", "prompt").send_keys("a cup")
    Select(browser.find_element("id", "size")).select_by_value("custom")
    browser.find_element("id", "custom-size").send_keys("1000x1000")
    browser.find_element("id", "generate").click()
    status = browser.find_element("id", "status")
    _wait(browser, lambda d: "error" in status.get_attribute("class"))
    assert "divisible by 16" in status.text


def test_stream_shows_previews_then_the_image(server, browser):
    browser.get(server.url + "/")
    browser.find_element("id", "prompt").send_keys('a sign that says "OPEN" and a cat')
    browser.find_element("id", "stream").click()
    browser.find_element("id", "generate").click()
    _wait(browser, lambda d: len(_css(d, "#gallery .thumb")) == 1)
    _boxes_match_plan(browser)


def test_upload_paint_a_mask_add_a_reference_and_edit(server, browser, tmp_path):
    """A plain photo (no Plan) uploaded, a mask painted on its left half, a reference added,
    then an instruction: the reference lands inside the mask, nothing outside it changes."""
    import base64
    import io

    import numpy as np
    from PIL import Image, ImageDraw
    from selenium.webdriver.common.action_chains import ActionChains

    rng = np.random.default_rng(0)
    photo = Image.fromarray((rng.random((256, 384, 3)) * 60 + 90).astype(np.uint8))
    photo_path = tmp_path / "photo.png"
    photo.save(photo_path)
    bag = Image.new("RGB", (64, 80), (255, 255, 255))
    ImageDraw.Draw(bag).rectangle((12, 10, 52, 72), fill=(30, 30, 220))
    bag_path = tmp_path / "bag.png"
    bag.save(bag_path)

    browser.get_log("browser")     # drop what earlier tests logged (their 400s on purpose)
    browser.get(server.url + "/")
    _wait(browser, lambda d: "ok" in d.find_element("id", "health").text)
    browser.find_element("id", "upload").send_keys(str(photo_path))
    _wait(browser, lambda d: len(_css(d, "#gallery .thumb")) == 1)
    _wait(browser, lambda d: d.execute_script(
        "return document.getElementById('main-image').naturalWidth") == 384)
    browser.find_element("id", "mask-mode").click()
    canvas = browser.find_element("id", "mask-canvas")
    r = canvas.rect
    # Paint the left half: strokes across it (the brush is 40 CSS px wide).
    chain = ActionChains(browser)
    for k in range(8):
        y = -r["height"] / 2 + (k + 0.5) * r["height"] / 8
        chain.move_to_element_with_offset(canvas, -r["width"] / 2 + 10, y).click_and_hold()
        chain.move_to_element_with_offset(canvas, -8, y).release()
    chain.perform()
    assert browser.find_element("id", "main-image").get_attribute("data-masked") == "true"
    browser.find_element("id", "references").send_keys(str(bag_path))
    _wait(browser, lambda d: len(_css(d, "#ref-list li")) == 1)
    browser.find_element("id", "edit-input").send_keys("add the backpack from reference 1")
    browser.find_element("id", "edit-button").click()
    _wait(browser, lambda d: len(_css(d, "#gallery .thumb")) == 2)
    assert "error" not in browser.find_element("id", "status").get_attribute("class")
    b64, plan = browser.execute_script(
        "const r = state.images[1]; return [r.b64, r.plan];")
    out = np.asarray(Image.open(io.BytesIO(base64.b64decode(b64))).convert("RGB"))
    bag_el = next(e for e in plan["elements"] if e.get("reference") == 0)
    assert bag_el["box"][2] <= 0.56          # inside the painted left half
    before = np.asarray(photo)
    assert (out[:, 216:] == before[:, 216:]).all()     # right of the mask: untouched
    x0, y0 = int(bag_el["box"][0] * 384), int(bag_el["box"][1] * 256)
    x1, y1 = int(bag_el["box"][2] * 384), int(bag_el["box"][3] * 256)
    blue = (np.abs(out[y0:y1, x0:x1].astype(int) - (30, 30, 220)).max(-1) < 40).sum()
    assert blue > 100
    turns = [t.text for t in _css(browser, "#conversation .turn .said")]
    assert turns == ["uploaded photo.png", "add the backpack from reference 1"]
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not severe, severe
