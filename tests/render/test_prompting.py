"""The Plan as a structured prompt (render/prompting.py): position words follow the boxes."""

import pytest

from planner.schema import Background, Canvas, ObjectElement, Plan, Style, TextElement
from render.prompting import (position_words, relation_words, size_word, structured_prompt,
                              text_lines)


def _obj(i, label, box, color=None, z=0, description=""):
    return ObjectElement(id=f"{label}-{i}", label=label, box=box, color=color, z=z,
                         description=description)


def _plan(*elements, style="", background=None, size=(1024, 1024)):
    canvas = Canvas(width=size[0], height=size[1],
                    background=background or Background(kind="color", color="white"))
    return Plan(elements=tuple(elements), style=Style(text=style), canvas=canvas)


@pytest.mark.parametrize("box, words", [
    ((0.0, 0.0, 0.3, 0.3), "in the top-left third"),
    ((0.7, 0.0, 1.0, 0.3), "in the top-right third"),
    ((0.7, 0.7, 0.95, 0.95), "in the bottom-right third"),
    ((0.05, 0.7, 0.3, 0.95), "in the bottom-left third"),
    ((0.4, 0.4, 0.6, 0.6), "in the center"),
    ((0.4, 0.05, 0.6, 0.2), "in the top center"),
    ((0.0, 0.4, 0.2, 0.6), "in the middle of the left side"),
    ((0.05, 0.8, 0.95, 0.95), "across the bottom"),
    ((0.0, 0.0, 1.0, 1.0), "filling the image"),
])
def test_position_words_follow_the_box(box, words):
    assert position_words(box) == words


def test_relations_follow_the_boxes():
    left, right = (0.1, 0.4, 0.3, 0.6), (0.6, 0.4, 0.8, 0.6)
    top, bottom = (0.4, 0.0, 0.6, 0.2), (0.4, 0.7, 0.6, 0.9)
    assert relation_words(left, right) == "left of"
    assert relation_words(right, left) == "right of"
    assert relation_words(top, bottom) == "above"
    assert relation_words(bottom, top) == "below"
    # overlapping boxes are ordered by z; a box inside a lower one stands on it
    assert relation_words((0.4, 0.4, 0.5, 0.5), (0.3, 0.3, 0.7, 0.7), 2, 1) == "on"
    assert relation_words((0.2, 0.2, 0.6, 0.6), (0.4, 0.4, 0.8, 0.8), 0, 1) == "behind"


def test_size_words_grow_with_area():
    words = [size_word((0, 0, s, s)) for s in (0.1, 0.25, 0.45, 0.7, 0.95)]
    assert words == ["tiny", "small", "medium-sized", "large", "very large"]


def test_prompt_lists_scene_counts_colours_positions_and_texts():
    plan = _plan(
        _obj(1, "apple", (0.05, 0.4, 0.25, 0.6), "red"),
        _obj(1, "cup", (0.7, 0.05, 0.9, 0.25), "#1e90ff"),
        _obj(2, "cup", (0.7, 0.7, 0.9, 0.9), "#1e90ff"),
        TextElement(id="t1", content='Café "Ünï" 2026', box=(0.35, 0.02, 0.65, 0.15),
                    color="gold", role="title"),
        style="watercolor", size=(1536, 1024))
    text = structured_prompt(plan)
    lines = text.splitlines()
    assert lines[0] == ("A watercolor image, landscape format, with a plain white "
                        "background.")
    apple = next(l for l in lines if l.startswith("- a red apple"))
    assert apple.startswith("- a red apple, small, in the middle of the left side")
    cups = next(l for l in lines if l.startswith("- exactly"))
    # a count word, the hex colour as a name, and one position per cup, top first
    assert cups.startswith("- exactly two dodgerblue cups:")
    assert cups.index("in the top-right third") < cups.index("in the bottom-right third")
    # every text verbatim inside quotes, with its placement and colour
    assert '"Café "Ünï" 2026"' in text
    t = next(l for l in lines if l.startswith("- the text"))
    assert "as the title" in t and "in the top center" in t and "gold lettering" in t


def test_moving_a_box_moves_its_words():
    a = _plan(_obj(1, "dog", (0.05, 0.05, 0.25, 0.25)), _obj(1, "ball", (0.7, 0.7, 0.9, 0.9)))
    b = _plan(_obj(1, "dog", (0.7, 0.7, 0.9, 0.9)), _obj(1, "ball", (0.05, 0.05, 0.25, 0.25)))
    dog_a = next(l for l in structured_prompt(a).splitlines() if l.startswith("- a dog"))
    dog_b = next(l for l in structured_prompt(b).splitlines() if l.startswith("- a dog"))
    assert "in the top-left third" in dog_a and "left of the ball" in dog_a
    assert "in the bottom-right third" in dog_b and "right of the ball" in dog_b


def test_exact_mode_keeps_the_text_out_of_the_prompt():
    plan = _plan(TextElement(id="t1", content="SALE", box=(0.3, 0.4, 0.7, 0.6)),
                 _obj(1, "tag", (0.3, 0.7, 0.7, 0.9)))
    exact = structured_prompt(plan, "exact")
    assert "SALE" not in exact and "leave a clean empty area in the center" in exact
    assert '"SALE"' in structured_prompt(plan, "native")


def test_scripts_and_transparent_backgrounds_are_named():
    plan = _plan(TextElement(id="t1", content="서울", script="Kore", box=(0.3, 0.1, 0.7, 0.3)),
                 background=Background(kind="transparent"))
    text = structured_prompt(plan, key_name="magenta")
    assert "plain flat magenta background" in text
    assert text_lines(plan)[0].endswith("written in Korean exactly as given.")


def test_unknown_text_mode_is_an_error():
    with pytest.raises(ValueError, match="text mode"):
        structured_prompt(_plan(), "loud")
