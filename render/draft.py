"""The draft renderer: any Plan → a clean design draft, on any CPU, with no neural weights.

Layers, back to front: the background (render/backgrounds.py), one soft shadow layer, the
objects as emoji sprites or labelled shapes (render/sprites.py), then the text layer
(render/text.py). ``draw_base`` stops before the text so the diffusion renderer can use it as
its init image and draw the exact text on top afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Sequence

from planner.schema import ObjectElement, Plan, box_to_pixels
from render.backgrounds import draw_background
from render.base import RenderOptions, RenderResult, as_plan_list
from render.sprites import is_airborne, object_pick, object_sprite
from render.styles import DEFAULT_BACKDROP, Look, finish_canvas, look_for, style_sprite
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
                q: DraftQuality, look: Look) -> tuple["Image.Image", dict]:
    """One object's picture and the record of what it became."""
    x0, y0, x1, y1 = box_to_pixels(el.box, *size)
    box = (x1 - x0, y1 - y0)
    if el.reference is not None and 0 <= el.reference < len(options.references):
        from render.references import reference_sprite

        return (reference_sprite(options.references[el.reference], box,
                                 options.extra.get("input_fidelity", "low")),
                {"source": "reference", "reference": el.reference})
    pick = object_pick(el.label, look.prefer, look.line)
    record = pick.record()
    if pick.source == "icon":
        from render.icons import SETS

        record["licence"] = SETS[pick.icon_set].licence
    traced = look.line and pick.source != "shape" and pick.icon_set not in ("mdi", "tabler")
    if traced:
        record["look"] = "traced outline"
    sprite = _styled_sprite(el.label, el.color, box, el.subject_id or el.label, options.font,
                            q.supersample, q.sharpen, look, traced)
    return sprite, record


@lru_cache(maxsize=128)
def _styled_sprite(label: str, color: str | None, box: tuple[int, int], key: str,
                   font: str | None, supersample: int, sharpen: bool, look: Look,
                   traced: bool) -> "Image.Image":
    """An object's picture with its Look's per-object treatment (cached: a set of three
    apples is styled once)."""
    sprite = object_sprite(label, color, box, key, font, supersample, sharpen, look.prefer,
                           look.line, look.ink)
    if traced:
        from render.styles import outline_sprite

        sprite = outline_sprite(sprite, _rgb(color) or look.ink or (40, 40, 48))
    if look.sprite:
        sprite = style_sprite(sprite, look.sprite, _rgb(color))
    return sprite


def _rgb(color: str | None):
    from render.color import parse_color

    return parse_color(color)


def _with_contrast(img: "Image.Image", sprite: "Image.Image", pos: tuple[int, int]
                   ) -> tuple["Image.Image", str]:
    """A sprite that would melt into the backdrop under it (a white dog on cream, a black cat
    on a night sky) gets an outline in a darker (or, on a dark backdrop, lighter) shade of
    that backdrop. Judged by WCAG contrast between the sprite's
    mean ink and the backdrop's mean colour in its box."""
    import numpy as np
    from PIL import Image

    from render.color import contrast_ratio, relative_luminance, shade
    from render.styles import grow_mask

    x, y = pos
    region = img.crop((x, y, x + sprite.width, y + sprite.height)).convert("RGB")
    step = max(1, sprite.width // 64)
    under = np.asarray(region, dtype=np.float32)[::step, ::step].reshape(-1, 3).mean(axis=0)
    arr = np.asarray(sprite, dtype=np.float32)[::step, ::step]
    ink = arr[arr[..., 3] > 128][:, :3]
    if ink.size == 0:
        return sprite, ""
    back = tuple(int(c) for c in under)
    # The share of the ink that stands apart from the backdrop, not just its mean.
    apart = float((np.abs(ink - under).max(axis=1) > 60).mean())
    if contrast_ratio(tuple(int(c) for c in ink.mean(axis=0)), back) >= 1.6 or apart > 0.5:
        return sprite, ""
    width = max(2, min(sprite.size) // 60)
    pad = width + 1
    alpha = Image.new("L", (sprite.width + 2 * pad, sprite.height + 2 * pad), 0)
    alpha.paste(sprite.getchannel("A"), (pad, pad))
    ring = grow_mask(alpha, width)
    # Darker than a light backdrop, lighter than a dark one (a black cat at night).
    edge_rgb = shade(back, 0.55) if relative_luminance(back) < 0.2 else shade(back, -0.5)
    out = Image.new("RGBA", ring.size, edge_rgb + (0,))
    out.putalpha(ring)
    out.alpha_composite(sprite, (pad, pad))
    return out, "outline"


def _rest_on_objects(placed: list, boxes: list) -> None:
    """An object whose box sits on another object's box top ("a bag on a table" with the
    table drawn) is moved onto the drawn top of the thing under it: icons keep their
    aspect, so a table's picture may start below its box's top edge and be narrower than
    its box. The object slides sideways over the support's top (never into a neighbour),
    then down until it touches."""
    for i, (sprite, (x, y), g, rec) in enumerate(placed):
        bx0, by0, bx1, by1 = boxes[i]
        support = next((j for j in range(len(placed)) if j != i
                        and abs(boxes[j][1] - by1) <= 0.08 * (by1 - by0)
                        and boxes[j][2] > bx0 and boxes[j][0] < bx1), None)
        if support is None or not g:
            continue
        s2, (x2, y2) = placed[support][0], placed[support][1]
        a2 = s2.getchannel("A").point(lambda v: 255 if v > 128 else 0)
        ink = a2.getbbox()
        if ink is None:
            continue
        # The span of the support's top: its ink in the top tenth of its height.
        band = a2.crop((0, ink[1], s2.width, ink[1] + max(1, (ink[3] - ink[1]) // 10)))
        span = band.getbbox() or ink
        sx0, sx1 = x2 + span[0], x2 + span[2]
        w = sprite.width
        lo, hi = sx0 + w * 0.25, sx1 - w * 0.25
        cx = x + w / 2
        want = min(max(cx, lo), hi) if lo <= hi else (sx0 + sx1) / 2
        x = _slide(x, int(round(want - cx)), sprite, y, placed, i, support)
        cx0, cx1 = x + w // 4 - x2, x + 3 * w // 4 - x2
        under = a2.crop((max(0, cx0), 0, min(s2.width, cx1), s2.height)).getbbox() \
            if cx1 > 0 and cx0 < s2.width else None
        top = y2 + under[1] if under else None
        if top is not None and top > y + sprite.height:
            y = top - sprite.height + max(1, sprite.height // 50)
        placed[i] = (sprite, (x, y), g, rec)


def _slide(x: int, dx: int, sprite: "Image.Image", y: int, placed: list, i: int,
           support: int) -> int:
    """``x + dx``, shortened so the sprite does not run into another object's picture."""
    if dx == 0:
        return x
    step = 1 if dx > 0 else -1
    w, h = sprite.size
    for k, (s, (ox, oy), _g, _r) in enumerate(placed):
        if k in (i, support) or oy >= y + h or oy + s.height <= y:
            continue
        if step > 0 and ox >= x + w:
            dx = min(dx, ox - (x + w))
        elif step < 0 and ox + s.width <= x:
            dx = max(dx, ox + s.width - x)
    return x + dx


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
    left = max(0, min(p[1][0] for p in placed) - margin)
    top = max(0, min(p[1][1] for p in placed) - margin)
    right = min(size[0], max(p[1][0] + p[0].width for p in placed) + margin)
    bottom = min(size[1], max(p[1][1] + p[0].height for p in placed) + margin)
    region = (max(k, right - left), max(k, bottom - top))
    mask = Image.new("L", (region[0] // k, region[1] // k), 0)
    d = ImageDraw.Draw(mask)
    for sprite, (x, y), grounded, *_rest in placed:
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


def _draw_objects(img: "Image.Image", plan: Plan, options: RenderOptions, q: DraftQuality,
                  look: Look) -> list:
    """Place, adjust (resting, contrast), shadow and paste every object onto ``img``.

    Returns:
        [(sprite, (x, y), grounded, record)] in painter's order; each record holds what the
        object became and its drawn pixel box.
    """
    size = plan.size
    # Painter's order: z first, then lower boxes (nearer the viewer) in front.
    order = sorted(plan.objects, key=lambda e: (e.z, e.box[3]))
    placed, boxes = [], []
    for el in order:
        sprite, record = _sprite_for(el, size, options, q, look)
        placed.append((sprite, _placement(el, size, sprite.size), not is_airborne(el.label),
                       {"id": el.id, "label": el.label, **record}))
        boxes.append(box_to_pixels(el.box, *size))
    _rest_on_objects(placed, boxes)
    if not plan.transparent:
        for i, (sprite, pos, g, rec) in enumerate(placed):
            sprite2, how = _with_contrast(img, sprite, pos)
            if how:
                grow = (sprite2.width - sprite.width) // 2
                placed[i] = (sprite2, (pos[0] - grow, pos[1] - grow), g,
                             {**rec, "contrast": how})
    if q.shadows and look.shadows and placed and not plan.transparent:
        mask, pos = _shadow_layer(placed, size, q)
        if look.shadow_gain != 1.0:
            mask = mask.point(lambda v: min(255, int(v * look.shadow_gain)))
        img.paste((20, 18, 30), (pos[0], pos[1], pos[0] + mask.width, pos[1] + mask.height),
                  mask)
    for sprite, pos, _grounded, rec in placed:
        paste_over(img, sprite, pos)
        rec["box"] = [pos[0], pos[1], pos[0] + sprite.width, pos[1] + sprite.height]
    return placed


def _credits(records) -> dict:
    """``{"credits": [...]}``: one line per icon set drawn from (artist, licence, source),
    which CC BY art (Twemoji) requires with the image; {} when no set was used."""
    from render.icons import credit

    sets = sorted({r["icon_set"] for r in records if r.get("source") == "icon"})
    return {"credits": [credit(s) for s in sets]} if sets else {}


class DraftRenderer:
    """Plans → images with sprites, shapes, backdrops and exact text; no weights, no torch.

    Args:
        font: a font file used for all text instead of fontconfig's choice.
    """

    name = "draft"
    digital_source_type = DIGITAL_SOURCE_TYPE

    @staticmethod
    def styles_not_drawn(style_text: str) -> tuple[str, ...]:
        """The named styles of ``style_text`` kept in the Plan but not drawn here (a style
        reference's palette is drawn: render/photo.py)."""
        return look_for(style_text).not_drawn

    def __init__(self, font: str | None = None, **_ignored):
        self.font = font

    @staticmethod
    def asset_notes() -> tuple[str, ...]:
        """What is missing for the best drawing: the vector icon sets (objects then come
        from the colour-emoji font), said as a note rather than silently."""
        from render.icons import INSTALL_HINT, available

        return () if available() else (INSTALL_HINT,)

    def draw_base(self, plan: Plan, options: RenderOptions | None = None) -> "Image.Image":
        """Background and objects, no text.

        Args:
            plan: what to draw. options: font override and reference images.
        Returns:
            An RGBA image of the Plan's size (background alpha 0 when transparent).
        """
        img = self._compose(plan, options or RenderOptions())
        return img if img.mode == "RGBA" else img.convert("RGBA")

    def _compose(self, plan: Plan, options: RenderOptions,
                 drawn: list | None = None) -> "Image.Image":
        """Background and objects: RGB for an opaque Plan (no alpha to carry through a 4K
        canvas), RGBA with real alpha for a transparent one. ``drawn`` collects, per object,
        what it became (icon set and name, emoji, shape) and the style report."""
        size = plan.size
        q = resolve_quality(plan.quality, size)
        look = look_for(plan.style.text)
        bg = plan.canvas.background
        if look.backdrop and bg.kind == "color" and (bg.color or DEFAULT_BACKDROP).lower() \
                == DEFAULT_BACKDROP:
            bg = bg.model_copy(update={"color": look.backdrop})
        if bg.reference is not None and 0 <= bg.reference < len(options.references):
            from render.references import reference_backdrop

            img = reference_backdrop(options.references[bg.reference], size)
        else:
            img = draw_background(bg, size, seed=plan.seed, keep_clear=_text_areas(plan))
        if not plan.transparent and img.mode != "RGB":
            img = img.convert("RGB")
        if plan.shapes:      # chart bars, UI controls, frames: under the objects and text
            from render.shapes import draw_shapes

            draw_shapes(img, plan, font=options.font or self.font)
        placed = _draw_objects(img, plan, options, q, look)
        ref = plan.style.reference
        if ref is not None and 0 <= ref < len(options.references):
            from render.photo import apply_palette, apply_texture

            img = apply_texture(apply_palette(img, options.references[ref]),
                                options.references[ref])
        img = finish_canvas(img, look.canvas, plan.seed)
        if drawn is not None:
            by_id = {rec["id"]: rec for *_x, rec in placed}
            drawn.append({"objects": [by_id[el.id] for el in plan.objects],
                          "style": look.record(), **_credits(by_id.values())})
        return img

    def render_one(self, plan: Plan, options: RenderOptions | None = None,
                   drawn: list | None = None) -> "Image.Image":
        """One Plan → its final image (RGB, or RGBA with real alpha when transparent).

        The image's ``info["limner.drawn"]`` holds what each object became, as JSON."""
        import json

        options = options or RenderOptions()
        report: list = []
        img = draw_texts(self._compose(plan, options, report), plan,
                         font=options.font or self.font, in_place=True)
        img = img if img.mode == ("RGBA" if plan.transparent else "RGB") \
            else img.convert("RGBA" if plan.transparent else "RGB")
        img.info["limner.drawn"] = json.dumps(report[0], ensure_ascii=False)
        if drawn is not None:
            drawn.append(report[0])
        return img

    def render(self, plans: Plan | Sequence[Plan],
               options: RenderOptions | None = None) -> RenderResult:
        """Render each Plan with its own seed.

        Args:
            plans: one Plan or several. options: font override, reference images.
        Returns:
            RenderResult with one image per Plan, ``seeds[i] == plans[i].seed`` and
            ``drawn[i]``: what each object of image i became and which styles were drawn.
        """
        plan_list = as_plan_list(plans)
        drawn: list = []
        images = [self.render_one(p, options, drawn) for p in plan_list]
        return RenderResult(images=images, plans=plan_list, seeds=[p.seed for p in plan_list],
                            renderer=self.name, drawn=drawn)
