"""The Plan: the one typed door between planner/ and render/.

A Plan is a JSON-serialisable layout: a canvas (size and background) and one element per
object instance or piece of text, each with a normalised box ``[x0, y0, x1, y1]`` (origin
top-left, inside [0, 1]). Every model here is frozen; revise a Plan with ``model_copy``.

No torch, no PIL: this module is imported by every path, including ``limner plan``.
"""

from __future__ import annotations

import json
import math
import re
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# 1.1 (compatible: every 1.0 Plan loads unchanged): text roles subtitle, bullet, item, price;
# TextElement.font_size and .split; ShapeElement (chart bars and slices, UI controls, badges);
# Plan.template.
SCHEMA_VERSION = "1.1"

# Canvas rules (GPT Image 2's published limits).
SIZE_MULTIPLE = 16
MAX_SIDE = 3840
MAX_AREA = 3840 * 2160
MIN_SIDE = 16
MAX_RATIO = 3.0
DEFAULT_SIZE = (1024, 1024)

# Caps that bound the cost of one request (planning, layout and drawing grow with them).
MAX_PROMPT_CHARS = 32000     # OpenAI's limit for GPT Image prompts; edit instructions too
MAX_ELEMENTS = 200           # object instances plus texts in one Plan
MAX_TEXT_CHARS = 1000        # one text element's content (a long paragraph)
MAX_SEED = 2**31 - 1         # seeds are 0..MAX_SEED everywhere (CLI, Python, server)

QUALITIES = ("low", "medium", "high", "auto")
SCENES = (
    "sky", "sunset", "beach", "field", "night", "room", "table", "wall", "city", "water",
    "snow", "forest", "desert", "space", "underwater", "rain", "studio", "farm", "porch",
    "street", "mountain", "kitchen",
)
SCRIPTS = ("Latn", "Hans", "Hant", "Jpan", "Kore", "Arab", "Hebr", "Cyrl", "Grek", "Thai",
           "Deva", "Zyyy")

Box = tuple[float, float, float, float]
# Text roles, largest type first: a role decides the size a text is set in (planner/layout.py).
TEXT_ROLES = ("title", "heading", "subtitle", "label", "body", "bullet", "item", "price",
              "caption")
TextRole = Literal["title", "heading", "subtitle", "label", "body", "bullet", "item", "price",
                   "caption"]
# Design templates the planner picks from the prompt's kind words (planner/templates.py).
TEMPLATES = ("poster", "banner", "thumbnail", "infographic", "menu", "ui", "product", "card",
             "chart", "logo")
# Shapes the draft renderer draws (render/shapes.py): chart bars and pie slices, a chart's
# axis, UI buttons, cards and a nav bar, circles and badges behind text, rules, point markers,
# a card's frame.
SHAPES = ("bar", "slice", "axis", "button", "card", "navbar", "circle", "badge", "rule",
          "marker", "frame")


class SizeError(ValueError):
    """A canvas size that breaks the Plan's rules; the message names the rule."""


def check_size(width: int, height: int) -> tuple[int, int]:
    """Validate a canvas size against the Plan's rules.

    Args:
        width, height: pixels.
    Returns:
        ``(width, height)`` unchanged.
    Raises:
        SizeError: naming the broken rule and the allowed values.
    """
    for name, v in (("width", width), ("height", height)):
        if not isinstance(v, int) or isinstance(v, bool):
            raise SizeError(f"{name} must be an integer, got {v!r}")
        if v < MIN_SIDE:
            raise SizeError(f"{name} {v} is too small: at least {MIN_SIDE} pixels")
        if v % SIZE_MULTIPLE:
            raise SizeError(f"{name} {v} is not divisible by {SIZE_MULTIPLE}")
        if v > MAX_SIDE:
            raise SizeError(f"{name} {v} is over the maximum side of {MAX_SIDE}")
    ratio = max(width, height) / min(width, height)
    if ratio > MAX_RATIO + 1e-9:
        raise SizeError(
            f"size {width}x{height} has aspect ratio {ratio:.2f}:1, outside 1:3..3:1")
    if width * height > MAX_AREA:
        raise SizeError(
            f"size {width}x{height} is {width * height} pixels, over the maximum of "
            f"{MAX_AREA} (3840x2160)")
    return width, height


_SIZE_RE = re.compile(r"^\s*(\d+)\s*[xX×]\s*(\d+)\s*$")


def canvas_for_area(aspect: tuple[int, int], area: int) -> tuple[int, int]:
    """The valid canvas of ratio ``aspect`` closest to ``area`` pixels (sides multiples of 16).

    Raises:
        SizeError: an aspect outside 1:3..3:1.
    """
    a, b = aspect
    if a <= 0 or b <= 0:
        raise SizeError(f"aspect {a}:{b} must have positive sides")
    if max(a, b) / min(a, b) > 3.0 + 1e-9:
        raise SizeError(f"aspect {a}:{b} is outside 1:3..3:1")
    for shrink in (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4):
        w = (area * shrink * a / b) ** 0.5
        width = max(16, int(round(w / 16)) * 16)
        height = max(16, int(round(w * b / a / 16)) * 16)
        try:
            return check_size(width, height)
        except SizeError:
            continue
    raise SizeError(f"no valid canvas for aspect {a}:{b}")


def parse_size(text: str | tuple[int, int] | None) -> tuple[int, int] | None:
    """Parse ``"WxH"`` (or ``"auto"``/None → None) and validate it.

    Raises:
        SizeError: for text that is not ``WxH`` or a size that breaks the rules.
    """
    if text is None:
        return None
    if isinstance(text, tuple):
        return check_size(*text)
    if text.strip().lower() == "auto":
        return None
    m = _SIZE_RE.match(text)
    if not m:
        raise SizeError(f"size {text!r} is not WxH (e.g. 1024x1024) or 'auto'")
    return check_size(int(m.group(1)), int(m.group(2)))


def box_to_pixels(box: Box, width: int, height: int) -> tuple[int, int, int, int]:
    """The one conversion from a normalised box to a grid of ``width x height`` cells.

    Used for pixels and for latent cells alike (pass the latent grid's size). The result is
    a half-open integer rectangle ``(x0, y0, x1, y1)`` that always holds at least one cell.
    """
    x0, y0, x1, y1 = box
    px0 = min(max(int(math.floor(x0 * width + 1e-6)), 0), width - 1)
    py0 = min(max(int(math.floor(y0 * height + 1e-6)), 0), height - 1)
    px1 = max(min(int(math.ceil(x1 * width - 1e-6)), width), px0 + 1)
    py1 = max(min(int(math.ceil(y1 * height - 1e-6)), height), py0 + 1)
    return px0, py0, px1, py1


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Background(_Frozen):
    """What fills the canvas behind the elements.

    ``color``: one ``color``; ``gradient``: ``colors`` top to bottom (``direction``);
    ``scene``: a named procedural backdrop (``scene`` in SCENES) tinted by ``color`` when
    given; ``transparent``: real alpha, only elements are opaque. ``reference``: a reference
    image (by index) fills the canvas instead.
    """

    kind: Literal["color", "gradient", "scene", "transparent"] = "color"
    color: str | None = None
    colors: tuple[str, ...] = ()
    direction: Literal["vertical", "horizontal", "diagonal"] = "vertical"
    scene: str | None = None
    description: str = ""
    reference: int | None = Field(
        default=None, description="index of a reference image drawn as the backdrop "
                                  "(the other fields are the fallback without it)")

    @model_validator(mode="after")
    def _check(self) -> "Background":
        if self.kind == "scene" and not self.scene:
            raise ValueError("background kind 'scene' needs a scene name")
        if self.kind == "gradient" and len(self.colors) < 2:
            raise ValueError("background kind 'gradient' needs at least two colors")
        return self


class Canvas(_Frozen):
    width: int = DEFAULT_SIZE[0]
    height: int = DEFAULT_SIZE[1]
    background: Background = Background(kind="color", color="#f4f1ea")

    @model_validator(mode="after")
    def _check(self) -> "Canvas":
        try:
            check_size(self.width, self.height)
        except SizeError as e:
            raise ValueError(str(e)) from None
        return self


class Style(_Frozen):
    text: str = ""
    preset: str | None = None
    reference: int | None = Field(
        default=None, description="index of a reference image whose palette the picture "
                                  "takes (a style source)")


def _check_box(box: Box) -> Box:
    x0, y0, x1, y1 = box
    for v in box:
        if not (0.0 <= v <= 1.0) or math.isnan(v):
            raise ValueError(f"box {list(box)} has a coordinate outside [0, 1]")
    if not (x0 < x1 and y0 < y1):
        raise ValueError(f"box {list(box)} needs x0 < x1 and y0 < y1")
    return box


class _Element(_Frozen):
    id: str
    box: Box
    z: int = 0

    @field_validator("box")
    @classmethod
    def _box(cls, v: Box) -> Box:
        return _check_box(v)


class ObjectElement(_Element):
    """One instance of an object ("three croissants" is three of these)."""

    kind: Literal["object"] = "object"
    label: str
    color: str | None = None
    description: str = ""
    subject_id: str | None = None
    reference: int | None = Field(
        default=None, description="index of a reference image that stands for this object")

    @field_validator("label")
    @classmethod
    def _label(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("object label must not be empty")
        return v


class TextElement(_Element):
    """A piece of text drawn exactly by the text engine: never translated or re-cased."""

    kind: Literal["text"] = "text"
    content: str
    script: str = "Latn"
    color: str | None = None
    font: str | None = None
    weight: Literal["regular", "bold"] = "bold"
    align: Literal["left", "center", "right"] = "center"
    role: TextRole = "title"
    font_size: float | None = Field(
        default=None, gt=0, le=1,
        description="the type size the layout chose, as a share of the canvas height: the "
                    "text engine sets it no larger, and smaller only when the box cannot "
                    "hold it")
    split: int | None = Field(
        default=None, ge=1,
        description="a two-column line (a menu's name and price): content[:split] is set "
                    "flush left and content[split:] flush right on the same baseline")

    @field_validator("content")
    @classmethod
    def _content(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("text content must not be empty")
        if len(v) > MAX_TEXT_CHARS:
            raise ValueError(f"text content is {len(v)} characters; the maximum is "
                             f"{MAX_TEXT_CHARS} (MAX_TEXT_CHARS) per text")
        return v


class ShapeElement(_Element):
    """A design shape drawn exactly by the draft renderer: a chart's bar (``value``) or pie
    slice (``value`` and ``angles``, degrees clockwise from 12 o'clock, inside a box that
    holds the whole pie), a UI button, card or nav bar, a circle or badge behind a text."""

    kind: Literal["shape"] = "shape"
    shape: Literal["bar", "slice", "axis", "button", "card", "navbar", "circle", "badge",
                   "rule", "marker", "frame"]
    label: str = ""
    color: str | None = None
    value: float | None = None
    angles: tuple[float, float] | None = None
    description: str = ""


Element = Annotated[Union[ObjectElement, TextElement, ShapeElement],
                    Field(discriminator="kind")]


class Plan(_Frozen):
    """A full, renderable description of one image."""

    schema_version: str = SCHEMA_VERSION
    prompt: str = ""
    seed: int = 0
    quality: Literal["low", "medium", "high", "auto"] = "auto"
    style: Style = Style()
    canvas: Canvas = Canvas()
    elements: tuple[Element, ...] = ()
    negative_prompt: str = ""
    planner: str = "rules"
    template: str | None = Field(
        default=None, description="the design template the planner chose (TEMPLATES), "
                                  "or None for a free layout")
    reasoning: str = Field(
        default="", description="the LLM planner's thinking step, kept for inspection")

    @model_validator(mode="after")
    def _ids(self) -> "Plan":
        if len(self.elements) > MAX_ELEMENTS:
            raise ValueError(f"the Plan has {len(self.elements)} elements; the maximum is "
                             f"{MAX_ELEMENTS} (MAX_ELEMENTS)")
        seen: set[str] = set()
        for el in self.elements:
            if el.id in seen:
                raise ValueError(f"element id {el.id!r} appears twice")
            seen.add(el.id)
        return self

    # --- convenience views -------------------------------------------------------------
    @property
    def objects(self) -> list[ObjectElement]:
        return [e for e in self.elements if isinstance(e, ObjectElement)]

    @property
    def texts(self) -> list[TextElement]:
        return [e for e in self.elements if isinstance(e, TextElement)]

    @property
    def shapes(self) -> list[ShapeElement]:
        return [e for e in self.elements if isinstance(e, ShapeElement)]

    @property
    def size(self) -> tuple[int, int]:
        return self.canvas.width, self.canvas.height

    @property
    def transparent(self) -> bool:
        return self.canvas.background.kind == "transparent"

    def element(self, element_id: str) -> ObjectElement | TextElement:
        for el in self.elements:
            if el.id == element_id:
                return el
        raise KeyError(element_id)

    def to_json(self, indent: int | None = 2) -> str:
        return self.model_dump_json(indent=indent)

    @classmethod
    def from_json(cls, text: str) -> "Plan":
        return cls.model_validate_json(text)

    def canonical_json(self) -> str:
        """Key-sorted compact JSON: the input of plan hashes."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False)


def plan_json_schema() -> dict:
    """The JSON Schema of the Plan (``limner plan --schema``)."""
    return Plan.model_json_schema()


class PlanError(ValueError):
    """A prompt or instruction that could not be turned into a valid Plan.

    ``raw`` carries the model's raw text when an LLM planner gave up.
    """

    def __init__(self, message: str, raw: str | None = None, param: str | None = None):
        super().__init__(message)
        self.raw = raw
        self.param = param


def check_prompt(text: object, param: str = "prompt") -> str:
    """The one length and type check for prompts and edit instructions.

    Raises:
        PlanError: naming ``param`` and the cap.
    """
    if not isinstance(text, str):
        raise PlanError(f"{param} must be a string; got {type(text).__name__}", param=param)
    if len(text) > MAX_PROMPT_CHARS:
        raise PlanError(f"{param} is {len(text)} characters; the maximum is "
                        f"{MAX_PROMPT_CHARS} (MAX_PROMPT_CHARS)", param=param)
    return text


def check_seed(seed: object, param: str = "seed") -> int:
    """The one seed check (CLI, Python API and server all call it): an integer from 0 to
    MAX_SEED, so a seed written in a file reproduces the same image everywhere.

    Raises:
        PlanError: naming ``param`` and the range.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise PlanError(f"{param} must be an integer from 0 to {MAX_SEED}; got {seed!r}",
                        param=param)
    return seed


def check_element_count(count: int) -> None:
    """Refuse a request for more elements than a Plan holds, before any layout work.

    Raises:
        PlanError: naming the cap.
    """
    if count > MAX_ELEMENTS:
        raise PlanError(f"the prompt asks for {count} objects and texts; a Plan holds at most "
                        f"{MAX_ELEMENTS} (MAX_ELEMENTS): ask for fewer", param="prompt")
