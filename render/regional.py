"""Regional prompting: each element's prompt reaches only the image tokens inside its box.

The text sequence given to the denoiser is a concatenation of segments: a global prompt seen
everywhere, a background prompt seen outside the object boxes, and one prompt per distinct
element seen only inside that element's boxes. Attention processors turn the segments into
attention masks on the image-token grid of each layer, training-free, as in LLM-grounded
Diffusion (LMD, Lian et al. 2023, arXiv:2305.13655) and RPG (Yang et al. 2024,
arXiv:2401.11708): image → text attention is masked for cross-attention (SDXL's UNet, PixArt),
and for joint attention (SD3's MMDiT, FLUX) the text → image and text → text blocks are masked
too, so one element's tokens neither read nor write outside their region.

Boxes become grid cells only through ``planner.schema.box_to_pixels`` (with the grid's size).
"""

from __future__ import annotations

import weakref
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

from planner.schema import Box, box_to_pixels

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class Segment:
    """Tokens ``[start, end)`` of the text sequence and where on the image they may act.

    The region is the union of ``boxes``, or its complement when ``invert`` (so ``boxes=()``
    with ``invert=True`` is the whole image).
    """

    start: int
    end: int
    boxes: tuple[Box, ...] = ()
    invert: bool = False


@dataclass
class RegionLayout:
    """Segments of each batch item over one text sequence, and the latent grid size.

    Args:
        items: per batch item (CFG halves excluded), its segments; all share ``text_len``.
        text_len: tokens in the concatenated text sequence.
        latent_size: ``(height, width)`` of the latent at the denoiser's input.
    """

    items: Sequence[Sequence[Segment]]
    text_len: int
    latent_size: tuple[int, int]
    _cache: dict = field(default_factory=dict, repr=False)

    def grid(self, n_tokens: int) -> tuple[int, int]:
        """The ``(h, w)`` token grid with ``n_tokens`` cells: the latent halved (rounding
        up, like a stride-2 conv or a 2x2 patch) as often as needed."""
        h, w = self.latent_size
        for _ in range(8):
            if h * w == n_tokens:
                return h, w
            h, w = (h + 1) // 2, (w + 1) // 2
        raise ValueError(f"{n_tokens} image tokens fit no halving of latent {self.latent_size}")

    def allowed(self, n_tokens: int, device) -> "torch.Tensor":
        """Boolean ``(B, n_tokens, text_len)``: may image token q attend to text token k."""
        key = ("allowed", n_tokens, str(device))
        if key not in self._cache:
            self._cache[key] = _allowed(self, self.grid(n_tokens)).to(device)
        return self._cache[key]

    def segment_ids(self, device) -> "torch.Tensor":
        """``(B, text_len)`` index of the segment each text token belongs to."""
        import torch

        key = ("ids", str(device))
        if key not in self._cache:
            ids = torch.full((len(self.items), self.text_len), -1, dtype=torch.long)
            for b, segments in enumerate(self.items):
                for i, s in enumerate(segments):
                    ids[b, s.start:s.end] = i
            self._cache[key] = ids.to(device)
        return self._cache[key]


def region_cells(boxes: Sequence[Box], invert: bool, grid: tuple[int, int]) -> "torch.Tensor":
    """Boolean ``(h, w)`` mask of the union of ``boxes`` (complemented when ``invert``)."""
    import torch

    h, w = grid
    mask = torch.zeros(h, w, dtype=torch.bool)
    for box in boxes:
        x0, y0, x1, y1 = box_to_pixels(box, w, h)
        mask[y0:y1, x0:x1] = True
    return ~mask if invert else mask


def _allowed(layout: RegionLayout, grid: tuple[int, int]) -> "torch.Tensor":
    import torch

    n = grid[0] * grid[1]
    out = torch.zeros(len(layout.items), n, layout.text_len, dtype=torch.bool)
    for b, segments in enumerate(layout.items):
        for s in segments:
            cells = region_cells(s.boxes, s.invert, grid).reshape(n, 1)
            out[b, :, s.start:s.end] = cells
    return out


def _per_batch(mask: "torch.Tensor", batch: int) -> "torch.Tensor":
    """Repeat a per-item mask over classifier-free-guidance copies ([uncond, cond] halves)."""
    reps = batch // mask.shape[0]
    if reps * mask.shape[0] != batch:
        raise ValueError(f"batch {batch} is not a multiple of the layout's {mask.shape[0]} items")
    return mask if reps == 1 else mask.repeat(reps, *([1] * (mask.dim() - 1)))


def joint_mask(layout: RegionLayout, n_image: int, text_first: bool, device) -> "torch.Tensor":
    """Boolean ``(B, 1, S, S)`` mask for joint attention over image and text tokens.

    image ↔ image: open; image → text: the element's region; text → image: its transpose;
    text → text: only within the same segment.
    """
    import torch

    key = ("joint", n_image, text_first, str(device))
    if key in layout._cache:
        return layout._cache[key]
    a = layout.allowed(n_image, device)                          # (B, N, T)
    ids = layout.segment_ids(device)                             # (B, T)
    tt = ids[:, :, None] == ids[:, None, :]                      # (B, T, T)
    ii = torch.ones(a.shape[0], n_image, n_image, dtype=torch.bool, device=device)
    if text_first:
        top = torch.cat([tt, a.transpose(1, 2)], dim=2)
        bottom = torch.cat([a, ii], dim=2)
    else:
        top = torch.cat([ii, a], dim=2)
        bottom = torch.cat([a.transpose(1, 2), tt], dim=2)
    mask = torch.cat([top, bottom], dim=1)[:, None]
    layout._cache[key] = mask
    return mask


def _bias(layout: RegionLayout, n_image: int, batch: int, dtype, device) -> "torch.Tensor":
    """Additive ``(batch, N, T)`` bias (0 / -inf) for cross-attention, cached per shape:
    every layer at one resolution and every step share it."""
    import torch

    key = ("bias", n_image, batch, dtype, str(device))
    if key not in layout._cache:
        allowed = _per_batch(layout.allowed(n_image, device), batch)
        bias = torch.zeros(allowed.shape, dtype=dtype, device=allowed.device)
        layout._cache[key] = bias.masked_fill_(~allowed, float("-inf"))
    return layout._cache[key]


def joint_bias(layout: RegionLayout, n_image: int, text_first: bool, batch: int, dtype,
               device) -> "torch.Tensor":
    """``joint_mask`` as an additive ``(batch, 1, S, S)`` bias (0 / -inf), cached. CPU
    attention converts a boolean mask on every call (measured: ~2x the attention time at
    1.5k tokens); a ready float bias costs ~1.3x."""
    import torch

    key = ("joint-bias", n_image, text_first, batch, dtype, str(device))
    if key not in layout._cache:
        allowed = _per_batch(joint_mask(layout, n_image, text_first, device), batch)
        bias = torch.zeros(allowed.shape, dtype=dtype, device=allowed.device)
        layout._cache[key] = bias.masked_fill_(~allowed, float("-inf"))
    return layout._cache[key]


def _key(kind: str, n_image: int, batch: int) -> tuple:
    return (kind, n_image, batch)


class CrossAttnRegionProcessor:
    """Wraps a cross-attention processor (UNet ``attn2``, PixArt) with the regional mask.

    The mask enters as an additive bias ``(B, Q, T)`` through the inner processor's
    ``attention_mask`` argument, summed with any padding mask it already had (PixArt's T5).
    It is read from ``region_masks`` (built before sampling, passed by the pipeline's
    attention kwargs) or, failing that, from the layout's cache (filled before sampling by
    ``regional_attention``; built on first use only when the processor is called directly).
    """

    kind = "cross"

    def __init__(self, inner, layout: RegionLayout | None):
        self.inner = inner
        self.layout = layout

    @staticmethod
    def prepare(layout: RegionLayout, n_image: int, batch: int, dtype, device):
        return _bias(layout, n_image, batch, dtype, device)

    def _mask(self, n_image: int, batch: int, dtype, device, masks):
        if masks is not None:
            key = _key(self.kind, n_image, batch)
            if key not in masks:   # a grid or batch the renderer did not foresee: a bug
                raise RuntimeError(f"no region mask was prepared for {key}; prepared: "
                                   f"{sorted(k for k in masks if k != 'text_len')}")
            return masks[key]
        if self.layout is None:
            return None
        return self.prepare(self.layout, n_image, batch, dtype, device)

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None,
                 temb=None, *args, region_masks=None, **kwargs):
        text_len = (region_masks or {}).get("text_len") or getattr(self.layout, "text_len", None)
        bias = (None if encoder_hidden_states is None
                or encoder_hidden_states.shape[1] != text_len else
                self._mask(hidden_states.shape[1], hidden_states.shape[0],
                           hidden_states.dtype, hidden_states.device, region_masks))
        if bias is None:
            return self.inner(attn, hidden_states, encoder_hidden_states, attention_mask,
                              temb, *args, **kwargs)
        if attention_mask is not None:
            bias = bias + attention_mask.to(bias.dtype).reshape(bias.shape[0], -1, bias.shape[2])
        return self.inner(attn, hidden_states, encoder_hidden_states, bias, temb,
                          *args, **kwargs)


class FluxRegionProcessor(CrossAttnRegionProcessor):
    """Wraps FLUX's joint-attention processor (double and single blocks; text tokens first)
    and passes the joint mask, as an additive bias, as its ``attention_mask``."""

    kind = "joint-text-first"

    @staticmethod
    def prepare(layout: RegionLayout, n_image: int, batch: int, dtype, device):
        return joint_bias(layout, n_image, True, batch, dtype, device)

    def _text_len(self, masks) -> int | None:
        if masks is not None:
            return masks.get("text_len")
        return None if self.layout is None else self.layout.text_len

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None,
                 image_rotary_emb=None, region_masks=None):
        t = self._text_len(region_masks)
        mask = None
        if t is not None:
            n_image = hidden_states.shape[1] - (0 if encoder_hidden_states is not None else t)
            mask = self._mask(n_image, hidden_states.shape[0], hidden_states.dtype,
                              hidden_states.device, region_masks)
        if mask is None:
            return self.inner(attn, hidden_states, encoder_hidden_states, attention_mask,
                              image_rotary_emb)
        if attention_mask is not None:
            mask = mask.masked_fill(~attention_mask.bool(), float("-inf"))
        return self.inner(attn, hidden_states, encoder_hidden_states, mask, image_rotary_emb)


class SD3RegionProcessor(CrossAttnRegionProcessor):
    """Joint attention of SD3/SD3.5's MMDiT blocks (image tokens first) with the joint mask.

    diffusers' ``JointAttnProcessor2_0`` takes no mask, so this computes the same projections
    itself: q/k/v of both streams, optional q/k norms, one masked attention, split, outputs.
    """

    kind = "joint-image-first"

    @staticmethod
    def prepare(layout: RegionLayout, n_image: int, batch: int, dtype, device):
        return joint_bias(layout, n_image, False, batch, dtype, device)

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None,
                 *args, region_masks=None, **kwargs):
        b, n = hidden_states.shape[:2]
        mask = (None if encoder_hidden_states is None else   # SD3.5's image-only attn2
                self._mask(n, b, hidden_states.dtype, hidden_states.device, region_masks))
        if mask is None:
            return self.inner(attn, hidden_states, encoder_hidden_states, attention_mask,
                              *args, **kwargs)
        import torch
        import torch.nn.functional as F

        heads = attn.heads

        def split(x):  # (B, L, C) -> (B, heads, L, C / heads)
            return x.view(b, -1, heads, x.shape[-1] // heads).transpose(1, 2)

        q, k, v = (split(f(hidden_states)) for f in (attn.to_q, attn.to_k, attn.to_v))
        cq, ck, cv = (split(f(encoder_hidden_states))
                      for f in (attn.add_q_proj, attn.add_k_proj, attn.add_v_proj))
        if attn.norm_q is not None:
            q, k = attn.norm_q(q), attn.norm_k(k)
        if attn.norm_added_q is not None:
            cq, ck = attn.norm_added_q(cq), attn.norm_added_k(ck)
        out = F.scaled_dot_product_attention(torch.cat([q, cq], 2), torch.cat([k, ck], 2),
                                             torch.cat([v, cv], 2), attn_mask=mask)
        out = out.transpose(1, 2).reshape(b, -1, heads * q.shape[-1]).to(q.dtype)
        image, text = out[:, :n], out[:, n:]
        if not attn.context_pre_only:
            text = attn.to_add_out(text)
        image = attn.to_out[1](attn.to_out[0](image))
        return image, text


class _Ignore:
    """Wraps a processor the layout does not touch, dropping ``region_masks`` (diffusers
    would warn on every call about a keyword its processor does not take)."""

    def __init__(self, inner, layout=None):
        self.inner = inner

    def __call__(self, attn, *args, region_masks=None, **kwargs):
        return self.inner(attn, *args, **kwargs)


def region_masks(net, layout: RegionLayout, processor_for: Callable[[str], type | None],
                 grids: Sequence[tuple[int, int]], batches: Sequence[int], dtype, device
                 ) -> dict:
    """Every mask the region processors of ``net`` will read, built now, outside the
    denoiser's forward: ``{(kind, image tokens, batch): bias tensor, "text_len": T}``.

    Args:
        grids: the ``(h, w)`` image-token grids the attention layers see.
        batches: the batch sizes the denoiser is called with (items, and x2 with CFG).
    """
    kinds = {cls for name, _ in _attention_modules(net)
             if (cls := processor_for(name + ".processor")) is not None}
    masks: dict = {"text_len": layout.text_len}
    for cls in kinds:
        for h, w in grids:
            for batch in batches:
                masks[_key(cls.kind, h * w, batch)] = cls.prepare(layout, h * w, batch,
                                                                  dtype, device)
    return masks


@contextmanager
def regional_attention(net, layout: RegionLayout | None,
                       processor_for: Callable[[str], type | None],
                       persistent: bool = False) -> Iterator[None]:
    """Install region processors on denoiser ``net`` for the duration of the block.

    Args:
        net: the UNet or transformer (anything with attention modules holding a ``processor``).
        layout: the segments; None leaves the processors untouched (unless persistent ones
            are installed: they pass through without masks).
        processor_for: the family's ``region_processor``: attention module name -> the
            processor class to wrap it with, or None to leave it.
        persistent: install once and keep (a compiled denoiser: new processor objects would
            recompile it); the masks then come only through ``region_masks`` call kwargs.
    """
    if persistent:
        if net not in _PERSISTENT:
            for name, module in _attention_modules(net):
                cls = processor_for(name + ".processor") or _Ignore
                module.processor = cls(module.processor, None)
            _PERSISTENT[net] = True
        yield
        return
    if layout is None:
        yield
        return
    installed = []
    for name, module in _attention_modules(net):
        cls = processor_for(name + ".processor") or _Ignore
        installed.append((module, module.processor))
        module.processor = cls(module.processor, layout)
    try:
        yield
    finally:
        for module, original in installed:
            module.processor = original


_PERSISTENT: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_MODULES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _attention_modules(net) -> list:
    """``(name, module)`` of every attention module of ``net`` (with a ``processor``), found
    once per network: walking a large denoiser on every render costs milliseconds."""
    if net not in _MODULES:
        _MODULES[net] = [(name, m) for name, m in net.named_modules()
                         if hasattr(m, "processor") and hasattr(m, "set_processor")]
    return _MODULES[net]
