"""What changed between two Plans: the input of partial re-rendering (DESIGN.md, editing).

Elements are matched by id (the reviser keeps ids of untouched elements). The diff names the
added, removed and changed elements and whether the background, canvas size or style
changed; ``regions`` gives the normalised boxes whose pixels must be redrawn.
No PIL here: render/edit.py turns the regions into a pixel mask.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from planner.schema import Box, Plan

# Fields that do not change a single pixel.
_INERT_PLAN_FIELDS = {"prompt", "reasoning", "planner", "schema_version"}


class PlanDiff(BaseModel):
    """The difference from ``plan0`` to ``plan1``.

    ``changed`` lists ids present in both whose fields differ; ``moved`` is the subset whose
    box changed. ``full`` is true when nothing can be kept (canvas, background, style, seed,
    quality or negative prompt changed).
    """

    model_config = ConfigDict(frozen=True)

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    moved: tuple[str, ...] = ()
    background_changed: bool = False
    canvas_changed: bool = False
    style_changed: bool = False
    other_changed: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.full)

    @property
    def full(self) -> bool:
        return (self.background_changed or self.canvas_changed or self.style_changed
                or bool(self.other_changed))

    def summary(self) -> str:
        """One line for humans: "added umbrella-1; changed cat-1; background"."""
        parts = [f"{name} {', '.join(ids)}" for name, ids in (
            ("added", self.added), ("removed", self.removed), ("changed", self.changed)) if ids]
        parts += [name for name, flag in (("background", self.background_changed),
                                          ("canvas size", self.canvas_changed),
                                          ("style", self.style_changed)) if flag]
        parts += list(self.other_changed)
        return "; ".join(parts) or "no change"


def diff(plan0: Plan, plan1: Plan) -> PlanDiff:
    """Compare two Plans element by element (by id).

    Args:
        plan0: the Plan before the edit.
        plan1: the Plan after it.
    Returns:
        A PlanDiff.
    """
    before = {e.id: e for e in plan0.elements}
    after = {e.id: e for e in plan1.elements}
    changed = tuple(i for i in after if i in before and after[i] != before[i])
    skip = _INERT_PLAN_FIELDS | {"elements", "canvas", "style"}
    other = tuple(f for f in Plan.model_fields
                  if f not in skip and getattr(plan0, f) != getattr(plan1, f))
    return PlanDiff(
        added=tuple(i for i in after if i not in before),
        removed=tuple(i for i in before if i not in after),
        changed=changed,
        moved=tuple(i for i in changed if after[i].box != before[i].box),
        background_changed=plan0.canvas.background != plan1.canvas.background,
        canvas_changed=plan0.size != plan1.size,
        style_changed=plan0.style != plan1.style,
        other_changed=other,
    )


def regions(d: PlanDiff, plan0: Plan, plan1: Plan) -> list[Box]:
    """The normalised boxes to redraw: the old box of every removed or changed element and
    the new box of every added or changed one (the whole canvas when ``d.full``).

    Returns:
        A list of boxes; empty when nothing changed.
    """
    if d.full:
        return [(0.0, 0.0, 1.0, 1.0)]
    before = {e.id: e for e in plan0.elements}
    after = {e.id: e for e in plan1.elements}
    boxes = [before[i].box for i in d.removed + d.changed]
    boxes += [after[i].box for i in d.added + d.changed if after[i].box not in boxes]
    return boxes


def unchanged_elements(d: PlanDiff, plan1: Plan) -> list:
    """Elements of ``plan1`` that the edit did not touch (kept when only the backdrop is
    redrawn, e.g. by an inpainting renderer)."""
    touched = set(d.added) | set(d.changed)
    return [e for e in plan1.elements if e.id not in touched]
