"""Scene: the facts a planner understood, before any box exists.

Both planners (rules and LLM) produce a Scene; ``planner.layout.solve`` turns a Scene into the
elements of a Plan. Keeping this step separate is what lets the layout solver, not a language
model, own the coordinates (DESIGN.md, stage 2).

References inside relations name entities and texts by their index:
``"entity:0"``, ``"text:1"``. A relation with ``target=None`` is an absolute placement
("on the left", "at the top").
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from planner.schema import Background, Style, TextRole

RELATIONS = (
    "left of", "right of", "above", "below", "on", "under", "beside", "next to",
    "between", "around", "in", "in front of", "behind", "wearing", "holding",
)
POSITIONS = ("left", "right", "top", "bottom", "center", "top left", "top right",
             "bottom left", "bottom right")

Relation = Literal[
    "left of", "right of", "above", "below", "on", "under", "beside", "next to",
    "between", "around", "in", "in front of", "behind", "wearing", "holding",
]
Position = Literal["left", "right", "top", "bottom", "center", "top left", "top right",
                   "bottom left", "bottom right"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Entity(_Frozen):
    """An object kind with a count: ``Entity(label="apple", count=3, color="green")``."""

    label: str
    count: int = Field(default=1, ge=1, le=100)
    color: str | None = None
    attributes: tuple[str, ...] = ()
    description: str = ""
    subject_id: str | None = None
    position: Position | None = None
    size: Literal["small", "medium", "large"] | None = None
    reference: int | None = None


class TextItem(_Frozen):
    """An exact string to draw; ``content`` is never altered."""

    content: str
    script: str = "Latn"
    role: TextRole = "title"
    color: str | None = None
    position: Position | None = None
    font: str | None = None
    size: Literal["small", "large"] | None = None      # "big"/"huge", "small"/"tiny"
    weight: Literal["regular", "bold"] | None = None   # "bold"; None: from the role
    frame: Literal["circle", "badge"] | None = None     # "in a circle", "on a badge"
    frame_color: str | None = None
    split: int | None = None        # a menu line: name flush left, price (from here) right


class SceneRelation(_Frozen):
    subject: str            # "entity:0" | "text:0"
    relation: Relation
    target: str | None = None
    target2: str | None = None   # the second anchor of "between"


class Scene(_Frozen):
    prompt: str = ""
    entities: tuple[Entity, ...] = ()
    texts: tuple[TextItem, ...] = ()
    relations: tuple[SceneRelation, ...] = ()
    background: Background | None = None
    aspect: tuple[int, int] | None = None        # e.g. (16, 9)
    size: tuple[int, int] | None = None          # explicit pixels when the prompt gives them
    scale: Literal["1K", "2K", "4K"] | None = None
    style: Style = Style()
    reasoning: str = ""
