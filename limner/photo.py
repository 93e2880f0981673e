"""Editing a picture that carries no Plan (a photo), and what a renderer cannot do.

The photo is the starting layer and is never lost:
- new elements and text are drawn over it, away from its subject unless told where;
- "change the background to ..." replaces everything but the subject GrabCut finds;
- references named in the instruction become elements (or the backdrop, or a palette);
- what the renderer cannot do is said, never silently dropped: a recolour or removal of
  something the photo shows needs a renderer that edits pixels by instruction (an error
  naming one), and a named style the draft cannot draw comes back as a note.

Front-door glue: the words are read by planner/, the pixels drawn by render/.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from planner.schema import Plan, PlanError

if TYPE_CHECKING:
    from PIL import Image

    from render.base import RenderOptions
    from render.edit import EditResult


def instruction_renderers() -> list[str]:
    """Renderer presets whose model edits a picture by instruction (capability
    ``instruction_edit``), from configs/renderers.yaml; [] when none is configured."""
    try:
        from model.diffusion import load_renderer_presets
        from render.families import get_family
    except ImportError:
        return []
    out = []
    for name, preset in load_renderer_presets().items():
        try:
            caps = get_family(preset.family).capabilities
        except Exception:   # a preset of a family this build does not know
            continue
        if getattr(caps, "instruction_edit", False) or (
                isinstance(caps, dict) and caps.get("instruction_edit")):
            out.append(name)
    return out


def cannot_change(instruction: str, renderer: str) -> str:
    """The message for a recolour or removal of what a photo shows, on a renderer that can
    only draw new things over it: it names the renderers that can."""
    names = instruction_renderers()
    by_instruction = (f"a renderer that edits by instruction (--renderer {' | '.join(names)})"
                      if names else "a renderer that edits by instruction (a FLUX.1 Kontext "
                      "or Qwen-Image-Edit preset, once configured in configs/renderers.yaml)")
    return (f"{instruction.strip()!r}: the {renderer} renderer cannot change what this photo "
            f"already shows (it has no Plan, so limner only draws new elements, text, a new "
            f"background or references over it). Use {by_instruction}, or an inpainting "
            f"renderer such as --renderer sdxl with --mask marking the area to change")


def style_note(renderer: Any, before: Plan | None, after: Plan, *,
               photo: bool = False) -> str | None:
    """A note when ``after`` asks for a named style (new since ``before``) that
    ``renderer`` does not draw (its ``styles_not_drawn``; neural renderers read every style
    from the prompt). On a ``photo`` without a Plan the draft restyles only what it draws,
    never the photo's own pixels, so any new style there is noted."""
    style = after.style
    if not (style.preset or style.text):
        return None
    if before is not None and (before.style.preset, before.style.text) == (style.preset,
                                                                           style.text):
        return None
    not_drawn = getattr(renderer, "styles_not_drawn", None)
    if not_drawn is None:
        return None
    name = getattr(renderer, "name", "draft")
    words = style.text or style.preset
    if photo:
        names = instruction_renderers()
        who = (f"--renderer {' | '.join(names)}" if names else
               "a renderer that edits by instruction (a FLUX.1 Kontext or Qwen-Image-Edit "
               "preset, once configured)")
        return (f"style {words!r} is kept in the Plan but the {name} renderer cannot restyle "
                f"a photo's own pixels (only what it draws over them); use {who}")
    missing = not_drawn(style.text or style.preset or "")
    if not missing:
        return None
    return (f"style {', '.join(missing)!r} is kept in the Plan but the {name} renderer does "
            f"not draw it; render with a neural renderer (e.g. --renderer sdxl) to see it")


def _avoid_subject(plan: Plan, image: "Image.Image", instruction: str, new_ids: set[str],
                   subject: "Image.Image | None") -> Plan:
    from planner.references import keep_clear, says_where
    from render.photo import mask_box

    if subject is None or not new_ids or says_where(instruction):
        return plan
    box = mask_box(subject)
    return keep_clear(plan, box, new_ids) if box else plan


SUBJECT_ID = "photo-subject"


def with_subject(plan: Plan, subject: "Image.Image") -> Plan:
    """``plan`` with an element standing for the photo's subject (its box), kept as
    pixels: the element is never drawn over the photo, it holds the place."""
    from planner.revise import clamp_box
    from planner.schema import ObjectElement
    from render.photo import mask_box

    box = mask_box(subject)
    if box is None or any(e.id == SUBJECT_ID for e in plan.elements):
        return plan
    el = ObjectElement(id=SUBJECT_ID, box=clamp_box(box), label="subject",
                       description="the edited photo's own subject, kept as its pixels",
                       subject_id=SUBJECT_ID)
    return plan.model_copy(update={"elements": (el,) + plan.elements})


def subject_guard(plan0: Plan, plan1: Plan, size: tuple[int, int],
                  mask: "Image.Image | None") -> "Image.Image | None":
    """A photo's subject (``with_subject``) left alone by an edit stays its own pixels:
    ``mask`` (L, 255 = may change; None = all) without the subject's box."""
    from PIL import Image, ImageChops

    from render.edit import regions_mask

    before = next((e for e in plan0.elements if e.id == SUBJECT_ID), None)
    after = next((e for e in plan1.elements if e.id == SUBJECT_ID), None)
    if before is None or after != before:
        return mask
    keep = ImageChops.invert(regions_mask([before.box], size, 0))
    return keep if mask is None else ImageChops.multiply(mask, keep)


def keep_subject_clear(image: "Image.Image", plan0: Plan, plan1: Plan, instruction: str
                       ) -> Plan:
    """What an edit adds to a photo's overlay Plan, moved off the photo's subject unless
    the instruction says where it goes."""
    from planner.references import says_where
    from render.photo import subject_mask

    new = {e.id for e in plan1.elements} - {e.id for e in plan0.elements}
    if not new or says_where(instruction):
        return plan1
    return _avoid_subject(plan1, image, instruction, new, subject_mask(image))


def plan_photo_edit(image: "Image.Image", instruction: str, editable: "Image.Image",
                    references: int, *, seed: int = 0, renderer_name: str = "draft",
                    subject: "Image.Image | None" = None,
                    fallback: Callable[[str, tuple[int, int], int], Plan] | None = None
                    ) -> Plan:
    """The Plan of an instruction on a photo: what it adds (inside ``editable``), the
    references it names bound to elements, new things kept off the photo's subject.

    Raises:
        PlanError: an instruction nothing reads, a reference that is not there, or a
            change to something only the photo's pixels hold (naming who can do it).
    """
    from planner.references import bind, for_planning, read
    from limner.editing import fit_into_mask, plan_for_image
    from render.edit import overlay_plan

    reading = read(instruction, references)
    try:
        plan = plan_for_image(instruction, image.size, editable, seed=seed,
                              references=references, fallback=fallback)
    except PlanError as e:
        if "nothing in the image matches" in str(e):
            raise PlanError(cannot_change(instruction, renderer_name)) from None
        if not reading.mentions:
            raise
        text = for_planning(reading)
        try:
            plan = plan_for_image(text, image.size, editable, seed=seed,
                                  references=references, fallback=fallback)
        except PlanError:
            # Only a verb is left ("put it on the background from image 1"): the named
            # images are the whole edit.
            plan = overlay_plan(image.size, seed)
    before = plan
    plan = bind(plan, reading)
    if plan is not before:
        plan = fit_into_mask(before, plan, editable)
    plan = plan.model_copy(update={"prompt": instruction})
    return _avoid_subject(plan, image, instruction, {e.id for e in plan.elements}, subject)


def edit_photo(renderer: Any, image: "Image.Image", instruction: str, *, mask: Any = None,
               options: "RenderOptions | None" = None, seed: int = 0,
               fallback: Callable[[str, tuple[int, int], int], Plan] | None = None,
               base: Plan | None = None) -> "EditResult":
    """Edit a picture without a Plan; its pixels stay wherever the edit does not draw.

    Without a mask the photo's subject (render/photo.py) is kept out of the change: new
    elements are placed off it, and a new background fills everything else.

    Args:
        base: the overlay Plan the photo already carries (what earlier edits drew on it);
            the result's Plan holds its elements too, and a new background redraws them.
    Returns:
        EditResult: pixels outside ``result.mask`` equal ``image`` exactly.
    """
    planned = plan_photo(renderer, image, instruction, mask=mask, options=options, seed=seed,
                         fallback=fallback, base=base)
    return draw_photo(renderer, image, *planned, options=options)


def plan_photo(renderer: Any, image: "Image.Image", instruction: str, *, mask: Any = None,
               options: "RenderOptions | None" = None, seed: int = 0,
               fallback: Callable[[str, tuple[int, int], int], Plan] | None = None,
               base: Plan | None = None) -> tuple[Plan, Plan, "Image.Image"]:
    """The planning half of ``edit_photo`` (nothing is drawn): ``(plan, drawn, change)``,
    the result's Plan, the part of it to draw, and the L mask of the pixels that may change.

    Raises:
        PlanError: see ``plan_photo_edit``.
    """
    from PIL import Image, ImageChops

    from limner.editing import merge_overlay
    from render.base import RenderOptions
    from render.edit import is_overlay, load_mask
    from render.photo import subject_mask

    options = options or RenderOptions()
    editable = (load_mask(mask, image.size) if mask is not None
                else Image.new("L", image.size, 255))
    subject = subject_mask(image) if mask is None else None
    plan = plan_photo_edit(image, instruction, editable, len(options.references), seed=seed,
                           renderer_name=getattr(renderer, "name", "draft"), subject=subject,
                           fallback=fallback)
    if base is not None:
        plan = merge_overlay(base, plan)
    drawn = plan
    if base is not None and is_overlay(plan):   # draw only what this edit adds
        drawn = plan.model_copy(update={"elements": plan.elements[len(base.elements):]})
    change = editable
    if not is_overlay(plan) and subject is not None:
        # A new background: everything but the subject, which the Plan now records so that
        # later edits (a Plan diff from here on) keep it and place new things beside it.
        change = ImageChops.subtract(editable, subject)
        plan = with_subject(plan, subject)
        drawn = plan.model_copy(update={"elements": tuple(
            e for e in plan.elements if e.id != SUBJECT_ID)})
    return plan, drawn, change


def draw_photo(renderer: Any, image: "Image.Image", plan: Plan, drawn: Plan,
               change: "Image.Image", options: "RenderOptions | None" = None
               ) -> "EditResult":
    """The drawing half of ``edit_photo``: ``drawn`` rendered (inpainted where the renderer
    can) and composited into ``image`` through ``change``."""
    from PIL import Image

    from render.base import RenderOptions
    from render.edit import EditResult, _inpaint, composite, is_overlay

    options = options or RenderOptions()
    base_px = image.convert("RGBA" if image.mode in ("RGBA", "LA", "PA") else "RGB")
    inpaint = _inpaint(renderer)
    if inpaint is not None:
        new = inpaint(base_px, drawn, change, options)
    else:
        new = renderer.render(drawn, options).image
    if new.size != base_px.size:
        new = new.resize(base_px.size, Image.LANCZOS)
    return EditResult(composite(new, base_px, change, over=is_overlay(plan)), plan, None,
                      change)


# --- the hook for models that edit by instruction ------------------------------------------

def native_editor(renderer: Any) -> Callable | None:
    """The renderer's whole-image instruction edit, when its model has one: capability
    ``instruction_edit`` and a method ``instruction_edit(image, instruction, options) ->
    PIL image`` (``options.references``: the reference images, at most the family's
    ``capabilities.references``). None otherwise (the draft renderer)."""
    caps = getattr(renderer, "capabilities", None)
    fn = getattr(renderer, "instruction_edit", None)
    return fn if getattr(caps, "instruction_edit", False) and callable(fn) else None


def edit_picture(renderer: Any, image: "Image.Image", instruction: str, **kw: Any
                 ) -> "EditResult":
    """``edit_photo``, except that what drawing over the photo cannot do goes to the
    renderer's model whole-image (``native_editor``): a change to what the photo shows
    ("make the car blue", "remove the dog") and a restyle ("make it watercolor"). With a
    mask the edit stays inside it (``edit_photo``). The Plan records the instruction."""
    from dataclasses import replace

    from PIL import Image

    from render.base import RenderOptions
    from render.edit import EditResult, overlay_plan

    editor = native_editor(renderer) if kw.get("mask") is None else None
    if editor is None:
        return edit_photo(renderer, image, instruction, **kw)
    try:     # planned first; drawn only when it does not go to the model whole-image
        planned = plan_photo(renderer, image, instruction, **kw)
    except PlanError:
        planned = None
    base = kw.get("base")
    before = base.style if base is not None else None
    # A new scene around the photo ("make it rainy", "put a beach behind him") goes to the
    # model whole-image too: it keeps the subject itself, in the new light.
    made = planned[0] if planned is not None else None
    scene = (made is not None and made.canvas.background.kind == "scene"
             and (base is None or made.canvas.background != base.canvas.background))
    if made is not None and not scene and (
            not (made.style.text or made.style.preset) or made.style == before):
        return draw_photo(renderer, image, *planned, options=kw.get("options"))
    plan = made if made is not None else (
        base or overlay_plan(image.size, kw.get("seed", 0)))
    plan = plan.model_copy(update={"prompt": instruction})
    options = kw.get("options") or RenderOptions()
    options = replace(options, extra={**options.extra, "seed": kw.get("seed", 0)})
    pixels = editor(image, instruction, options)
    if pixels.size != image.size:
        pixels = pixels.resize(image.size, Image.LANCZOS)
    return EditResult(pixels, plan, None, Image.new("L", image.size, 255))
