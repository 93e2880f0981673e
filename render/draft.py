"""The draft renderer: any Plan → a clean design draft, on any CPU, with no neural weights.

Layers, back to front: the background (render/backgrounds.py), one soft shadow layer, the
objects as emoji sprites or labelled shapes (render/sprites.py), then the text layer
(render/text.py). ``draw_base`` stops before the text so the diffusion renderer can use it as
its init image and draw the exact text on top afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from planner.schema import ObjectElement, Plan, box_to_pixels
from render.backgrounds import draw_background
from render.base import RenderOptions, RenderResult, as_plan_list
from render.sprites import is_airborne, object_sprite
from render.text import draw_texts, paste_over

if TYPE_CHECKING:
    from PIL import Image

# IPTC NewsCodes "Digital Source Type". The draft is a composite: pre-existing artwork (emoji
# glyphs and fonts, drawn by people) placed and recoloured by an algorithm, with procedurally
# drawn backdrops and shapes; no trained model makes any pixel. "compositeSynthetic" (a mix of
# elements, at least one synthetic) fits that; "algorithmicMedia" would claim the whole image
# came from a formula, and "trainedAlgorithmicMedia" would claim a generative model drew it.
DIGITAL_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeSynthetic"


@dataclass(frozen=True)
class DraftQuality:
    """What ``--quality`` means for the draft renderer.

    shadows: draw soft drop/contact shadows under objects.
    shadow_scale: the shadow layer is blurred at 1/shadow_scale of the canvas (cheaper).
    supersample: labelled shapes are drawn this many times larger, then reduced (smooth edges).
    sharpen: unsharp mask on sprites scaled up more than 2x from their 136 px bitmaps.
    """

    shadows: bool
    shadow_scale: int
    supersample: int
    sharpen: bool


QUALITY = {
    "low": DraftQuality(shadows=False, shadow_scale=8, supersample=1, sharpen=False),
    "medium": DraftQuality(shadows=True, shadow_scale=8, supersample=2, sharpen=False),
    "high": DraftQuality(shadows=True, shadow_scale=4, supersample=3, sharpen=True),
}
AUTO_HIGH_MAX_PIXELS = 2_400_000  # auto = high up to ~2K², medium above (keeps 4K fast)


def resolve_quality(quality: str, size: tuple[int, int]) -> DraftQuality:
    """``low|medium|high`` as named; ``auto`` → high for canvases up to ~2.4 MP, else medium."""
    if quality == "auto":
        quality = "high" if size[0] * size[1] <= AUTO_HIGH_MAX_PIXELS else "medium"
    return QUALITY.get(quality, QUALITY["medium"])


def _placement(el: ObjectElement, size: tuple[int, int], sprite_size: tuple[int, int]
               ) -> tuple[int, int]:
    """Top-left of a sprite inside its element's box: centred across, resting on the
    box's bottom edge (objects stand on things)."""
    x0, y0, x1, y1 = box_to_pixels(el.box, *size)
    return x0 + (x1 - x0 - sprite_size[0]) // 2, y1 - sprite_size[1]


def _text_areas(plan: Plan) -> tuple[tuple[int, int, int, int], ...]:
    """Pixel boxes of the text elements, grown by half their height on every side."""
    out = []
    for el in plan.texts:
        x0, y0, x1, y1 = box_to_pixels(el.box, *plan.size)
        m = (y1 - y0) // 2
        out.append((x0 - m, y0 - m, x1 + m, y1 + m))
    return tuple(out)


def _sprite_for(el: ObjectElement, size: tuple[int, int], options: RenderOptions,
                q: DraftQuality) -> "Image.Image":
    x0, y0, x1, y1 = box_to_pixels(el.box, *size)
    box = (x1 - x0, y1 - y0)
    if el.reference is not None and 0 <= el.reference < len(options.references):
        from render.references import reference_sprite

        return reference_sprite(options.references[el.reference], box,
                                options.extra.get("input_fidelity", "low"))
    return object_sprite(el.label, el.color, box, el.subject_id or el.label, options.font,
                         q.supersample, q.sharpen)


def _shadow_layer(placed: list[tuple["Image.Image", tuple[int, int], bool]],
                  size: tuple[int, int], q: DraftQuality
                  ) -> tuple["Image.Image", tuple[int, int]]:
    """One blurred mask for every object's drop shadow, plus a contact shadow under
    grounded ones; blurred once at reduced size, over the objects' region only.

    Returns:
        (mask, top-left of the mask on the canvas).
    """
    from PIL import Image, ImageDraw, ImageFilter

    k = q.shadow_scale
    radius = max(1.0, min(size) * 0.012 / k)
    margin = int(radius * 3 + 2) * k
    left = max(0, min(x for _s, (x, _y), _g in placed) - margin)
    top = max(0, min(y for _s, (_x, y), _g in placed) - margin)
    right = min(size[0], max(x + s.width for s, (x, _y), _g in placed) + margin)
    bottom = min(size[1], max(y + s.height for s, (_x, y), _g in placed) + margin)
    region = (max(k, right - left), max(k, bottom - top))
    mask = Image.new("L", (region[0] // k, region[1] // k), 0)
    d = ImageDraw.Draw(mask)
    for sprite, (x, y), grounded in placed:
        x, y = x - left, y - top
        sw, sh = max(1, sprite.width // k), max(1, sprite.height // k)
        alpha = sprite.getchannel("A").resize((sw, sh), Image.BILINEAR)
        alpha = alpha.point(lambda v: v * 70 // 255)
        mask.paste(alpha, (x // k + sw // 40, (y + sprite.height // 30) // k), alpha)
        if not grounded:
            continue
        cx, by = (x + sprite.width / 2) / k, (y + sprite.height) / k
        rx, ry = sprite.width * 0.36 / k, max(1.0, sprite.height * 0.045 / k)
        d.ellipse((cx - rx, by - ry, cx + rx, by + ry), fill=110)
    mask = mask.filter(ImageFilter.GaussianBlur(radius)).resize(region, Image.BILINEAR)
    return mask, (left, top)


class DraftRenderer:
    """Plans → images with sprites, shapes, backdrops and exact text; no weights, no torch.

    Args:
        font: a font file used for all text instead of fontconfig's choice.
    """

    name = "draft"
    digital_source_type = DIGITAL_SOURCE_TYPE

    def __init__(self, font: str | None = None, **_ignored):
        self.font = font

    def draw_base(self, plan: Plan, options: RenderOptions | None = None) -> "Image.Image":
        """Background and objects, no text.

        Args:
            plan: what to draw. options: font override and reference images.
        Returns:
            An RGBA image of the Plan's size (background alpha 0 when transparent).
        """
        img = self._compose(plan, options or RenderOptions())
        return img if img.mode == "RGBA" else img.convert("RGBA")

    def _compose(self, plan: Plan, options: RenderOptions) -> "Image.Image":
        """Background and objects: RGB for an opaque Plan (no alpha to carry through a 4K
        canvas), RGBA with real alpha for a transparent one."""
        size = plan.size
        q = resolve_quality(plan.quality, size)
        bg = plan.canvas.background
        if bg.reference is not None and 0 <= bg.reference < len(options.references):
            from render.references import reference_backdrop

            img = reference_backdrop(options.references[bg.reference], size)
        else:
            img = draw_background(bg, size, seed=plan.seed, keep_clear=_text_areas(plan))
        if not plan.transparent and img.mode != "RGB":
            img = img.convert("RGB")
        # Painter's order: z first, then lower boxes (nearer the viewer) in front.
        order = sorted(plan.objects, key=lambda e: (e.z, e.box[3]))
        placed = []
        for el in order:
            sprite = _sprite_for(el, size, options, q)
            placed.append((sprite, _placement(el, size, sprite.size),
                           not is_airborne(el.label)))
        if q.shadows and placed and not plan.transparent:
            mask, pos = _shadow_layer(placed, size, q)
            img.paste((20, 18, 30), (pos[0], pos[1], pos[0] + mask.width, pos[1] + mask.height),
                      mask)
        for sprite, pos, _grounded in placed:
            paste_over(img, sprite, pos)
        return img

    def render_one(self, plan: Plan, options: RenderOptions | None = None) -> "Image.Image":
        """One Plan → its final image (RGB, or RGBA with real alpha when transparent)."""
        options = options or RenderOptions()
        img = draw_texts(self._compose(plan, options), plan, font=options.font or self.font,
                         in_place=True)
        return img if img.mode == ("RGBA" if plan.transparent else "RGB") \
            else img.convert("RGBA" if plan.transparent else "RGB")

    def render(self, plans: Plan | Sequence[Plan],
               options: RenderOptions | None = None) -> RenderResult:
        """Render each Plan with its own seed.

        Args:
            plans: one Plan or several. options: font override, reference images.
        Returns:
            RenderResult with one image per Plan and ``seeds[i] == plans[i].seed``.
        """
        plan_list = as_plan_list(plans)
        images = [self.render_one(p, options) for p in plan_list]
        return RenderResult(images=images, plans=plan_list, seeds=[p.seed for p in plan_list],
                            renderer=self.name)
