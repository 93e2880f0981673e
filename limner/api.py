"""Limner: the Python face of limner. Thin: it wires planner/, render/ and model/ together.

The CLI and the server call these methods and nothing else.
"""

from __future__ import annotations

import os
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Sequence

from planner.schema import MAX_SEED, Plan, PlanError, SizeError, check_seed, parse_size
from render.text_modes import TEXT_MODES

if TYPE_CHECKING:
    from PIL import Image

OUTPUT_FORMATS = ("png", "jpeg", "webp")
BACKGROUNDS = ("auto", "transparent", "opaque")
QUALITIES = ("low", "medium", "high", "auto")
MAX_N = 10


class LimnerError(ValueError):
    """Bad input at the front door: the message names the field and the allowed values."""

    def __init__(self, message: str, param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.param = param
        self.code = code


class DeadlineExceeded(LimnerError):
    """A request ran past the deadline its caller set (``deadline``): the server answers 503."""

    def __init__(self, message: str):
        super().__init__(message, None, "deadline_exceeded")


# When the running request must be done (time.monotonic() seconds), or None: set by the
# server around each request; checked between images, so no request holds a worker long past it.
DEADLINE: ContextVar[float | None] = ContextVar("limner_deadline", default=None)


def check_deadline() -> None:
    """Raises DeadlineExceeded when the current request's deadline has passed."""
    deadline = DEADLINE.get()
    if deadline is not None and time.monotonic() > deadline:
        raise DeadlineExceeded("the request ran past the server's per-request deadline; "
                               "ask for fewer or smaller images")


class ModerationError(LimnerError):
    """A prompt or instruction refused by moderation (OpenAI's ``moderation_blocked``).

    ``category`` names what was refused (e.g. ``violence``); ``verdict`` explains the rule."""

    def __init__(self, message: str, category: str | None = None, verdict: Any = None,
                 param: str = "prompt"):
        super().__init__(message, param, "moderation_blocked")
        self.category = category
        self.verdict = verdict


@dataclass(frozen=True)
class GeneratedImage:
    image: "Image.Image"
    plan: Plan
    seed: int
    data: bytes          # the encoded file, metadata included
    format: str          # png | jpeg | webp
    # Who drew each of the Plan's texts: ``[{"id", "text", "mode", "drawn_by" ("model" or
    # "text engine"), "ocr"}]`` as the renderer reported it (render/text_modes.py); without
    # a report (the draft renderer, redrawn edit regions) the text engine drew them all.
    texts: tuple = ()

    def save(self, path: str, overwrite: bool = False) -> str:
        from render.encode import write_atomic

        return write_atomic(path, self.data, overwrite=overwrite)


@dataclass(frozen=True)
class GenerateResult:
    """``notes``: what the renderer could not do as asked (a style it does not draw), said
    rather than silently dropped (CLI warnings, the server's ``limner.notes``)."""

    images: list[GeneratedImage]
    renderer: str
    notes: tuple[str, ...] = ()

    def __getitem__(self, i: int) -> GeneratedImage:
        return self.images[i]

    def __len__(self) -> int:
        return len(self.images)

    @property
    def image(self) -> "Image.Image":
        return self.images[0].image

    @property
    def plan(self) -> Plan:
        return self.images[0].plan


def _stamp_texts(image: Any, plan: Plan) -> tuple:
    """The per-text report in ``image.info["limner.texts"]`` (JSON, which encoding stores in
    the file's metadata), written when the renderer left none: then the text engine drew
    every text (the draft renderer, redrawn edit regions). Returns the report."""
    import json

    if not image.info.get("limner.texts"):
        image.info["limner.texts"] = json.dumps(
            [{"id": t.id, "text": t.content, "mode": "exact", "drawn_by": "text engine",
              "ocr": None} for t in plan.texts], ensure_ascii=False)
    return tuple(json.loads(image.info["limner.texts"]))


def _choice(value: str, allowed: Sequence[str], param: str) -> str:
    if value not in allowed:
        raise LimnerError(f"{param} must be one of {', '.join(allowed)}; got {value!r}", param)
    return value


def _check_output(fmt: str, compression: int | None, transparent: bool) -> None:
    from render.encode import check_output

    try:
        check_output(fmt, compression, transparent)
    except ValueError as e:
        param = "output_compression" if "compression" in str(e) else "output_format"
        raise LimnerError(str(e), param) from None


def _seed(seed: Any, n: int = 1) -> int:
    """``seed`` checked (planner.schema.check_seed, as the server does), with room for the
    ``n - 1`` seeds after it that variants use."""
    try:
        check_seed(seed)
    except PlanError as e:
        raise LimnerError(str(e), "seed") from None
    if seed + n - 1 > MAX_SEED:
        raise LimnerError(f"seed {seed} with n={n} runs past the largest seed {MAX_SEED} "
                          f"(variants use seed, seed+1, ...)", "seed")
    return seed


def _size(size: str | tuple[int, int] | None) -> tuple[int, int] | None:
    try:
        return parse_size(size)
    except SizeError as e:
        raise LimnerError(str(e), "size") from None


class Limner:
    """One object per configuration; the loaded planner and renderer are kept and reused.

    Args:
        planner: ``rules`` (default, no weights), ``llm`` or ``auto``.
        renderer: ``draft`` (default, no weights) or a diffusion preset (``sdxl``, ...).
        model: the LLM planner's preset name or local path.
        device: where a neural renderer runs (``cuda``, ``cpu``); None picks.
        font: a font file that overrides fontconfig's choice for text.
    """

    def __init__(self, planner: str = "rules", renderer: str = "draft",
                 model: str | None = None, device: str | None = None,
                 font: str | None = None, **renderer_kwargs: Any):
        self.planner_name = planner
        self.renderer_name = renderer
        self.model = model
        self.device = device
        self.font = font
        self._renderer_kwargs = renderer_kwargs
        self._planner = None
        self._renderer = None

    # --- parts, built once on first use ------------------------------------------------
    @property
    def planner(self):
        if self._planner is None:
            from planner.base import get_planner

            shared = self._shared_planner()
            self._planner = shared or get_planner(self.planner_name, model=self.model)
        return self._planner

    def _shared_planner(self):
        """One model load: ``--planner llm``/``auto`` with no model of its own plans with the
        instruct LM the loaded neural pipeline already holds (model/shared_lm.py), the same
        module object; None when there is no such LM (then the planner presets apply)."""
        if self.planner_name not in ("llm", "auto") or self.model is not None \
                or self.renderer_name == "draft":
            return None
        from planner.llm import LLMPlanner, configured_model

        if configured_model() is not None:
            return None
        from model.shared_lm import find_language_model, planner_llm, planner_preset

        shared = find_language_model(getattr(self.renderer, "pipe", None))
        if shared is None:
            return None
        return LLMPlanner(f"renderer:{self.renderer_name}:{shared.component}",
                          llm=planner_llm(shared), preset=planner_preset(shared))

    def _shared_reader(self):
        """One model load: the VLM the loaded neural pipeline holds (Qwen-Image's
        Qwen2.5-VL...), answering with that same module object; None for the draft renderer
        or a pipeline without one (model/shared_lm.py). Built once, on the first question."""
        if self.renderer_name == "draft":
            return None
        if "_shared_vlm" not in self.__dict__:
            from model.shared_lm import find_language_model, vision_reader

            pipe = getattr(self.renderer, "pipe", None)
            self.__dict__["_shared_vlm"] = vision_reader(find_language_model(pipe), pipe)
        return self.__dict__["_shared_vlm"]

    @property
    def renderer(self):
        if self._renderer is None:
            from render.base import get_renderer

            kwargs = dict(self._renderer_kwargs)
            if self.device is not None:
                kwargs["device"] = self.device
            self._renderer = get_renderer(self.renderer_name, **kwargs)
        return self._renderer

    # --- planning ----------------------------------------------------------------------
    def plan(self, prompt: str, *, size: str | tuple[int, int] | None = None,
             seed: int | None = None, quality: str = "auto",
             background: str = "auto", references: int = 0) -> Plan:
        """Prompt → Plan (no pixels). ``references``: how many reference images come with
        the prompt; its mentions of them ("the bottle from image 1", "both") become
        elements pointing at them, and every image is used (planner/references.py)."""
        if not isinstance(prompt, str):
            raise LimnerError(f"prompt must be a string; got {type(prompt).__name__}", "prompt")
        if not prompt.strip():
            raise LimnerError("prompt must not be empty", "prompt")
        _choice(quality, QUALITIES, "quality")
        _choice(background, BACKGROUNDS, "background")
        kwargs = dict(size=_size(size), seed=0 if seed is None else _seed(seed),
                      quality=quality, background=background)
        if references:
            from planner.references import plan_with_references

            return plan_with_references(self.planner, prompt, references, **kwargs)
        return self.planner.plan(prompt, **kwargs)

    def plans(self, prompt: str, *, n: int = 1, **kwargs: Any) -> list[Plan]:
        """n Plans for one prompt: seeds ``seed, seed+1, ...``; layout varies with the seed,
        subject ids (and so subjects' looks) stay the same."""
        if not isinstance(n, int) or not 1 <= n <= MAX_N:
            raise LimnerError(f"n must be an integer from 1 to {MAX_N}; got {n!r}", "n")
        seed = kwargs.pop("seed", None)
        base = 0 if seed is None else _seed(seed, n)
        return [self.plan(prompt, seed=base + i, **kwargs) for i in range(n)]

    # --- generation --------------------------------------------------------------------
    def generate(self, prompt: str | None = None, *, plan: Plan | None = None, n: int = 1,
                 size: str | tuple[int, int] | None = None, seed: int | None = None,
                 quality: str = "auto", background: str = "auto",
                 output_format: str = "png", output_compression: int | None = None,
                 references: Sequence[Any] = (),
                 on_image: Callable[[int, GeneratedImage], None] | None = None,
                 moderation: str = "auto", text: str = "auto") -> GenerateResult:
        """Prompt (or a saved Plan) → n encoded images with their Plans and seeds.

        Args:
            prompt: the request; ignored when ``plan`` is given.
            plan: render this Plan as is (``limner generate --plan``); with n > 1 the
                extra images use seeds ``plan.seed + i``.
            output_format: png | jpeg | webp. output_compression: 0-100 for jpeg/webp.
            references: 0-16 reference images (PIL, bytes or paths) the prompt may name
                ("the robot from reference 1", "these products", "图1中的杯子"); each
                becomes an object, the backdrop or a palette source.
            on_image: called as ``on_image(i, image)`` as soon as image i is encoded
                (the CLI saves files and moves its progress bar there).
            moderation: ``auto`` (default) or ``low`` (less strict; see
                planner/moderation.py). A refusal raises ModerationError.
            text: who draws the Plan's texts: ``exact`` (the text engine), ``native`` (the
                model, where its family draws text), ``auto`` (default: native, read back
                by OCR and drawn exactly where the reading differs). Each image's ``texts``
                says which way each text went.
        """
        _choice(text, TEXT_MODES, "text")
        if plan is not None and not isinstance(plan, Plan):
            try:
                plan = Plan.model_validate(plan)
            except ValueError as e:
                first = e.errors()[0] if hasattr(e, "errors") else {"loc": (), "msg": str(e)}
                where = ".".join(str(p) for p in first["loc"]) or "plan"
                raise LimnerError(f"plan is not a valid Plan: {where}: {first['msg']}",
                                  "plan") from None
        self._moderate(prompt if plan is None else plan_text(plan), moderation)
        _choice(output_format, OUTPUT_FORMATS, "output_format")
        _check_output(output_format, output_compression,
                      background == "transparent" or bool(plan and plan.transparent))
        refs = _references(references)
        if plan is not None:
            if not isinstance(n, int) or not 1 <= n <= MAX_N:
                raise LimnerError(f"n must be an integer from 1 to {MAX_N}; got {n!r}", "n")
            _seed(plan.seed, n)
            plans = [plan if i == 0 else plan.model_copy(update={"seed": plan.seed + i})
                     for i in range(n)]
        else:
            plans = self.plans(prompt or "", n=n, size=size, seed=seed, quality=quality,
                               background=background, references=len(refs))
        result = self.render(plans, output_format=output_format,
                             output_compression=output_compression, references=refs,
                             on_image=on_image, text=text)
        return self._noted(result, None, plans[0])

    def render(self, plans: Sequence[Plan], *, output_format: str = "png",
               output_compression: int | None = None,
               references: Sequence["Image.Image"] = (),
               on_image: Callable[[int, GeneratedImage], None] | None = None,
               text: str = "auto") -> GenerateResult:
        """Plans → encoded images (no planning), one Plan at a time so ``on_image`` can
        report each image as soon as it is ready. ``text``: see :meth:`generate`."""
        from render.base import RenderOptions
        from render.encode import encode_image

        plans = list(plans)
        # The planner may have chosen a transparent background ("... on a transparent
        # background"): check the format against the Plans themselves.
        _check_output(output_format, output_compression, any(p.transparent for p in plans))
        refs = tuple(_references(references))
        options = RenderOptions(font=self.font, references=refs,
                                text_mode=_choice(text, TEXT_MODES, "text"))
        made_from = _sources(None, None, references, refs)
        out: list[GeneratedImage] = []
        name = self.renderer.name
        capacity = reference_capacity(self.renderer)
        takes = capacity - len(options.references)
        notes: tuple[str, ...] = _references_unseen(self.renderer, len(refs))
        for i, plan in enumerate(plans):
            check_deadline()
            if i == 1 and capacity:
                notes += _subjects_left_out(name, capacity, len(options.references), plans[0])
            if i == 1 and takes > 0:
                options = _with_subjects(options, out[0].image, plans[0], takes)
            result = self.renderer.render([plan], options)
            image, p, s = result.images[0], result.plans[0], result.seeds[0]
            texts = _stamp_texts(image, p)
            data = encode_image(image, p, seed=s, renderer=result.renderer,
                                digital_source_type=self.renderer.digital_source_type,
                                fmt=output_format, compression=output_compression,
                                ingredients=made_from)
            out.append(GeneratedImage(image=image, plan=p, seed=s, data=data,
                                      format=output_format, texts=texts))
            name = result.renderer
            if on_image is not None:
                on_image(i, out[-1])
        return GenerateResult(images=out, renderer=name, notes=notes)

    # --- editing -----------------------------------------------------------------------
    def edit(self, instruction: str, *, image: Any = None, plan: Plan | None = None,
             mask: Any = None, references: Sequence[Any] = (), n: int = 1,
             size: str | tuple[int, int] | None = None, quality: str = "auto",
             background: str = "auto", output_format: str = "png",
             output_compression: int | None = None, input_fidelity: str = "low",
             seed: int | None = None, moderation: str = "auto",
             text: str = "auto") -> GenerateResult:
        """Edit an image (or a Plan) in plain language; only what changed is redrawn.

        With a Plan (given, or embedded in a limner image) the instruction revises it and
        the changed regions are re-rendered over ``image``'s pixels (pixels outside them are
        kept exactly). Without one, ``mask`` (a PNG whose fully transparent pixels mark the
        editable area, the image's size) says where new elements and text go.

        Args:
            instruction: e.g. "make the car blue and add a red umbrella".
            image: a PIL image, file bytes or a path. plan: the Plan to revise.
            mask: OpenAI-style PNG mask. references: 0-16 reference images.
            n: 1-10 variants (seeds ``seed + i``). size: WxH to change the canvas.
            background: auto | transparent | opaque. input_fidelity: low | high.
            seed: the seed of the first variant (default: the Plan's).
            text: exact | native | auto, as in :meth:`generate`; a region redrawn inside
                an existing picture always gets its text from the text engine.
        Returns:
            GenerateResult; each image's Plan is the revised Plan.
        Raises:
            LimnerError: bad input (param names the field). PlanError: an instruction the
                planner cannot apply. ModerationError: a refused instruction.
        """
        from render.base import RenderError, RenderOptions
        from render.edit import is_overlay
        from render.references import ImageInputError, fidelity, load_references

        if not isinstance(instruction, str) or not instruction.strip():
            raise LimnerError("prompt (the edit instruction) must not be empty", "prompt")
        self._moderate(instruction, moderation)
        _choice(quality, QUALITIES, "quality")
        _choice(background, BACKGROUNDS, "background")
        _choice(output_format, OUTPUT_FORMATS, "output_format")
        _choice(input_fidelity, ("low", "high"), "input_fidelity")
        _choice(text, TEXT_MODES, "text")
        if not isinstance(n, int) or not 1 <= n <= MAX_N:
            raise LimnerError(f"n must be an integer from 1 to {MAX_N}; got {n!r}", "n")
        if seed is not None:
            _seed(seed, n)
        if plan is not None and not isinstance(plan, Plan):
            try:
                plan = Plan.model_validate(plan)
            except ValueError as e:
                raise LimnerError(f"plan is not a valid Plan: {str(e).splitlines()[0]}",
                                  "plan") from None
        try:
            picture, plan0 = _edit_source(image, plan)
            refs = load_references(references)
            wanted = _size(size)
            if (plan0 is None and picture is not None and mask is None and wanted is not None
                    and wanted != picture.size):
                # OpenAI's multi-image edit: the pictures are composed on a new canvas; by
                # the model itself when it edits by instruction and cannot draw from text.
                if not getattr(getattr(self.renderer, "family", None), "draws_from_text",
                               True):
                    if background == "transparent":
                        raise LimnerError(
                            f"background: renderer {self.renderer.name} composes the images "
                            "by editing them and draws no transparency; use auto or opaque",
                            "background")
                    return self._compose_by_instruction(
                        picture, refs, instruction, wanted, n, seed,
                        (output_format, output_compression), _sources(image, picture,
                                                                      references, refs))
                try:
                    return self.generate(instruction, n=n, size=wanted, seed=seed,
                                         quality=quality, background=background,
                                         output_format=output_format,
                                         output_compression=output_compression,
                                         references=[picture, *refs], moderation=moderation,
                                         text=text)
                except RenderError as e:     # too many images: the caller's list is image[]
                    if getattr(e, "param", None) == "references":
                        e.param = "image"
                    raise
            options = RenderOptions(font=self.font, references=tuple(refs), text_mode=text,
                                    extra={"input_fidelity": input_fidelity,
                                           "fidelity": fidelity(input_fidelity),
                                           "instruction": instruction,
                                           "ingredients": _sources(image, picture, references,
                                                                   refs)})
            if plan0 is None or (mask is not None and is_overlay(plan0)):
                # No Plan (or an overlay of a photo): plan inside the mask, composite there.
                return self._edit_plain(picture, instruction, mask, options, n, size, seed,
                                        (output_format, output_compression), base=plan0)
            plan1, read_notes = self._revise_for_edit(plan0, instruction, len(refs), size,
                                                      quality, background, seed)
            if read_notes:   # how the words were read (an unqualified noun meant all)
                from dataclasses import replace

                options = replace(options, extra={**options.extra, "notes": read_notes})
            if is_overlay(plan0) and picture is not None and mask is None:
                from limner.photo import keep_subject_clear

                if not is_overlay(plan1):
                    # A new background behind a photo: its subject stays (limner/photo.py).
                    return self._edit_plain(picture, instruction, None, options, n, size,
                                            seed, (output_format, output_compression),
                                            base=plan0)
                plan1 = keep_subject_clear(picture, plan0, plan1, instruction)
            return self._edit_plan(picture, plan0, plan1, mask, options, n, output_format,
                                   output_compression)
        except ImageInputError as e:
            raise LimnerError(str(e), e.param) from None
        except SizeError as e:
            raise LimnerError(str(e), "size") from None

    def _revise_for_edit(self, plan0: Plan, instruction: str, n_refs: int, size: Any,
                         quality: str, background: str, seed: int | None
                         ) -> tuple[Plan, tuple[str, ...]]:
        """The instruction applied by the planner, then the explicit options on top; and the
        rules reviser's notes on how it read the words."""
        from planner.revise import SetBackground, SetCanvas, apply_ops
        from planner.schema import Background

        plan1, notes = None, ()
        if self.planner_name != "rules":
            reviser = getattr(self.planner, "revise", None)
            try:
                plan1 = reviser(plan0, instruction) if reviser else None
            except NotImplementedError:
                plan1 = None
            if plan1 is not None and n_refs:
                from planner.references import bind, read

                plan1 = bind(plan1, read(instruction, n_refs), add_unmentioned=False)
        if plan1 is None:
            plan1, notes = _revise_naming_references(plan0, instruction, n_refs)
        ops = []
        wanted = _size(size)
        if wanted is not None and wanted != plan1.size:
            ops.append(SetCanvas(width=wanted[0], height=wanted[1]))
        if background == "transparent" and not plan1.transparent:
            ops.append(SetBackground(background=Background(kind="transparent")))
        elif background == "opaque" and plan1.transparent:
            ops.append(SetBackground(background=Background()))
        plan1 = apply_ops(plan1, ops)
        update = {"quality": quality} if quality != "auto" else {}
        if seed is not None:
            update["seed"] = seed
        return (plan1.model_copy(update=update) if update else plan1), notes

    def _edit_plan(self, picture: Any, plan0: Plan, plan1: Plan, mask: Any, options: Any,
                   n: int, output_format: str, output_compression: int | None
                   ) -> GenerateResult:
        from limner.editing import fit_into_mask
        from render.edit import apply_edit, is_overlay, load_mask

        _check_output(output_format, output_compression, plan1.transparent)
        previous = picture   # apply_edit redraws whole when it does not fit plan0
        if mask is not None and previous is None:
            raise LimnerError("mask needs the image it belongs to (image=...)", "mask")
        user_mask = load_mask(mask, previous.size) if mask is not None else None
        if user_mask is not None:
            plan1 = fit_into_mask(plan0, plan1, user_mask)
        if previous is not None:
            from limner.photo import subject_guard

            user_mask = subject_guard(plan0, plan1, previous.size, user_mask)
        out = []
        for i in range(n):
            check_deadline()
            # Variants differ only where the edit draws: compare with the old Plan re-seeded.
            p1 = plan1.model_copy(update={"seed": plan1.seed + i}) if i else plan1
            p0 = plan0.model_copy(update={"seed": p1.seed})
            whole = _native_global_edit(self.renderer, previous, p0, p1, mask, options)
            image = whole if whole is not None else apply_edit(
                self.renderer, previous, p0, p1, options, mask=user_mask).image
            out.append(self._encoded(image, p1, output_format, output_compression,
                                     options.extra.get("ingredients", ())))
        result = GenerateResult(images=out, renderer=self.renderer.name,
                                notes=tuple(options.extra.get("notes", ()))
                                + _references_unseen(self.renderer, len(options.references)))
        return self._noted(result, plan0, plan1, photo=is_overlay(plan0))

    def _compose_by_instruction(self, picture: Any, refs: list, instruction: str,
                                size: tuple[int, int], n: int, seed: int | None,
                                output: tuple[str, int | None], ingredients: Any
                                ) -> GenerateResult:
        """The pictures of a multi-image edit composed at ``size`` by a model that edits by
        instruction (all of them go to it natively: the first, fitted on a white canvas of
        ``size``, then the references). The Plan is the canvas and the instruction."""
        from dataclasses import replace

        from PIL import ImageOps

        from limner.photo import native_editor
        from planner.schema import Canvas
        from render.base import RenderOptions
        from render.edit import work_size

        editor = native_editor(self.renderer)
        if editor is None:
            raise LimnerError(f"renderer {self.renderer.name} cannot compose images", "image")
        canvas = ImageOps.pad(picture.convert("RGB"), size, color=(255, 255, 255))
        options = RenderOptions(font=self.font, references=tuple(refs),
                                extra={"instruction": instruction, "ingredients": ingredients})
        out = []
        for i in range(n):
            check_deadline()
            s = (seed or 0) + i
            image = editor(canvas, instruction, replace(options, extra={**options.extra,
                                                                        "seed": s}))
            w, h = work_size(size)
            plan = Plan(prompt=instruction, seed=s, canvas=Canvas(width=w, height=h))
            out.append(self._encoded(image, plan, *output, ingredients))
        return GenerateResult(images=out, renderer=self.renderer.name)

    def _edit_plain(self, picture: Any, instruction: str, mask: Any, options: Any, n: int,
                    size: Any, seed: int | None, output: tuple[str, int | None],
                    base: Plan | None = None) -> GenerateResult:
        """An edit planned inside ``mask`` of a picture without a Plan (``base``: the
        overlay Plan the picture already carries). ``output``: (format, compression)."""
        from limner.photo import edit_picture

        if picture is None:
            raise LimnerError("edit needs an image (image=...) or a Plan (plan=...)", "image")
        wanted = _size(size)
        if wanted is not None and wanted != picture.size:
            raise LimnerError(f"size: an image without a Plan keeps its size "
                              f"{picture.size[0]}x{picture.size[1]}", "size")
        out = []
        for i in range(n):
            check_deadline()
            s = (seed or 0) + i
            result = edit_picture(self.renderer, picture, instruction, mask=mask,
                                  options=options, seed=s, fallback=self._plan_overlay,
                                  base=base)
            _check_output(*output, result.image.mode == "RGBA")
            plan = result.plan
            out.append(self._encoded(result.image, plan, *output,
                                     options.extra.get("ingredients", ())))
        return self._noted(GenerateResult(images=out, renderer=self.renderer.name), base,
                           out[0].plan, photo=True)

    def _noted(self, result: GenerateResult, before: Plan | None, after: Plan, *,
               photo: bool = False) -> GenerateResult:
        """``result`` with a note for what the renderer did not draw as asked."""
        from dataclasses import replace

        from limner.photo import style_note

        note = style_note(self.renderer, before, after, photo=photo)
        # What the renderer is missing to draw as well as it can (the draft's icon sets).
        assets = tuple(getattr(self.renderer, "asset_notes", lambda: ())())
        notes = result.notes + ((note,) if note else ()) + assets
        return replace(result, notes=notes) if notes != result.notes else result

    def _plan_overlay(self, instruction: str, size: tuple[int, int], seed: int) -> Plan:
        """Plan an instruction that is not an edit verb as a transparent picture."""
        return self.planner.plan(instruction, size=size, seed=seed, background="transparent")

    def _encoded(self, image: Any, plan: Plan, fmt: str, compression: int | None,
                 ingredients: Any = ()) -> GeneratedImage:
        from render.encode import encode_image

        texts = _stamp_texts(image, plan)
        data = encode_image(image, plan, seed=plan.seed, renderer=self.renderer.name,
                            digital_source_type=self.renderer.digital_source_type,
                            fmt=fmt, compression=compression, ingredients=ingredients)
        return GeneratedImage(image=image, plan=plan, seed=plan.seed, data=data, format=fmt,
                              texts=texts)

    # --- moderation, understanding, provenance -----------------------------------------
    def _moderate(self, text: str | None, level: str = "auto", param: str = "prompt") -> None:
        """Refuse ``text`` (a prompt, an edit instruction) that moderation blocks.

        Raises:
            LimnerError: for a level other than auto/low (param ``moderation``).
            ModerationError: naming the category and the matched rule.
        """
        from planner.moderation import LEVELS, check

        _choice(level, LEVELS, "moderation")
        verdict = check(text or "", level)
        if not verdict.allowed:
            raise ModerationError(f"{param} {verdict.reason}", verdict.category, verdict,
                                  param)

    def describe(self, image: Any, question: str | None = None, *,
                 vlm: str | None = None) -> dict:
        """What is in an image: its embedded Plan (limner files), OCR text, colours, layout,
        and with a VLM preset (``vlm`` or ``$LIMNER_VLM``) a caption or an answer.

        Args:
            image: a path, the file's bytes or a PIL image.
            question: asked of the VLM: ``vlm`` (or ``$LIMNER_VLM``) when given, else the
                VLM the renderer's pipeline holds (the same module, no second load), else
                answered from the Plan and OCR where they can.
            vlm: a preset name from configs/vlm.yaml or a local model directory.
        Returns:
            A JSON-ready dict (see render.describe.describe).
        """
        from render.describe import DescribeError, describe

        try:
            return describe(image, question=question, vlm=vlm, cache=self.__dict__,
                            reader=self._shared_reader)
        except DescribeError as e:
            raise LimnerError(str(e), "image") from None

    def verify(self, image: Any) -> dict:
        """C2PA report of an image file: manifest, signer, validation state, and whether
        its pixels changed after signing (see render.provenance.verify).

        Args:
            image: a path or the file's bytes.
        """
        from render.provenance import verify

        return verify(image)


def _references(items: Sequence[Any]) -> list:
    """0-16 reference images (PIL, bytes or paths), validated like every input image."""
    from render.references import ImageInputError, load_references

    try:
        return load_references(items)
    except ImageInputError as e:
        raise LimnerError(str(e), e.param) from None


def _revise_naming_references(plan0: Plan, instruction: str, count: int
                              ) -> tuple[Plan, tuple[str, ...]]:
    """The rules reviser, then every reference the instruction names made part of the
    Plan ("... next to the backpack from reference 1" adds it even where the reviser read
    only the table). An instruction the reviser cannot read is retried with its mentions
    replaced by plain nouns. Returns the Plan and the reviser's notes."""
    from planner.references import bind, for_planning, read
    from planner.revise import revise, revise_noted

    reading = read(instruction, count)
    notes: tuple[str, ...] = ()
    try:
        plan1, notes = revise_noted(plan0, instruction, references=count)
    except PlanError:
        if not reading.mentions:
            raise
        text = for_planning(reading)
        try:
            plan1 = revise(plan0, text, references=count) if text.strip() else plan0
        except PlanError:
            # What is left is only a verb ("把…放在桌子上", "둘 다 추가해"): the named
            # images are the whole edit.
            if not any(m.role == "object" for m in reading.mentions):
                raise
            plan1 = plan0
    return bind(plan1, reading, add_unmentioned=False), notes


def _native_global_edit(renderer: Any, previous: Any, plan0: Plan, plan1: Plan, mask: Any,
                        options: Any) -> Any:
    """A global edit no region holds (a new style) drawn whole-image by a model that edits
    by instruction (limner/photo.py ``native_editor``); None when it is a region edit, a
    mask limits it, or the renderer has no such model (the Plan diff path draws it)."""
    from dataclasses import replace

    from limner.photo import native_editor
    from planner.diff import diff

    editor = native_editor(renderer) if mask is None and previous is not None else None
    instruction = options.extra.get("instruction")
    if editor is None or not instruction:
        return None
    d = diff(plan0, plan1)
    if not d.style_changed or d.canvas_changed:
        return None
    image = editor(previous, instruction, replace(options, extra={**options.extra,
                                                                  "seed": plan1.seed}))
    return image if image.size == previous.size else image.resize(previous.size)


def reference_capacity(renderer: Any) -> int:
    """How many reference images a renderer's model takes natively (its family's
    ``capabilities.references``; 0 for the draft, which shares sprites by ``subject_id``)."""
    caps = getattr(renderer, "capabilities", None)
    if caps is None:
        caps = getattr(getattr(renderer, "family", None), "capabilities", None)
    value = caps.get("references", 0) if isinstance(caps, dict) else \
        getattr(caps, "references", 0)
    return int(value or 0)


def _references_unseen(renderer: Any, given: int) -> tuple[str, ...]:
    """A note when the caller's reference pixels cannot reach the renderer's model: it takes
    no reference images natively and starts from no draft (no img2img), so the references
    count only through what the Plan says of them (their labels and places)."""
    caps = getattr(getattr(renderer, "family", None), "capabilities", None)
    if not given or caps is None or reference_capacity(renderer) or caps.img2img:
        return ()
    return (f"renderer {renderer.name} takes no reference images and starts from no draft: "
            f"the {given} reference image(s) did not reach its model, which drew what the "
            "Plan says of them in words only; for their look use a renderer that takes "
            "references (e.g. flux2, qwen-image-2.1, glm-image) or the draft",)


def _subjects_left_out(renderer: str, capacity: int, given: int, plan: Plan
                       ) -> tuple[str, ...]:
    """A note when the first image's subjects do not all fit, beside the caller's
    references, in what the model takes natively: the others are then trimmed (largest
    first kept), which is said rather than done silently."""
    from render.photo import subject_count

    subjects = subject_count(plan)
    room = max(0, capacity - given)
    if subjects <= room:
        return ()
    return (f"renderer {renderer} takes {capacity} reference images natively and "
            f"{given} were given: {room} of the first image's {subjects} subjects went to the "
            "other images as references (the largest); the rest stay alike only as far as "
            "the prompt describes them",)


def _with_subjects(options: Any, first: Any, plan: Plan, limit: int) -> Any:
    """Options whose ``extra["subject_references"]`` maps each subject of the first image
    (largest first, at most ``limit``) to its crop: a family that takes references gives
    them to its model, so the other images show the same subjects."""
    from dataclasses import replace

    from render.photo import subject_crops

    crops = subject_crops(first, plan, limit)
    return replace(options, extra={**options.extra, "subject_references": crops}) \
        if crops else options


def _sources(image: Any, picture: Any, given: Sequence[Any], refs: Sequence[Any]
             ) -> Callable[[], tuple]:
    """What an output is made from, for its C2PA manifest: the edited image (parentOf)
    and the reference images (componentOf), as the bytes the caller gave (an image given as
    a PIL object is encoded as PNG). Made only when a signing key asks for them."""
    def make() -> tuple:
        from render.provenance import Ingredient, sniff_format
        from render.references import encoded, read_bytes

        def raw(item: Any, opened: Any, param: str, title: str) -> Ingredient:
            if isinstance(item, (bytes, bytearray, str, os.PathLike)):
                data = read_bytes(item, param)
                fmt = sniff_format(data) or "png"
            else:
                data, fmt = encoded(opened)
            if isinstance(item, (str, os.PathLike)):
                title = os.path.basename(os.fspath(item))
            else:
                title = f"{title}.{fmt}"
            return Ingredient(data, fmt, title, "parentOf" if param == "image"
                              else "componentOf")

        out = [raw(image, picture, "image", "edited image")] if picture is not None else []
        out += [raw(item, ref, f"references[{i}]", f"reference {i + 1}")
                for i, (item, ref) in enumerate(zip(given, refs))]
        return tuple(out)

    return make


def _edit_source(image: Any, plan: Plan | None) -> tuple[Any, Plan | None]:
    """The picture to edit (opened and validated) and the Plan it shows: ``plan`` when
    given, else the Plan a limner file carries in its metadata, else None."""
    from render.encode import read_plan
    from render.references import read_bytes, open_image

    if image is None:
        return None, plan
    if hasattr(image, "getpixel"):    # a PIL image
        embedded = (getattr(image, "text", None) or {}).get("limner.plan")
        if plan is None and embedded:
            try:
                plan = Plan.from_json(embedded)
            except ValueError:
                plan = None
        return open_image(image, "image"), plan
    data = read_bytes(image, "image")
    picture = open_image(data, "image")
    return picture, plan if plan is not None else read_plan(data)


def plan_text(plan: Plan) -> str:
    """The words a Plan will draw (its prompt, labels, descriptions and texts), moderated
    like a prompt when a saved or hand-edited Plan is rendered."""
    parts = [plan.prompt, plan.style.text, plan.canvas.background.description]
    for el in plan.elements:
        parts += [el.content] if el.kind == "text" else [el.label, el.description]
    return "\n".join(p for p in parts if p)


__all__ = ["GeneratedImage", "GenerateResult", "Limner", "LimnerError", "ModerationError",
           "PlanError"]
