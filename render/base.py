"""What every renderer returns, and the registry that finds a renderer by name.

A renderer turns Plans into PIL images. It never sees a raw prompt (STYLE.md). Encoding to
bytes (format, metadata, provenance) is render/encode.py's job, shared by all renderers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, Sequence

from planner.schema import Plan

if TYPE_CHECKING:  # PIL stays a lazy import for callers that only plan
    from PIL import Image


from model.errors import ModelError


class RenderError(ModelError):
    """A Plan that cannot be rendered here: the message says what is missing and how to fix it."""


@dataclass(frozen=True)
class RenderOptions:
    """Knobs shared by renderers; rare ones live here, not in signatures."""

    font: str | None = None              # a font file that overrides fontconfig's choice
    references: tuple[Any, ...] = ()     # PIL images, indexed by ObjectElement.reference
    device: str | None = None
    extra: dict = field(default_factory=dict)
    # Who draws the Plan's text (render/text_modes.py): exact (the text engine), native (the
    # model, for families with native text), auto (native, checked by OCR, fixed where wrong)
    text_mode: str = "auto"


@dataclass(frozen=True)
class RenderResult:
    """``images[i]`` is the render of ``plans[i]`` with ``seeds[i]``."""

    images: list["Image.Image"]
    plans: list[Plan]
    seeds: list[int]
    renderer: str
    # Per image: {"objects": [{"id", "label", "source": icon|emoji|shape|reference,
    # "icon_set", "name", "glyph", "matched", "contrast"?}], "style": {"drawn", "not_drawn"}}
    # (the draft renderer fills it; other renderers may leave it empty).
    drawn: list[dict] = field(default_factory=list)

    @property
    def image(self) -> "Image.Image":
        return self.images[0]

    @property
    def plan(self) -> Plan:
        return self.plans[0]


class Renderer(Protocol):
    name: str
    #: IPTC digital source type of what this renderer makes (for metadata/provenance).
    digital_source_type: str

    def render(self, plans: Plan | Sequence[Plan],
               options: RenderOptions | None = None) -> RenderResult: ...


def as_plan_list(plans: Plan | Sequence[Plan]) -> list[Plan]:
    return [plans] if isinstance(plans, Plan) else list(plans)


RENDERERS = ("draft", "sdxl", "sdxl-lightning", "sdxl-turbo", "sd35", "flux-schnell", "flux-dev",
             "pixart")


def get_renderer(name: str = "draft", **kwargs: Any) -> Renderer:
    """Build a renderer by name: ``draft`` or a diffusion preset from configs/.

    Raises:
        RenderError: for an unknown name (listing the known ones).
    """
    if name == "draft":
        from render.draft import DraftRenderer

        return DraftRenderer(**kwargs)
    try:
        from render.diffusion import DiffusionRenderer, known_presets
    except ImportError as e:  # pragma: no cover - only before the diffusion renderer lands
        raise RenderError(f"renderer {name!r} is not available: {e}") from None
    import os

    if (name not in known_presets() and "/" not in name and not os.path.exists(name)
            and not name.endswith((".yaml", ".yml", ".safetensors"))):
        raise RenderError(
            f"unknown renderer {name!r}; choose one of: draft, {', '.join(known_presets())}, "
            "a pipeline directory or a .safetensors checkpoint")
    return DiffusionRenderer.from_preset(name, **kwargs)
