"""Limner: the Python face of limner. Thin: it wires planner/, render/ and model/ together.

The CLI and the server call these methods and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Sequence

from planner.schema import Plan, PlanError, SizeError, parse_size

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

    def save(self, path: str, overwrite: bool = False) -> str:
        from render.encode import write_atomic

        return write_atomic(path, self.data, overwrite=overwrite)


@dataclass(frozen=True)
class GenerateResult:
    images: list[GeneratedImage]
    renderer: str

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

            self._planner = get_planner(self.planner_name, model=self.model)
        return self._planner

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
             background: str = "auto") -> Plan:
        """Prompt → Plan (no pixels)."""
        if not isinstance(prompt, str) or not prompt.strip():
            raise LimnerError("prompt must not be empty", "prompt")
        _choice(quality, QUALITIES, "quality")
        _choice(background, BACKGROUNDS, "background")
        return self.planner.plan(prompt, size=_size(size), seed=0 if seed is None else seed,
                                 quality=quality, background=background)

    def plans(self, prompt: str, *, n: int = 1, **kwargs: Any) -> list[Plan]:
        """n Plans for one prompt: seeds ``seed, seed+1, ...``; layout varies with the seed,
        subject ids (and so subjects' looks) stay the same."""
        if not isinstance(n, int) or not 1 <= n <= MAX_N:
            raise LimnerError(f"n must be an integer from 1 to {MAX_N}; got {n!r}", "n")
        seed = kwargs.pop("seed", None)
        base = 0 if seed is None else seed
        return [self.plan(prompt, seed=base + i, **kwargs) for i in range(n)]

    # --- generation --------------------------------------------------------------------
    def generate(self, prompt: str | None = None, *, plan: Plan | None = None, n: int = 1,
                 size: str | tuple[int, int] | None = None, seed: int | None = None,
                 quality: str = "auto", background: str = "auto",
                 output_format: str = "png", output_compression: int | None = None,
                 references: Sequence["Image.Image"] = (),
                 on_image: Callable[[int, GeneratedImage], None] | None = None,
                 moderation: str = "auto") -> GenerateResult:
        """Prompt (or a saved Plan) → n encoded images with their Plans and seeds.

        Args:
            prompt: the request; ignored when ``plan`` is given.
            plan: render this Plan as is (``limner generate --plan``); with n > 1 the
                extra images use seeds ``plan.seed + i``.
            output_format: png | jpeg | webp. output_compression: 0-100 for jpeg/webp.
            on_image: called as ``on_image(i, image)`` as soon as image i is encoded
                (the CLI saves files and moves its progress bar there).
            moderation: ``auto`` (default) or ``low`` (less strict; see
                planner/moderation.py). A refusal raises ModerationError.
        """
        self._moderate(prompt if plan is None else plan_text(plan), moderation)
        _choice(output_format, OUTPUT_FORMATS, "output_format")
        _check_output(output_format, output_compression,
                      background == "transparent" or bool(plan and plan.transparent))
        if plan is not None:
            if not isinstance(n, int) or not 1 <= n <= MAX_N:
                raise LimnerError(f"n must be an integer from 1 to {MAX_N}; got {n!r}", "n")
            plans = [plan if i == 0 else plan.model_copy(update={"seed": plan.seed + i})
                     for i in range(n)]
        else:
            plans = self.plans(prompt or "", n=n, size=size, seed=seed, quality=quality,
                               background=background)
        return self.render(plans, output_format=output_format,
                           output_compression=output_compression, references=references,
                           on_image=on_image)

    def render(self, plans: Sequence[Plan], *, output_format: str = "png",
               output_compression: int | None = None,
               references: Sequence["Image.Image"] = (),
               on_image: Callable[[int, GeneratedImage], None] | None = None
               ) -> GenerateResult:
        """Plans → encoded images (no planning), one Plan at a time so ``on_image`` can
        report each image as soon as it is ready."""
        from render.base import RenderOptions
        from render.encode import encode_image

        plans = list(plans)
        # The planner may have chosen a transparent background ("... on a transparent
        # background"): check the format against the Plans themselves.
        _check_output(output_format, output_compression, any(p.transparent for p in plans))
        options = RenderOptions(font=self.font, references=tuple(references))
        out: list[GeneratedImage] = []
        name = self.renderer.name
        for i, plan in enumerate(plans):
            result = self.renderer.render([plan], options)
            image, p, s = result.images[0], result.plans[0], result.seeds[0]
            data = encode_image(image, p, seed=s, renderer=result.renderer,
                                digital_source_type=self.renderer.digital_source_type,
                                fmt=output_format, compression=output_compression)
            out.append(GeneratedImage(image=image, plan=p, seed=s, data=data,
                                      format=output_format))
            name = result.renderer
            if on_image is not None:
                on_image(i, out[-1])
        return GenerateResult(images=out, renderer=name)

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
            question: asked of the VLM (answered only when a VLM is configured).
            vlm: a preset name from configs/vlm.yaml or a local model directory.
        Returns:
            A JSON-ready dict (see render.describe.describe).
        """
        from render.describe import describe

        return describe(image, question=question, vlm=vlm, cache=self.__dict__)

    def verify(self, image: Any) -> dict:
        """C2PA report of an image file: manifest, signer, validation state, and whether
        its pixels changed after signing (see render.provenance.verify).

        Args:
            image: a path or the file's bytes.
        """
        from render.provenance import verify

        return verify(image)


def plan_text(plan: Plan) -> str:
    """The words a Plan will draw (its prompt, labels, descriptions and texts), moderated
    like a prompt when a saved or hand-edited Plan is rendered."""
    parts = [plan.prompt, plan.style.text, plan.canvas.background.description]
    for el in plan.elements:
        parts += [el.content] if el.kind == "text" else [el.label, el.description]
    return "\n".join(p for p in parts if p)


__all__ = ["GeneratedImage", "GenerateResult", "Limner", "LimnerError", "ModerationError",
           "PlanError"]
