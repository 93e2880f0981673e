"""The diffusion renderer: a Plan → an image with open-weights diffusers pipelines.

Model families are adapters (render/families/: one module each, see base.py); this module is
the shared machinery and never asks which family it serves, only what the family can do
(``family.capabilities``). Weights come from configs/renderers.yaml presets, a local
pipeline directory (matched to its family by its model_index.json) or a single-file
checkpoint, loaded by model/diffusion.py. Layout follows the Plan without training:

1. The draft render of the Plan (background and objects, no text) is the init image, noised to
   ``strength`` and denoised: SDEdit (Meng et al. 2021, arXiv:2108.01073), where the family
   has img2img. Strength per quality tier trades faithfulness to the draft for realism.
2. Regional prompting (render/regional.py), where the family has it: each element's prompt
   acts only inside its box through attention masks (LMD, Lian et al. 2023; RPG, Yang et al.
   2024); a global prompt acts everywhere and a background prompt outside the objects.
3. Canvases above the model's native size are generated at native size, then upscaled with
   tiled img2img and overlap blending (render/tiling.py, MultiDiffusion's fusion rule).
4. Transparent Plans are drawn on a planned key colour and keyed (render/keying.py), unless
   the family outputs alpha itself.
5. Text is drawn by the text engine exactly afterwards and render/harmonise.py matches it to
   the picture's light.

n Plans are batched within a memory budget; each image has its own ``torch.Generator`` seeded
with its Plan's seed, so a batch of n gives the pixels of n single renders.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from model.diffusion import (LoadOptions, RendererPreset, Tier, denoiser, known_presets,
                             load_pipeline, load_renderer_presets, quiet_diffusers,
                             resolve_preset)
from model.errors import ModelError
from planner.schema import Plan
from render.base import RenderError, RenderOptions, RenderResult, as_plan_list
from render.families import (Embeds, Family, Pipelines, family_for_checkpoint,
                             family_for_directory, get_family)
from render.prompts import background_prompt, element_prompt, prompt_segments
from render.regional import RegionLayout, Segment, region_masks, regional_attention

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

__all__ = ["DiffusionOptions", "DiffusionRenderer", "background_prompt", "element_prompt",
           "known_presets", "prompt_segments"]

DIGITAL_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"

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
        true_cfg: true classifier-free guidance scale for guidance-distilled families that
            read no negative prompt otherwise (FLUX.1); > 1 doubles the compute.
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
    true_cfg: float | None = None


# --- encoding (family-agnostic: the family's hooks do what differs) ----------------------

def _rows(e: Embeds, index) -> Embeds:
    """The rows ``index`` of every tensor of ``e``."""
    def pick(x):
        return None if x is None else x.index_select(0, index.to(x.device))

    return Embeds(pick(e.tokens), pick(e.mask), pick(e.pooled))


def _encode_texts(pipe, family: Family, texts: list[str], negative: str | None, max_len,
                  device, region: bool = False) -> tuple[Embeds, Embeds | None]:
    """Encode each distinct text (and the negative prompt) once; rows follow ``texts``.

    Returns:
        ``(positives, negatives)``: negatives repeat the negative prompt per row, None
        without classifier-free guidance.
    """
    import torch

    uniq = list(dict.fromkeys(texts + ([negative] if negative is not None else [])))
    e = family.encode(pipe, uniq, max_len, device, region=region)
    pos = _rows(e, torch.tensor([uniq.index(t) for t in texts]))
    if negative is None:
        return pos, None
    neg = _rows(e, torch.full((len(texts),), uniq.index(negative)))
    return pos, family.negative(pipe, neg, negative)


def _join(first, rest, items: int):
    """Per item, its first segment's tensor then its other segments', along tokens."""
    import torch

    if first is None or rest is None:
        return first
    per_item = rest.reshape(items, -1, *rest.shape[2:])
    return torch.cat([first, per_item], dim=1)


def encode_segments(pipe, family: Family, texts: list[list[str]], preset: RendererPreset,
                    negative: str, cfg: bool, device) -> tuple[Embeds, list[int]]:
    """Encode every item's segment prompts and concatenate them along the token axis.

    The global prompt gets the preset's full ``max_sequence_length``; element prompts get
    just enough tokens (at most ``region_tokens``). Each distinct text is encoded once, so n
    images of one prompt cost one encoding. With ``cfg`` the negatives are the negative
    prompt's embeddings (never the positive's), whatever the number of segments.

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
            return _with_negative(g, gn), [g.tokens.shape[1]]
        # Element segments are sized to the element prompts; the negative prompt is cut to
        # that length there (it is whole in the global segment).
        with quiet_diffusers():
            r, rn = _encode_texts(pipe, family, rest, neg,
                                  _region_length(pipe, family, rest, preset), device,
                                  region=True)
        r = family.trim_region(pipe, r, rest)
        rn = None if rn is None else family.trim_region(pipe, rn, rest)
    n = len(texts)
    pos = Embeds(_join(g.tokens, r.tokens, n), _join(g.mask, r.mask, n), g.pooled)
    joined = None if gn is None else Embeds(_join(gn.tokens, rn.tokens, n),
                                            _join(gn.mask, rn.mask, n), gn.pooled)
    lengths = [g.tokens.shape[1]] + [r.tokens.shape[1]] * (len(texts[0]) - 1)
    return _with_negative(pos, joined), lengths


def _with_negative(pos: Embeds, neg: Embeds | None) -> Embeds:
    if neg is None:
        return pos
    return Embeds(pos.tokens, pos.mask, pos.pooled, neg.tokens, neg.mask, neg.pooled)


def _region_length(pipe, family: Family, texts: list[str], preset: RendererPreset) -> int:
    """Tokens per element segment: what the longest element prompt (or the negative) needs,
    at most ``preset.region_tokens``. Element prompts are a few words; padding them to a
    fixed budget would only lengthen every attention call."""
    from render.families.sdxl import needed_tokens

    name = family.region_tokenizer
    tok = getattr(pipe, name, None) if name else None
    return (needed_tokens(tok, texts, preset.region_tokens) if tok is not None
            else preset.region_tokens)


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


def max_batch(gib_per_megapixel: float, size: tuple[int, int], device: str,
              memory_gb: float | None) -> int:
    """How many images of ``size`` to sample at once within the memory budget (≥ 1)."""
    if memory_gb is None:
        memory_gb = 8.0
        if device.startswith("cuda"):
            import torch

            memory_gb = torch.cuda.mem_get_info(torch.device(device))[0] / 2 ** 30 * 0.8
    per_image = gib_per_megapixel * size[0] * size[1] / 1e6
    return max(1, int(memory_gb / per_image))


def _to_pil(array: "np.ndarray") -> "Image.Image":
    """A float ``(H, W, 3|4)`` array in [0, 1] → an RGB (or RGBA) image."""
    import numpy as np
    from PIL import Image

    mode = "RGBA" if array.shape[-1] == 4 else "RGB"
    return Image.fromarray((np.clip(array, 0.0, 1.0) * 255.0).round().astype(np.uint8), mode)


def _flattened(image: "Image.Image") -> "Image.Image":
    """An RGBA image composited over white, as RGB."""
    from PIL import Image

    flat = Image.new("RGBA", image.size, (255, 255, 255, 255))
    flat.alpha_composite(image)
    return flat.convert("RGB")


def _repeat(kwargs: dict, n: int) -> dict:
    """Embedding kwargs of one item repeated for n items (tiles)."""
    return {k: (v.repeat(n, *([1] * (v.dim() - 1))) if v is not None else None)
            for k, v in kwargs.items()}


# --- the renderer ---------------------------------------------------------------------------

# Negative-prompt words that steer a model away from lettering: dropped when it draws text.
_TEXT_WORDS = {"text", "letters", "words", "typography", "lettering"}
_LOAD_KEYS = {f.name for f in dataclasses.fields(LoadOptions)}
_KNOBS = {f.name for f in dataclasses.fields(DiffusionOptions)}




def _source(name: str) -> tuple[str, RendererPreset, Family, bool]:
    """What ``name`` loads: ``(name, preset, family, local)``; ``local`` when the preset's
    tiers are still to be read from the weights (``Family.variant_of``).

    Raises:
        ModelError: an unknown name, a directory no family matches.
    """
    found = resolve_preset(name)
    if found is not None:
        return found[0], found[1], get_family(found[1].family), False
    path = Path(name).expanduser()
    if path.suffix == ".safetensors" and not path.is_file():
        raise RenderError(f"renderer {name}: no such checkpoint file")
    if path.is_file() and path.suffix == ".safetensors":
        family = family_for_checkpoint(path)
        base = load_renderer_presets()[family.presets[0]]
        return path.stem, dataclasses.replace(base, repo=str(path), variant=None,
                                              unet_weights=None, scheduler=None), family, True
    if path.is_dir():
        family = family_for_directory(path)
        base = load_renderer_presets()[family.presets[0]]
        return path.name, dataclasses.replace(base, repo=str(path), variant=None,
                                              unet_weights=None, scheduler=None), family, True
    raise RenderError(f"unknown renderer {name!r}; choose one of: draft, "
                      f"{', '.join(known_presets())}, a local pipeline directory or a "
                      ".safetensors checkpoint")


def _families_with(flag: str) -> list[str]:
    from render.families import FAMILIES

    return [k for k in FAMILIES if getattr(get_family(k).capabilities, flag)]


def explain(name: str, plan: Plan, text_mode: str = "auto") -> list[tuple[str, tuple, bool]]:
    """What renderer ``name`` reads for ``plan``, without loading weights (``limner plan
    --explain``): the family's conditioning as the renderer would use it, i.e. one structured
    prompt for an LLM-encoder family, the prompt segments and their boxes for a regional one.

    Returns:
        ``[(text, boxes, invert), ...]``, the global segment first.
    Raises:
        RenderError / ModelError: an unknown renderer or a directory no family matches.
    """
    from render.keying import key_for

    _, _, family, _ = _source(name)
    key = key_for(plan)[1] if plan.transparent and not family.capabilities.alpha else None
    segs = family.conditioning(plan, key, text_mode=text_mode)
    return segs if family.capabilities.regional else segs[:1]


def _variant(preset: RendererPreset, name: str) -> RendererPreset:
    """``preset`` (a local directory's) with the tiers, native size and token budgets of the
    shipped preset ``name``; its repo, weights and scheduler stay the directory's."""
    shipped = load_renderer_presets()[name]
    return dataclasses.replace(preset, tiers=shipped.tiers, native=shipped.native,
                               max_sequence_length=shipped.max_sequence_length,
                               region_tokens=shipped.region_tokens)


class DiffusionRenderer:
    """Renders Plans with one loaded diffusers pipeline (see the module docstring).

    Args:
        pipe: a text-to-image pipeline of the family (modules on any device, meta included).
        preset: sampling tiers, native size, token budgets.
        name: the preset's name (recorded as the renderer in metadata).
        options: rare knobs. font: a font file for the text layer.
        family: the family adapter; None → the preset's family.
    """

    digital_source_type = DIGITAL_SOURCE_TYPE

    def __init__(self, pipe, preset: RendererPreset, name: str,
                 options: DiffusionOptions | None = None, font: str | None = None,
                 family: Family | None = None):
        self.family = family or get_family(preset.family)
        self.pipes = Pipelines(pipe, self.family)
        self.preset = preset
        self.name = name
        self.options = options or DiffusionOptions()
        self.font = font
        self.device = str(pipe._execution_device)   # computed once: it walks every module

    @property
    def pipe(self):
        """The loaded text-to-image pipeline (every other pipeline shares its modules)."""
        return self.pipes.text2img

    @property
    def capabilities(self):
        return self.family.capabilities

    @classmethod
    def from_preset(cls, name: str, *, font: str | None = None,
                    **kwargs: Any) -> "DiffusionRenderer":
        """Load a preset (``sdxl``, ``flux-schnell``, ...), a preset YAML or a local pipeline
        directory (its family matched by its model_index.json, its tiers by its weights).

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
            preset_name, preset, family, local = _source(name)
            if load.loras and not family.capabilities.lora:
                raise RenderError(f"renderer {preset_name} ({family.key}) takes no LoRA "
                                  "weights; LoRA works with families: "
                                  f"{', '.join(_families_with('lora'))}")
            if preset.repo.endswith(".safetensors") and load.base is None:
                base = load_renderer_presets()[family.presets[0]].repo
                load = dataclasses.replace(load, base=base)
            pipe = load_pipeline(preset, load, preset_name,
                                 pipeline_class=family.loaded_pipeline,
                                 denoiser_spec=family.denoiser)
        except ModelError as e:
            if isinstance(e, RenderError):
                raise
            raise RenderError(str(e)) from None
        if local:
            preset = _variant(preset, family.variant_of(pipe, name))
        return cls(pipe, preset, preset_name, knobs, font=font, family=family)

    def tier(self, quality: str) -> Tier:
        """The preset's tier for ``quality`` with the ``steps`` override applied."""
        tier = self.preset.tier(quality)
        return dataclasses.replace(tier, steps=self.options.steps) if self.options.steps else tier

    @property
    def native(self) -> tuple[int, int]:
        return tuple(self.options.native or self.preset.native)  # type: ignore[return-value]

    def _guided(self, tier: Tier) -> bool:
        return self.family.guidance(tier, self.options)[0]

    def _common(self, tier: Tier, call: dict) -> dict:
        return dict(num_inference_steps=tier.steps, output_type="np",
                    **self.family.guidance(tier, self.options)[1], **call)

    def _embeds(self, texts: list[list[str]], tier: Tier, text_mode: str = "exact"
                ) -> tuple[Embeds, list[int]]:
        return encode_segments(self.pipe, self.family, texts, self.preset,
                               self._negative(text_mode), self._guided(tier), self.device)

    def _text_call(self, text: str, tier: Tier, text_mode: str = "exact") -> dict:
        """The call's conditioning on one prompt: its embeddings, or for a family whose
        pipeline encodes the prompt with its input images (``prompt_with_images``) the text
        itself, with the negative prompt when the call guides."""
        if not self.family.prompt_with_images:
            embeds, _ = self._embeds([[text]], tier, text_mode)
            return self.family.call_kwargs(embeds)
        call = {"prompt": text}
        if self._guided(tier):
            call["negative_prompt"] = self._negative(text_mode) or " "
        return call

    def _negative(self, text_mode: str) -> str:
        """The negative prompt; when the model draws the text itself, without the words
        that would steer it away from lettering."""
        from render.text_modes import effective_mode

        neg = self.options.negative_prompt
        if effective_mode(text_mode, self.capabilities.native_text) == "exact":
            return neg
        return ", ".join(w.strip() for w in neg.split(",")
                         if w.strip().lower() not in _TEXT_WORDS)

    def sample(self, inits: list["Image.Image"] | None, size: tuple[int, int], tier: Tier,
               call: dict, generators: list, layout: RegionLayout | None = None,
               references: Sequence["Image.Image"] = ()) -> "np.ndarray":
        """One batched sampling call: SDEdit from ``inits`` (families with img2img) or
        text-to-image; ``references`` go to the model natively (``references``).

        Returns:
            float ``(B, H, W, C)`` in [0, 1].
        """
        common = self._common(tier, call)
        use_init = (inits is not None and tier.strength < 1.0
                    and self.capabilities.img2img)
        if use_init and tier.steps * tier.strength < 1.0:
            raise RenderError(f"strength {tier.strength} x {tier.steps} steps runs no step: "
                              "raise steps or strength in the preset")
        net = denoiser(self.pipe)
        compiled = getattr(net, "_compiled_call_impl", None) is not None
        if layout is not None:
            # Every mask is built here, outside the denoiser's (possibly compiled) forward.
            items = len(generators)   # x2 where guidance batches the negative along
            batches = (items, 2 * items) if self._guided(tier) else (items,)
            masks = region_masks(net, layout, self.family.region_processor,
                                 self.family.region_grids(layout.latent_size), batches,
                                 net.dtype, net.device)
            if self.family.attention_kwargs:
                common[self.family.attention_kwargs] = {"region_masks": masks}
        with regional_attention(net, layout, self.family.region_processor,
                                persistent=compiled and bool(self.family.attention_kwargs)):
            if references:
                return self.family.reference_sample(self.pipes, inits if use_init else None,
                                                    references, size, tier.strength,
                                                    generators, common)
            if not use_init:
                return self.family.text2img(self.pipes, size, generators, common)
            return self.family.img2img(self.pipes, inits, size, tier.strength, generators,
                                       common)

    # --- references and edits by instruction ------------------------------------------------
    def references(self, options: RenderOptions) -> list["Image.Image"]:
        """The images the model takes natively for one render: the caller's references, then
        the first image's subject crops (``extra["subject_references"]``, consistent subjects
        across n images), at most ``capabilities.references``; [] for families without."""
        limit = self.capabilities.references
        if not limit:
            return []
        self.check_references(len(options.references))
        subjects = (options.extra or {}).get("subject_references") or {}
        crops = list(subjects.values()) if isinstance(subjects, dict) else list(subjects)
        # the caller's references all fit (checked); limner's own subject crops fill what is
        # left (the front door chooses them to fit and notes the subjects left out)
        return [*options.references, *crops][:limit]

    def check_references(self, count: int, edit: bool = False) -> None:
        """Refuse ``count`` caller references when the model takes fewer natively, before
        anything is sampled: a clear error naming the renderer and its limit (its family's
        ``capabilities.references``; an instruction edit reads the edited image and as many
        references, at most ``edit_images`` images in all where the family sets it), never
        a silent drop. A family that takes none (0) gets references through the Plan and
        the draft, not natively: nothing to check here.

        Raises:
            RenderError: ``param`` names the field (``image``: OpenAI's image[] list of an
            edit, ``references`` otherwise).
        """
        limit = self.capabilities.references
        if edit and self.family.edit_images:
            limit = min(limit, self.family.edit_images - 1)
        if count <= limit or (not limit and not edit):
            return
        who = f"renderer {self.name} ({self.family.key})"
        if edit:
            err = RenderError(
                f"{who} edits with at most {limit + 1} images (the edited image and {limit} "
                f"references); got the image and {count} references: pass at most {limit}"
                if limit else f"{who} edits one image and takes no references; got "
                f"{count}: pass none, or edit with a renderer that takes them")
            err.param = "image"     # the server's field: OpenAI's image[] list
        else:
            more = sorted(((get_family(k).capabilities.references, k) for k in
                           _families_with("references")), reverse=True)
            others = ", ".join(f"{k}: {n}" for n, k in more if n > limit)
            err = RenderError(
                f"{who} takes at most {limit} reference images natively; got {count}: pass at "
                f"most {limit}" + (f", or use a renderer that takes more ({others}; the draft "
                                   "draws up to 16)" if others else ""))
            err.param = "references"
        raise err

    def instruction_edit(self, image: "Image.Image", instruction: str,
                         options: RenderOptions | None = None) -> "Image.Image":
        """``image`` edited whole by ``instruction`` with the family's edit model (FLUX.1
        Kontext, ...): the front door sends global edits here (a restyle, a recolour of a
        photo). ``options.references`` go along natively; ``options.extra["seed"]`` seeds it
        and ``extra["quality"]`` picks the tier. Returns an RGB image of ``image``'s size.

        Raises:
            RenderError: the family has no instruction edit.
        """
        import torch
        from PIL import Image

        if not self.capabilities.instruction_edit:
            raise RenderError(f"renderer {self.name} ({self.family.key}) cannot edit by "
                              "instruction; families that can: "
                              f"{', '.join(_families_with('instruction_edit'))}")
        options = options or RenderOptions()
        extra = options.extra or {}
        self.check_references(len(options.references), edit=True)
        tier = self.tier(extra.get("quality", "auto"))
        common = self._common(tier, self._text_call(instruction, tier))
        size = generation_size(image.size, self.native)
        size = (max(16, size[0] // 16 * 16), max(16, size[1] // 16 * 16))
        refs = list(options.references)
        generator = torch.Generator("cpu").manual_seed(int(extra.get("seed", 0)))
        out = self.family.instruction_edit(self.pipes, image.convert("RGB"), refs, size,
                                           generator, common)
        edited = _to_pil(out[0])
        if edited.mode == "RGBA":     # a native-alpha family: the opaque edit on white
            edited = _flattened(edited)
        return edited.resize(image.size, Image.LANCZOS)

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
        if not self.family.draws_from_text:
            from render.families import FAMILIES

            drawers = [k for k in FAMILIES if get_family(k).draws_from_text]
            raise RenderError(
                f"renderer {self.name} ({self.family.key}) edits pictures and cannot draw one "
                f"from a prompt alone: edit an image with it (limner edit IMAGE "
                f"\"INSTRUCTION\" --renderer {self.name}), or generate with the draft or a "
                f"text-to-image family ({', '.join(drawers)})")
        images: list = [None] * len(plan_list)
        for group in self._groups(plan_list):
            for i, image in zip(group, self._render_group([plan_list[i] for i in group],
                                                         options)):
                images[i] = image
        return RenderResult(images=images, plans=plan_list, seeds=[p.seed for p in plan_list],
                            renderer=self.name)

    def _segments(self, plan: Plan, key_name: str | None = None, text_mode: str = "exact"
                  ) -> list[tuple]:
        """The family's conditioning of ``plan``; the global segment only when regional
        prompting is off or the family has none."""
        segs = self.family.conditioning(plan, key_name, text_mode=text_mode)
        return segs if self.options.regional and self.capabilities.regional else segs[:1]

    def _shape(self, plan: Plan) -> tuple:
        return (generation_size(plan.size, self.native), plan.quality, plan.transparent,
                len(self._segments(plan)))

    def _groups(self, plans: list[Plan]) -> list[list[int]]:
        """Indices of Plans that can share a batch (same size, tier, segment count), chunked
        to the memory budget."""
        by_shape: dict[tuple, list[int]] = {}
        for i, p in enumerate(plans):
            by_shape.setdefault(self._shape(p), []).append(i)
        out = []
        for shape, idx in by_shape.items():
            k = max_batch(self.family.gib_per_megapixel, shape[0], self.device,
                          self.options.memory_gb)
            out += [idx[j:j + k] for j in range(0, len(idx), k)]
        return out

    def _draft(self, plan: Plan, size: tuple[int, int], options: RenderOptions):
        """The draft render (no text) at ``size``, flattened to RGB."""
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
        keys = [key_for(p) if p.transparent and not self.capabilities.alpha else None
                for p in plans]
        keyed = [plan_on_key(p, k[0]) if k else p for p, k in zip(plans, keys)]
        mode = options.text_mode
        segments = [self._segments(p, k[1] if k else None, mode) for p, k in zip(plans, keys)]
        refs = self.references(options)
        if refs:   # the context image's tokens join the sequence: no regional masks then
            segments = [s[:1] for s in segments]
        embeds, lengths = self._embeds([[t for t, _, _ in s] for s in segments], tier, mode)
        scale = self.pipe.vae_scale_factor
        layout = (layout_for(segments, lengths, (size[1] // scale, size[0] // scale))
                  if len(lengths) > 1 else None)
        inits = ([self._draft(p, size, options) for p in keyed]
                 if self.options.draft_init and self.capabilities.img2img else None)
        generators = [torch.Generator("cpu").manual_seed(p.seed) for p in plans]
        arrays = self.sample(inits, size, tier, self.family.call_kwargs(embeds), generators,
                             layout, refs)
        return [self._finish(_to_pil(a), p, k, options) for a, p, k in zip(arrays, plans, keys)]

    def _finish(self, image: "Image.Image", plan: Plan, key, options: RenderOptions
                ) -> "Image.Image":
        """Sampled image → final: upscale to the Plan's size, key out the background, text
        (render/text_modes.py: the text engine draws what the model did not draw right; the
        per-text report goes to ``info["limner.texts"]`` as JSON)."""
        import json

        from render.keying import extract_alpha, trimap_background
        from render.text_modes import finish_texts

        if image.mode == "RGBA" and not plan.transparent:
            image = _flattened(image)    # a family with native alpha, an opaque Plan
        if image.size != plan.size:
            image = self.upscale(image, plan, options.text_mode)
        if key is not None:
            image = extract_alpha(image, key[0], trimap_background(plan, image.size))
        inpaint = (self._ring_inpaint(plan) if self.options.harmonise_inpaint and key is None
                   else None)
        out, report = finish_texts(image, plan, options.text_mode,
                                   self.capabilities.native_text,
                                   font=options.font or self.font, inpaint=inpaint)
        out = out if plan.transparent else out.convert("RGB")
        out.info["limner.texts"] = json.dumps(report, ensure_ascii=False)
        return out

    def upscale(self, image: "Image.Image", plan: Plan, text_mode: str = "exact"
                ) -> "Image.Image":
        """Resize to the Plan's size; when that is larger than sampled and the family has
        img2img, refine it with a tiled low-strength img2img (render/tiling.py) conditioned
        on the global prompt."""
        import numpy as np
        from PIL import Image

        from render.tiling import blend_tiles

        target = plan.size
        resized = image.resize(target, Image.LANCZOS)
        if target[0] * target[1] <= image.width * image.height or not self.capabilities.img2img:
            return resized
        tile = (min(self.native[0], target[0]), min(self.native[1], target[1]))
        tier = self.tier(plan.quality)
        tier = Tier(steps=max(tier.steps, int(np.ceil(1.0 / self.options.upscale_strength))),
                    guidance=tier.guidance, strength=self.options.upscale_strength)
        embeds, _ = self._embeds([[self._segments(plan, text_mode=text_mode)[0][0]]], tier,
                                 text_mode)
        one = self.family.call_kwargs(embeds)
        counter = iter(range(1 << 30))

        def refine(tiles: Sequence["np.ndarray"]) -> "np.ndarray":
            import torch

            gens = [torch.Generator("cpu").manual_seed(plan.seed * 7919 + next(counter))
                    for _ in tiles]
            out = self.sample([_to_pil(t) for t in tiles], tile, tier,
                              _repeat(one, len(tiles)), gens)
            # an opaque picture's tiles are RGB; a native-alpha family answers RGBA
            return out[..., :tiles[0].shape[-1]]

        batch = max_batch(self.family.gib_per_megapixel, tile, self.device,
                          self.options.memory_gb)
        overlap = int(min(tile) * self.options.tile_overlap)
        fused = blend_tiles(np.asarray(resized, dtype=np.float32) / 255.0, tile, overlap,
                            refine, batch)
        return _to_pil(fused)

    def _inpaint_call(self, image: "Image.Image", mask: "Image.Image", plan: Plan,
                      strength: float, steps: int, seed: int) -> "Image.Image":
        """The family's inpaint of ``mask`` (L) in ``image`` at ``image``'s size, conditioned
        on the Plan's global prompt."""
        import torch

        tier = dataclasses.replace(self.tier(plan.quality), steps=steps)
        common = self._common(tier, self._text_call(self._segments(plan)[0][0], tier))
        out = self.family.inpaint(self.pipes, image, mask, image.size, strength,
                                  torch.Generator("cpu").manual_seed(seed), common)
        return _to_pil(out[0])

    def _ring_inpaint(self, plan: Plan):
        """An ``(image, mask) -> image`` low-strength inpaint for the ring around the text,
        or None for families without inpainting or canvases above native size."""
        if (not self.capabilities.inpaint
                or plan.size[0] * plan.size[1] > self.native[0] * self.native[1]):
            return None
        steps = max(self.tier(plan.quality).steps, 4)

        def run(image: "Image.Image", mask: "np.ndarray") -> "Image.Image":
            import numpy as np
            from PIL import Image

            mask_image = Image.fromarray(mask.astype(np.uint8) * 255, "L")
            return self._inpaint_call(image, mask_image, plan, 0.3, steps, plan.seed + 1)

        return run

    def inpaint(self, image: "Image.Image", plan: Plan, mask: "Image.Image",
                options: RenderOptions) -> "Image.Image":
        """Redraw ``mask`` (L, 255 = redraw) of ``image`` to show ``plan`` (an edit).

        With inpainting: the init is the previous picture with the draft of the new Plan
        pasted into the mask (SDEdit's composition guide); the family inpaints a crop around
        the mask at most the native size (a larger crop is sampled downscaled), pasted back;
        then the text layer is drawn exactly. Without inpainting: the Plan rendered whole.
        The caller composites through the mask either way, so pixels outside it are kept.

        Returns:
            An RGB image of ``image``'s size.
        """
        import numpy as np
        from PIL import Image

        from render.edit import composite
        from render.harmonise import apply_text

        if not self.capabilities.inpaint:
            return self.render(plan, options).image.resize(image.size, Image.LANCZOS)
        size = plan.size    # multiples of 16, as the pipelines want
        canvas_mask = mask.resize(size, Image.NEAREST)
        init = composite(self._draft(plan, size, options),
                         image.convert("RGB").resize(size, Image.LANCZOS), canvas_mask)
        box = _crop_box(canvas_mask.getbbox() or (0, 0, *size), size)
        crop = (box[2] - box[0], box[3] - box[1])
        work = generation_size(crop, self.native)
        tier = self.tier(plan.quality)
        strength = max(tier.strength, 0.5) if tier.strength < 1.0 else 1.0
        drawn = self._inpaint_call(init.crop(box).resize(work, Image.LANCZOS),
                                   canvas_mask.crop(box).resize(work, Image.NEAREST), plan,
                                   strength, max(tier.steps, int(np.ceil(1.0 / strength))),
                                   plan.seed)
        out = init.copy()
        out.paste(drawn.resize(crop, Image.LANCZOS), box[:2])
        out = apply_text(out, plan, font=options.font or self.font)
        return out.convert("RGB").resize(image.size, Image.LANCZOS)


def _crop_box(bbox: tuple[int, int, int, int], size: tuple[int, int],
              multiple: int = 16) -> tuple[int, int, int, int]:
    """``bbox`` grown by a context margin (a quarter of its longer side, ≥ 32 px) and out to
    multiples of ``multiple``, inside a ``size`` canvas whose sides are such multiples."""
    x0, y0, x1, y1 = bbox
    pad = max(32, (max(x1 - x0, y1 - y0) + 3) // 4)
    x0, y0 = max(0, x0 - pad) // multiple * multiple, max(0, y0 - pad) // multiple * multiple
    x1 = min(size[0], -(-(x1 + pad) // multiple) * multiple)
    y1 = min(size[1], -(-(y1 + pad) // multiple) * multiple)
    return x0, y0, x1, y1
