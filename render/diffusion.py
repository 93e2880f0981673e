"""The diffusion renderer: a Plan → an image with open-weights diffusers pipelines.

Families: SDXL (and its Lightning/Turbo variants), SD3/SD3.5, FLUX.1 (schnell, dev) and
PixArt-Sigma, loaded by model/diffusion.py from configs/renderers.yaml presets or a local
pipeline directory. Layout follows the Plan without training:

1. The draft render of the Plan (background and objects, no text) is the init image, noised to
   ``strength`` and denoised: SDEdit (Meng et al. 2021, arXiv:2108.01073). Strength per quality
   tier trades faithfulness to the draft's composition for realism.
2. Regional prompting (render/regional.py): each element's prompt acts only inside its box
   through attention masks (LMD, Lian et al. 2023; RPG, Yang et al. 2024); a global prompt
   acts everywhere and a background prompt outside the objects.
3. Canvases above the model's native size are generated at native size, then upscaled with
   tiled img2img and overlap blending (render/tiling.py, MultiDiffusion's fusion rule).
4. Transparent Plans are drawn on a planned key colour and keyed (render/keying.py).
5. Text is never drawn by the model: the text engine draws it exactly afterwards and
   render/harmonise.py matches it to the picture's light.

n Plans are batched within a memory budget; each image has its own ``torch.Generator`` seeded
with its Plan's seed, so a batch of n gives the pixels of n single renders.
"""

from __future__ import annotations

import dataclasses
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Sequence

from model.diffusion import (LoadOptions, RendererPreset, Tier, denoiser, known_presets,
                             load_pipeline, related_pipeline, resolve_preset)
from model.errors import ModelError
from planner.schema import Plan, TextElement
from render.base import RenderError, RenderOptions, RenderResult, as_plan_list
from render.regional import RegionLayout, Segment, regional_attention

if TYPE_CHECKING:
    import numpy as np
    import torch
    from PIL import Image

__all__ = ["DiffusionOptions", "DiffusionRenderer", "known_presets", "prompt_segments"]

DIGITAL_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"

# Rough activation memory per image per megapixel (GiB, half precision, CFG included): an
# estimate from the models' widths, not a measurement here (no GPU); it only sizes batches.
_GIB_PER_MEGAPIXEL = {"sdxl": 1.5, "sd3": 2.5, "flux": 3.0, "pixart": 1.5}


@dataclass(frozen=True)
class DiffusionOptions:
    """Rare knobs of the diffusion renderer (``DiffusionRenderer.from_preset(**knobs)``).

    Args:
        regional: bind element prompts to their boxes with attention masks.
        draft_init: start from the draft render (SDEdit); off → plain text-to-image.
        harmonise_inpaint: repaint a thin ring around the text layer at low strength.
        native: override the preset's native size ``(w, h)`` (larger canvases are tiled).
        memory_gb: batch memory budget; None → 80% of free CUDA memory, 8 GiB on CPU.
        upscale_strength: SDEdit strength of each tile in the tiled upscale.
        tile_overlap: overlap between tiles as a share of the tile side.
        negative_prompt: used where the model does classifier-free guidance.
        steps: override the tier's number of steps (tests, quick previews).
    """

    regional: bool = True
    draft_init: bool = True
    harmonise_inpaint: bool = False
    native: tuple[int, int] | None = None
    memory_gb: float | None = None
    upscale_strength: float = 0.3
    tile_overlap: float = 0.25
    negative_prompt: str = "text, letters, watermark, blurry, deformed"
    steps: int | None = None


# --- prompts from the Plan ---------------------------------------------------------------

@lru_cache(maxsize=256)
def _colour_words(value: str | None) -> str:
    """A colour as words a text encoder knows: CSS names stay, hex becomes the nearest name."""
    if not value:
        return ""
    from render.color import parse_color

    rgb = parse_color(value)
    if rgb is None or not value.strip().startswith(("#", "rgb")):
        return value.strip()
    import webcolors

    names = webcolors.names("css3")
    return min(names, key=lambda n: sum((a - b) ** 2 for a, b in
                                        zip(webcolors.name_to_rgb(n), rgb)))


def element_prompt(el) -> str:
    """One object's prompt: colour, label, description."""
    head = " ".join(w for w in (_colour_words(el.color), el.label) if w)
    return f"{head}, {el.description}" if el.description else head


def background_prompt(plan: Plan, key_name: str | None = None) -> str:
    """Words for the Plan's background (the key colour's name for a transparent Plan)."""
    bg = plan.canvas.background
    if key_name or bg.kind == "transparent":
        return f"isolated on a plain flat {key_name or 'white'} background"
    if bg.kind == "gradient":
        text = "smooth gradient background from " + " to ".join(
            _colour_words(c) for c in bg.colors)
    elif bg.kind == "scene":
        text = " ".join(w for w in (_colour_words(bg.color), bg.scene or "", "scene") if w)
    else:
        text = f"plain {_colour_words(bg.color) or 'neutral'} background"
    return f"{text}, {bg.description}" if bg.description else text


def prompt_segments(plan: Plan, key_name: str | None = None
                    ) -> list[tuple[str, tuple, bool]]:
    """The Plan as prompt segments ``(text, boxes, invert)``, global one first.

    Global: style, every object, background (everywhere). Background: outside the object
    boxes. One segment per distinct element prompt (identical prompts share a segment, their
    boxes united). Text boxes get an "empty space" prompt so the model leaves room for the
    text drawn later.
    """
    groups: dict[str, list] = {}
    for el in sorted(plan.objects, key=lambda e: e.z):
        groups.setdefault(element_prompt(el), []).append(el.box)
    back = background_prompt(plan, key_name)
    style = plan.style.text or (plan.style.preset or "")
    subjects = "; ".join(f"{len(b)} x {p}" if len(b) > 1 else p for p, b in groups.items())
    global_text = ", ".join(t for t in (style, subjects, back) if t)
    boxes = tuple(b for bs in groups.values() for b in bs)
    segs = [(global_text, (), True), (back, boxes, True)]
    segs += [(p, tuple(b), False) for p, b in groups.items()]
    text_boxes = tuple(t.box for t in plan.texts if isinstance(t, TextElement))
    if text_boxes:
        segs.append(("empty smooth surface, clean space", text_boxes, False))
    return segs


# --- encoding -----------------------------------------------------------------------------

@dataclass
class Embeds:
    """Text conditioning of N prompts (negatives None without CFG)."""

    tokens: Any
    mask: Any = None
    pooled: Any = None
    neg_tokens: Any = None
    neg_mask: Any = None
    neg_pooled: Any = None


def _encode(pipe, family: str, texts: list[str], max_len: int | None, device,
            t5_only: bool = False) -> Embeds:
    """Encode ``texts`` as positive prompts (negatives are encoded the same way by the
    caller, once). ``t5_only``: FLUX element segments, which only add T5 tokens (CLIP gives
    FLUX's pooled vector, taken from the global prompt)."""
    if family == "sdxl":
        pe, _, pp, _ = pipe.encode_prompt(prompt=texts, device=device,
                                          do_classifier_free_guidance=False)
        return Embeds(pe, None, pp)
    if family == "sd3":
        pe, _, pp, _ = pipe.encode_prompt(prompt=texts, prompt_2=None, prompt_3=None,
                                          device=device, do_classifier_free_guidance=False,
                                          max_sequence_length=max_len or 256)
        return Embeds(pe, None, pp)
    if family == "flux" and t5_only:
        return Embeds(pipe._get_t5_prompt_embeds(prompt=texts, max_sequence_length=max_len,
                                                 device=device))
    if family == "flux":
        pe, pp, _ = pipe.encode_prompt(prompt=texts, prompt_2=None, device=device,
                                       max_sequence_length=max_len or 512)
        return Embeds(pe, None, pp)
    pe, pm, _, _ = pipe.encode_prompt(texts, do_classifier_free_guidance=False, device=device,
                                      clean_caption=False, max_sequence_length=max_len or 300)
    return Embeds(pe, pm)


def _rows(e: Embeds, index) -> Embeds:
    """The rows ``index`` of every tensor of ``e``."""
    def pick(x):
        return None if x is None else x.index_select(0, index.to(x.device))

    return Embeds(pick(e.tokens), pick(e.mask), pick(e.pooled))


def _encode_texts(pipe, family: str, texts: list[str], negative: str | None, max_len,
                  device, t5_only: bool = False) -> tuple[Embeds, Embeds | None]:
    """Encode each distinct text (and the negative prompt) once; rows follow ``texts``.

    Returns:
        ``(positives, negatives)``: negatives repeat the negative prompt per row, None
        without classifier-free guidance.
    """
    import torch

    uniq = list(dict.fromkeys(texts + ([negative] if negative is not None else [])))
    e = _encode(pipe, family, uniq, max_len, device, t5_only)
    pos = _rows(e, torch.tensor([uniq.index(t) for t in texts]))
    if negative is None:
        return pos, None
    neg = _rows(e, torch.full((len(texts),), uniq.index(negative)))
    if family == "sdxl" and not negative and pipe.config.force_zeros_for_empty_prompt:
        neg = Embeds(torch.zeros_like(neg.tokens), None, torch.zeros_like(neg.pooled))
    return pos, neg


def _join(first, rest, items: int):
    """Per item, its first segment's tensor then its other segments', along tokens."""
    import torch

    if first is None or rest is None:
        return first
    per_item = rest.reshape(items, -1, *rest.shape[2:])
    return torch.cat([first, per_item], dim=1)


def encode_segments(pipe, family: str, texts: list[list[str]], preset: RendererPreset,
                    negative: str, cfg: bool, device) -> tuple[Embeds, list[int]]:
    """Encode every item's segment prompts and concatenate them along the token axis.

    The global prompt gets the preset's full ``max_sequence_length``; element prompts get
    just enough T5 tokens (at most ``region_tokens``; CLIP is always 77). Each distinct text
    is encoded once, so n images of one prompt cost one encoding.

    Returns:
        ``(embeds with tensors (B, sum(lengths), D), token length of each segment)``.
    """
    import torch

    neg = negative if cfg else None
    with torch.no_grad():
        g, gn = _encode_texts(pipe, family, [t[0] for t in texts], neg,
                              preset.max_sequence_length, device)
        rest = [s for t in texts for s in t[1:]]
        if not rest:
            return _with_negative(g, gn, gn), [g.tokens.shape[1]]
        # Element segments are sized to the element prompts; the negative prompt is cut to
        # that length there (it is whole in the global segment).
        with _quiet_truncation():
            r, rn = _encode_texts(pipe, family, rest, neg,
                                  _region_length(pipe, family, rest, preset), device,
                                  t5_only=family == "flux")
        r, rn = _trim_clip(pipe, family, r, rest), _trim_clip(pipe, family, rn, rest)
    n = len(texts)
    pos = Embeds(_join(g.tokens, r.tokens, n), _join(g.mask, r.mask, n), g.pooled)
    joined = pos if gn is None else Embeds(_join(gn.tokens, rn.tokens, n),
                                           _join(gn.mask, rn.mask, n), gn.pooled)
    lengths = [g.tokens.shape[1]] + [r.tokens.shape[1]] * (len(texts[0]) - 1)
    return _with_negative(pos, gn, joined), lengths


@contextmanager
def _quiet_truncation():
    """Silence diffusers' "input was truncated" warning while encoding element segments,
    where cutting the negative prompt short is intended."""
    import logging

    root = logging.getLogger("diffusers")
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


def _with_negative(pos: Embeds, neg: Embeds | None, neg_joined: Embeds) -> Embeds:
    if neg is None:
        return pos
    return Embeds(pos.tokens, pos.mask, pos.pooled, neg_joined.tokens, neg_joined.mask,
                  neg_joined.pooled)


_T5_TOKENIZER = {"sd3": "tokenizer_3", "flux": "tokenizer_2", "pixart": "tokenizer"}
_CLIP_TOKENS = 77


def _needed(tokenizer, texts: list[str], cap: int) -> int:
    """Tokens the longest text needs (with its special tokens), rounded up to 8, ≤ cap."""
    longest = max(len(ids) for ids in tokenizer(texts).input_ids)
    return min(cap, max(8, -(-longest // 8) * 8))


def _region_length(pipe, family: str, texts: list[str], preset: RendererPreset) -> int:
    """T5 tokens per element segment: what the longest element prompt (or the negative)
    needs, at most ``preset.region_tokens``. Element prompts are a few words; padding them
    to a fixed budget would only lengthen every attention call."""
    name = _T5_TOKENIZER.get(family)
    tok = getattr(pipe, name, None) if name else None
    return _needed(tok, texts, preset.region_tokens) if tok is not None else preset.region_tokens


def _trim_clip(pipe, family: str, e: Embeds | None, texts: list[str]) -> Embeds | None:
    """Keep only the CLIP positions element prompts use (SDXL; SD3's CLIP half).

    CLIP's text encoder is causal, so the states up to a prompt's end token do not depend on
    the padding after it: dropping the trailing padding keeps every word and the summary at
    the end token, and shortens each element segment from 77 tokens to a few.
    """
    if e is None or family not in ("sdxl", "sd3"):
        return e
    import torch

    keep = _needed(pipe.tokenizer, texts, _CLIP_TOKENS)
    t = e.tokens
    tokens = t[:, :keep] if family == "sdxl" else torch.cat(
        [t[:, :keep], t[:, _CLIP_TOKENS:]], dim=1)
    return Embeds(tokens, e.mask, e.pooled)


def call_kwargs(family: str, e: Embeds) -> dict:
    """Pipeline keyword arguments carrying precomputed embeddings."""
    if family == "pixart":
        kw = dict(prompt_embeds=e.tokens, prompt_attention_mask=e.mask, negative_prompt=None)
        if e.neg_tokens is not None:
            kw.update(negative_prompt_embeds=e.neg_tokens,
                      negative_prompt_attention_mask=e.neg_mask)
        return kw
    kw = dict(prompt_embeds=e.tokens, pooled_prompt_embeds=e.pooled)
    if e.neg_tokens is not None:
        kw.update(negative_prompt_embeds=e.neg_tokens, negative_pooled_prompt_embeds=e.neg_pooled)
    return kw


def layout_for(segments: list[list[tuple]], lengths: list[int],
               latent_size: tuple[int, int]) -> RegionLayout:
    """A RegionLayout from each item's segments and the token lengths of the segments."""
    starts = [sum(lengths[:i]) for i in range(len(lengths))]
    items = [[Segment(s, s + n, boxes, invert)
              for (_, boxes, invert), s, n in zip(segs, starts, lengths)] for segs in segments]
    return RegionLayout(items=items, text_len=sum(lengths), latent_size=latent_size)


# --- sizes and batches ---------------------------------------------------------------------

def generation_size(size: tuple[int, int], native: tuple[int, int],
                    multiple: int = 16) -> tuple[int, int]:
    """The size to sample at: ``size`` itself up to the native area, else the same aspect
    scaled down to the native area (sides multiples of ``multiple``)."""
    w, h = size
    area = native[0] * native[1]
    if w * h <= area:
        return w, h
    scale = (area / (w * h)) ** 0.5
    return (max(multiple, int(w * scale) // multiple * multiple),
            max(multiple, int(h * scale) // multiple * multiple))


def max_batch(family: str, size: tuple[int, int], device: str, memory_gb: float | None) -> int:
    """How many images of ``size`` to sample at once within the memory budget (≥ 1)."""
    if memory_gb is None:
        memory_gb = 8.0
        if device.startswith("cuda"):
            import torch

            memory_gb = torch.cuda.mem_get_info(torch.device(device))[0] / 2 ** 30 * 0.8
    per_image = _GIB_PER_MEGAPIXEL[family] * size[0] * size[1] / 1e6
    return max(1, int(memory_gb / per_image))


def _to_pil(array: "np.ndarray") -> "Image.Image":
    import numpy as np
    from PIL import Image

    return Image.fromarray((np.clip(array, 0.0, 1.0) * 255.0).round().astype(np.uint8), "RGB")


def _repeat(kwargs: dict, n: int) -> dict:
    """Embedding kwargs of one item repeated for n items (tiles)."""
    return {k: (v.repeat(n, *([1] * (v.dim() - 1))) if v is not None else None)
            for k, v in kwargs.items()}


def encode_init(pipe, images: list["Image.Image"], generators: list, device
                ) -> "torch.Tensor":
    """VAE latents of ``images`` (sampled with each item's generator), scaled for the model."""
    import torch

    vae = pipe.vae
    # fp16 SDXL-style VAEs overflow when encoding (their config says force_upcast): encode in
    # float32 as diffusers' own img2img pipelines do, then return to half precision.
    upcast = vae.dtype == torch.float16 and getattr(vae.config, "force_upcast", False)
    half = vae.dtype
    if upcast:
        vae.to(torch.float32)
    x = pipe.image_processor.preprocess(images).to(device, vae.dtype)
    with torch.no_grad():
        latents = torch.cat([vae.encode(x[i:i + 1]).latent_dist.sample(generator=g)
                             for i, g in enumerate(generators)])
    if upcast:
        vae.to(half)
        latents = latents.to(half)
    shift = getattr(vae.config, "shift_factor", None) or 0.0
    return (latents - shift) * vae.config.scaling_factor


def pixart_sdedit(pipe, images: list["Image.Image"], tier: Tier, generators: list, device,
                  **call: Any) -> "np.ndarray":
    """SDEdit on PixArt-Sigma (no img2img pipeline ships): noise the init latents to the
    first kept timestep, then sample the remaining timesteps with the text-to-image pipeline.
    """
    import torch

    sched = pipe.scheduler
    sched.set_timesteps(tier.steps)
    start = min(int(round(tier.steps * (1.0 - tier.strength))), tier.steps - 1)
    tail = sched.timesteps[start:]
    x0 = encode_init(pipe, images, generators, device)
    noise = torch.stack([torch.randn(x0.shape[1:], generator=g, dtype=x0.dtype)
                         for g in generators]).to(x0.device)
    latents = sched.add_noise(x0, noise, tail[:1].repeat(len(x0)))
    w, h = images[0].size
    return pipe(height=h, width=w, timesteps=[int(t) for t in tail], latents=latents,
                generator=generators, use_resolution_binning=False, **call).images


# --- the renderer ---------------------------------------------------------------------------

_LOAD_KEYS = {f.name for f in dataclasses.fields(LoadOptions)}
_KNOBS = {f.name for f in dataclasses.fields(DiffusionOptions)}


class DiffusionRenderer:
    """Renders Plans with one loaded diffusers pipeline (see the module docstring).

    Args:
        pipe: a text-to-image pipeline of the preset's family.
        preset: sampling tiers, native size, token budgets.
        name: the preset's name (recorded as the renderer in metadata).
        options: rare knobs. font: a font file for the text layer.
    """

    digital_source_type = DIGITAL_SOURCE_TYPE

    def __init__(self, pipe, preset: RendererPreset, name: str,
                 options: DiffusionOptions | None = None, font: str | None = None):
        self.pipe = pipe
        self.preset = preset
        self.family = preset.family
        self.name = name
        self.options = options or DiffusionOptions()
        self.font = font
        self.device = str(pipe._execution_device)   # computed once: it walks every module
        self._img2img = None

    @classmethod
    def from_preset(cls, name: str, *, font: str | None = None,
                    **kwargs: Any) -> "DiffusionRenderer":
        """Load a preset (``sdxl``, ``flux-schnell``, ...), a preset YAML or a local pipeline
        directory.

        Args:
            name: what to load. font: a font file for text.
            kwargs: LoadOptions fields (device, dtype, local_files_only, offload,
                vae_tiling, vae_slicing, compile) and DiffusionOptions fields.
        Raises:
            RenderError: unknown name or option, no usable device, missing weights.
        """
        unknown = sorted(set(kwargs) - _LOAD_KEYS - _KNOBS)
        if unknown:
            raise RenderError(f"unknown diffusion renderer option(s) {', '.join(unknown)}; "
                              f"allowed: {', '.join(sorted(_LOAD_KEYS | _KNOBS))}")
        load = LoadOptions(**{k: v for k, v in kwargs.items() if k in _LOAD_KEYS})
        knobs = DiffusionOptions(**{k: v for k, v in kwargs.items() if k in _KNOBS})
        try:
            preset_name, preset = resolve_preset(name)
            pipe = load_pipeline(preset, load, preset_name)
        except ModelError as e:
            if isinstance(e, RenderError):
                raise
            raise RenderError(str(e)) from None
        return cls(pipe, preset, preset_name, knobs, font=font)

    def tier(self, quality: str) -> Tier:
        """The preset's tier for ``quality`` with the ``steps`` override applied."""
        tier = self.preset.tier(quality)
        return dataclasses.replace(tier, steps=self.options.steps) if self.options.steps else tier

    @property
    def native(self) -> tuple[int, int]:
        return tuple(self.options.native or self.preset.native)  # type: ignore[return-value]

    @property
    def img2img(self):
        """The family's img2img pipeline sharing this pipeline's weights (None for PixArt)."""
        if self._img2img is None:
            self._img2img = related_pipeline(self.pipe, self.family, "img2img")
        return self._img2img

    def sample(self, inits: list["Image.Image"] | None, size: tuple[int, int], tier: Tier,
               call: dict, generators: list, layout: RegionLayout | None = None
               ) -> "np.ndarray":
        """One batched sampling call: SDEdit from ``inits`` or text-to-image.

        Returns:
            float ``(B, H, W, 3)`` in [0, 1].
        """
        w, h = size
        common = dict(num_inference_steps=tier.steps, guidance_scale=tier.guidance,
                      output_type="np", **call)
        use_init = inits is not None and tier.strength < 1.0
        if use_init and tier.steps * tier.strength < 1.0:
            raise RenderError(f"strength {tier.strength} x {tier.steps} steps runs no step: "
                              "raise steps or strength in the preset")
        extra = {"use_resolution_binning": False} if self.family == "pixart" else {}
        with regional_attention(denoiser(self.pipe), layout, self.family):
            if not use_init:
                return self.pipe(height=h, width=w, generator=generators, **extra,
                                 **common).images
            if self.family == "pixart":
                return pixart_sdedit(self.pipe, inits, tier, generators, self.device,
                                     **common)
            size_kw = {} if self.family == "sdxl" else dict(height=h, width=w)
            return self.img2img(image=inits, strength=tier.strength, generator=generators,
                                **size_kw, **common).images

    # --- Plans → images ---------------------------------------------------------------------
    def render(self, plans: Plan | Sequence[Plan],
               options: RenderOptions | None = None) -> RenderResult:
        """Render each Plan with its own seed; same-shaped Plans share a batch.

        Args:
            plans: one Plan or several. options: font override, device is fixed at load.
        Returns:
            RenderResult with ``images[i]`` for ``plans[i]`` seeded by ``plans[i].seed``.
        """
        plan_list = as_plan_list(plans)
        options = options or RenderOptions()
        images: list = [None] * len(plan_list)
        for group in self._groups(plan_list):
            for i, image in zip(group, self._render_group([plan_list[i] for i in group],
                                                         options)):
                images[i] = image
        return RenderResult(images=images, plans=plan_list, seeds=[p.seed for p in plan_list],
                            renderer=self.name)

    def _shape(self, plan: Plan) -> tuple:
        return (generation_size(plan.size, self.native), plan.quality, plan.transparent,
                len(prompt_segments(plan)))

    def _groups(self, plans: list[Plan]) -> list[list[int]]:
        """Indices of Plans that can share a batch (same size, tier, segment count), chunked
        to the memory budget."""
        by_shape: dict[tuple, list[int]] = {}
        for i, p in enumerate(plans):
            by_shape.setdefault(self._shape(p), []).append(i)
        out = []
        for shape, idx in by_shape.items():
            k = max_batch(self.family, shape[0], self.device, self.options.memory_gb)
            out += [idx[j:j + k] for j in range(0, len(idx), k)]
        return out

    def _init_image(self, plan: Plan, size: tuple[int, int], options: RenderOptions):
        """The draft render (no text) at the sampling size, flattened to RGB."""
        from PIL import Image

        from render.draft import DraftRenderer

        canvas = plan.canvas.model_copy(update={"width": size[0], "height": size[1]})
        base = DraftRenderer(font=self.font).draw_base(
            plan.model_copy(update={"canvas": canvas}), options)
        flat = Image.new("RGBA", base.size, (255, 255, 255, 255))
        flat.alpha_composite(base)
        return flat.convert("RGB")

    def _render_group(self, plans: list[Plan], options: RenderOptions) -> list["Image.Image"]:
        import torch

        from render.keying import key_for, plan_on_key

        size = generation_size(plans[0].size, self.native)
        tier = self.tier(plans[0].quality)
        keys = [key_for(p) if p.transparent else None for p in plans]
        keyed = [plan_on_key(p, k[0]) if k else p for p, k in zip(plans, keys)]
        segments = [prompt_segments(p, k[1] if k else None) for p, k in zip(plans, keys)]
        if not self.options.regional:
            segments = [s[:1] for s in segments]
        embeds, lengths = encode_segments(self.pipe, self.family,
                                          [[t for t, _, _ in s] for s in segments],
                                          self.preset, self.options.negative_prompt,
                                          tier.guidance > 1.0, self.device)
        scale = self.pipe.vae_scale_factor
        layout = (layout_for(segments, lengths, (size[1] // scale, size[0] // scale))
                  if len(lengths) > 1 else None)
        inits = ([self._init_image(p, size, options) for p in keyed]
                 if self.options.draft_init else None)
        generators = [torch.Generator("cpu").manual_seed(p.seed) for p in plans]
        arrays = self.sample(inits, size, tier, call_kwargs(self.family, embeds), generators,
                             layout)
        return [self._finish(_to_pil(a), p, k, options) for a, p, k in zip(arrays, plans, keys)]

    def _finish(self, image: "Image.Image", plan: Plan, key, options: RenderOptions
                ) -> "Image.Image":
        """Sampled image → final: upscale to the Plan's size, key out the background, text."""
        from render.harmonise import apply_text
        from render.keying import extract_alpha, trimap_background

        if image.size != plan.size:
            image = self.upscale(image, plan)
        if key is not None:
            image = extract_alpha(image, key[0], trimap_background(plan, image.size))
        inpaint = (self._ring_inpaint(plan) if self.options.harmonise_inpaint and key is None
                   else None)
        out = apply_text(image, plan, font=options.font or self.font, inpaint=inpaint)
        return out if plan.transparent else out.convert("RGB")

    def upscale(self, image: "Image.Image", plan: Plan) -> "Image.Image":
        """Resize to the Plan's size; when that is larger than sampled, refine it with a tiled
        low-strength img2img (render/tiling.py) conditioned on the global prompt."""
        import numpy as np
        from PIL import Image

        from render.tiling import blend_tiles

        target = plan.size
        resized = image.resize(target, Image.LANCZOS)
        if target[0] * target[1] <= image.width * image.height:
            return resized
        tile = (min(self.native[0], target[0]), min(self.native[1], target[1]))
        tier = self.tier(plan.quality)
        tier = Tier(steps=max(tier.steps, int(np.ceil(1.0 / self.options.upscale_strength))),
                    guidance=tier.guidance, strength=self.options.upscale_strength)
        embeds, _ = encode_segments(self.pipe, self.family, [[prompt_segments(plan)[0][0]]],
                                    self.preset, self.options.negative_prompt,
                                    tier.guidance > 1.0, self.device)
        one = call_kwargs(self.family, embeds)
        counter = iter(range(1 << 30))

        def refine(tiles: Sequence["np.ndarray"]) -> "np.ndarray":
            import torch

            gens = [torch.Generator("cpu").manual_seed(plan.seed * 7919 + next(counter))
                    for _ in tiles]
            return self.sample([_to_pil(t) for t in tiles], tile, tier,
                               _repeat(one, len(tiles)), gens)

        batch = max_batch(self.family, tile, self.device,
                          self.options.memory_gb)
        overlap = int(min(tile) * self.options.tile_overlap)
        fused = blend_tiles(np.asarray(resized, dtype=np.float32) / 255.0, tile, overlap,
                            refine, batch)
        return _to_pil(fused)

    def _ring_inpaint(self, plan: Plan):
        """An ``(image, mask) -> image`` low-strength inpaint for the ring around the text,
        or None for families without an inpaint pipeline or canvases above native size."""
        inpainter = related_pipeline(self.pipe, self.family, "inpaint")
        if inpainter is None or plan.size[0] * plan.size[1] > self.native[0] * self.native[1]:
            return None
        tier = self.tier(plan.quality)

        def run(image: "Image.Image", mask: "np.ndarray") -> "Image.Image":
            import numpy as np
            import torch
            from PIL import Image

            embeds, _ = encode_segments(self.pipe, self.family,
                                        [[prompt_segments(plan)[0][0]]], self.preset,
                                        self.options.negative_prompt, tier.guidance > 1.0,
                                        self.device)
            mask_image = Image.fromarray(mask.astype(np.uint8) * 255, "L")
            steps = max(tier.steps, 4)
            out = inpainter(image=image, mask_image=mask_image, strength=0.3,
                            num_inference_steps=steps, guidance_scale=tier.guidance,
                            height=image.height, width=image.width, output_type="np",
                            generator=torch.Generator("cpu").manual_seed(plan.seed + 1),
                            **call_kwargs(self.family, embeds)).images[0]
            return _to_pil(out)

        return run
