"""Drawn design: bound colours in pixels, a logo's name read back by OCR, type sizes from
roles in pixels, CJK line breaks at word boundaries, charts, menus and UI as real shapes."""

import numpy as np

from planner.rules import RulesPlanner
from planner.schema import box_to_pixels
from render.draft import DraftRenderer

from eval_images_script import eval_module

P = RulesPlanner()


def _ink(image, box):
    """Mean colour of the pixels in ``box`` that differ most from the box's border colour."""
    x0, y0, x1, y1 = box_to_pixels(box, *image.size)
    a = np.asarray(image.convert("RGB"))[y0:y1, x0:x1].reshape(-1, 3).astype(float)
    border = np.median(np.concatenate([a[:x1 - x0], a[-(x1 - x0):]]), axis=0)
    d = np.abs(a - border).sum(axis=1)
    return a[d > 0.6 * d.max()].mean(axis=0)


def test_sale_is_drawn_red_and_the_subtitle_white():
    plan = P.plan('A poster with a big red title "SALE" and white text "Up to 50% off" on a '
                  'black background', size=(384, 576))
    img = DraftRenderer().render(plan).image
    sale, sub = (next(t for t in plan.texts if t.content == c) for c in ("SALE", "Up to 50% off"))
    r, g, b = _ink(img, sale.box)
    assert r > 180 and g < 90 and b < 90
    assert min(_ink(img, sub.box)) > 200


def test_a_logo_name_is_drawn_and_read_back():
    plan = P.plan('A logo for a coffee shop called "Bean There"', size=(512, 512))
    img = DraftRenderer().render(plan).image
    ev = eval_module()
    assert [t.content for t in plan.texts] == ["Bean There"]
    lines = ev.ocr_lines(img, "Latn")
    assert ev.score_string("Bean There", lines)["exact"], lines


def test_title_glyphs_are_taller_than_body_glyphs():
    plan = P.plan('A poster titled "SPRING FAIR" with the text "Games, food and music for all '
                  'the family on the green" and a kite', size=(512, 768))
    title, body = plan.texts
    assert title.role == "title" and body.role == "body"
    from render.text import fit_text, shaping_for, _role_cap

    sizes = []
    for t in (title, body):
        x0, y0, x1, y1 = box_to_pixels(t.box, *plan.size)
        lay = fit_text(t.content, shaping_for(t.content, t.script, t.weight), (x1 - x0, y1 - y0),
                       max_size=_role_cap(t, plan.size[1], plan.size[0]))
        sizes.append(lay.size)
    assert sizes[0] > 1.3 * sizes[1]


def _plan(prompt, size=(384, 384)):
    return P.plan(prompt, size=size)


def test_four_bars_are_four_bars_drawn_on_the_canvas():
    plan = _plan("A bar chart with four bars")
    bars = [s for s in plan.shapes if s.shape == "bar"]
    assert plan.template == "chart" and len(bars) == 4
    img = np.asarray(DraftRenderer().render(plan).image.convert("RGB")).astype(int)
    for b in bars:
        x0, y0, x1, y1 = box_to_pixels(b.box, *plan.size)
        mid = img[(y0 + y1) // 2, (x0 + x1) // 2]
        bg = img[2, 2]
        assert np.abs(mid - bg).sum() > 120          # a filled bar, not the backdrop


def test_bar_values_and_labels_come_from_the_prompt():
    plan = _plan('A bar chart with bars "Q1" 10, "Q2" 15, "Q3" 12 and "Q4" 20')
    bars = sorted((s for s in plan.shapes if s.shape == "bar"), key=lambda s: s.box[0])
    assert [b.value for b in bars] == [10, 15, 12, 20]
    heights = [b.box[3] - b.box[1] for b in bars]
    assert abs(heights[3] / heights[0] - 2.0) < 0.02
    labels = {t.content: t for t in plan.texts}
    for b, name in zip(bars, ("Q1", "Q2", "Q3", "Q4")):   # each label under its bar
        t = labels[name]
        assert t.box[1] >= b.box[3] - 1e-3 and t.box[0] <= (b.box[0] + b.box[2]) / 2 <= t.box[2]


def test_pie_slices_follow_the_values():
    plan = _plan('a pie chart with slices "Rent" 50, "Food" 30 and "Fun" 20')
    slices = [s for s in plan.shapes if s.shape == "slice"]
    assert [round(s.angles[1] - s.angles[0]) for s in slices] == [180, 108, 72]


def test_menu_prices_are_flush_right_in_one_column():
    plan = _plan('A cafe menu titled "MENU" with "Espresso $3", "Latte $4.50" and "Mocha $5"',
                 size=(512, 512))
    items = [t for t in plan.texts if t.split]
    assert [t.content[t.split:] for t in items] == ["$3", "$4.50", "$5"]
    assert len({t.box[2] for t in items}) == 1 and len({t.box[0] for t in items}) == 1
    ys = [(t.box[1] + t.box[3]) / 2 for t in items]
    assert abs((ys[1] - ys[0]) - (ys[2] - ys[1])) < 1e-3
    img = np.asarray(DraftRenderer().render(plan).image.convert("L")).astype(int)
    rights = []
    for t in items:          # the price's last inked column is the same on every line
        x0, y0, x1, y1 = box_to_pixels(t.box, *plan.size)
        ink = np.where((np.abs(img[y0:y1, x0:x1] - img[y0, x0]) > 80).any(axis=0))[0]
        rights.append(x0 + ink.max())
    assert max(rights) - min(rights) <= 3


def test_infographic_points_are_evenly_spaced_and_aligned():
    plan = _plan('An infographic titled "HABITS" with three tips: "Drink water", '
                 '"Sleep 8 hours", "Walk every day"')
    pts = [t for t in plan.texts if t.role == "bullet"]
    assert len(pts) == 3 and len({t.box[0] for t in pts}) == 1
    assert len({t.font_size for t in pts}) == 1
    ys = [(t.box[1] + t.box[3]) / 2 for t in pts]
    assert abs((ys[1] - ys[0]) - (ys[2] - ys[1])) < 1e-3
    assert [s.label for s in plan.shapes if s.shape == "marker"] == ["1", "2", "3"]


def test_ui_mockup_has_a_nav_bar_and_labelled_buttons():
    plan = _plan('A UI mockup of a login screen titled "Welcome back" with buttons "Sign in" '
                 'and "Sign up"')
    kinds = [s.shape for s in plan.shapes]
    assert kinds.count("navbar") == 1 and kinds.count("button") == 2
    for b in (s for s in plan.shapes if s.shape == "button"):
        t = next(t for t in plan.texts if t.content == b.label)
        assert b.box[0] <= t.box[0] and t.box[2] <= b.box[2]


def _boundaries(words):
    out, k = set(), 0
    for w in words:
        k += len(w)
        out.add(k)
    return out


def test_japanese_lines_break_between_words():
    import fugashi

    from render.text import fit_text, shaping_for

    text = "京都へようこそ"
    words = [w.surface for w in fugashi.Tagger()(text)]
    sh = shaping_for(text, "Jpan")
    for width in (150, 220, 320):
        lay = fit_text(text, sh, (width, 400))
        cuts = _boundaries(lay.lines)
        assert cuts <= _boundaries(words), (width, lay.lines)
        assert "こそ" not in lay.lines and "京都へよう" not in lay.lines
    plan = P.plan("海報「京都へようこそ」", size=(256, 256))
    (title,) = plan.texts
    x0, y0, x1, y1 = box_to_pixels(title.box, 256, 256)
    lay = fit_text(text, shaping_for(text, "Jpan"), (x1 - x0, y1 - y0))
    assert _boundaries(lay.lines) <= _boundaries(words)


def test_chinese_lines_break_between_words():
    import jieba

    from render.text import fit_text, shaping_for

    text = "欢迎来到北京天安门广场"
    sh = shaping_for(text, "Hans")
    words = list(jieba.cut_for_search(text, HMM=False))
    allowed = set()
    for w in words:          # every boundary of a dictionary word or sub-word
        i = text.find(w)
        while i >= 0:
            allowed |= {i, i + len(w)}
            i = text.find(w, i + 1)
    for width in (140, 220, 320):
        lay = fit_text(text, sh, (width, 400))
        assert _boundaries(lay.lines) <= allowed, (width, lay.lines)


def test_korean_breaks_at_spaces_and_arabic_stays_rtl():
    from render.text import fit_text, shaping_for

    text = "서울에 오신 것을 환영합니다"
    lay = fit_text(text, shaping_for(text, "Kore"), (160, 400))
    assert len(lay.lines) > 1 and all(w in text.split() for ln in lay.lines for w in ln.split())
    assert " ".join(lay.lines) == text
    assert shaping_for("أهلا وسهلا", "Arab").direction == "rtl"


def test_neural_prompts_name_the_shapes():
    from render.families.ideogram4_caption import plan_caption
    from render.prompting import structured_prompt

    plan = _plan("A bar chart with four bars")
    assert structured_prompt(plan).count("chart bar") == 4
    assert plan_caption(plan).count("bar") >= 4
