"""The interface of a model family: one module per family, mostly data plus a few hooks.

A family module (``render/families/<key>.py``) defines one ``Family`` subclass and an
instance ``FAMILY``; the registry (``render/families/__init__.py``) imports it on first use.
Shared machinery (render/diffusion.py: draft init, tiling, keying, text layer, batching;
model/diffusion.py: loading) never asks which family it serves: it reads the data and the
capability flags below and calls the hooks.

Data (class attributes):
    key: the family key presets name (``family: sdxl`` in configs/renderers.yaml).
    pipelines: diffusers class names by kind, ``text2img``, ``img2img``, ``inpaint``,
        ``edit``; None = the family has no such pipeline. The loaded pipeline is the
        ``text2img`` one, or the ``edit`` one for a family that cannot draw from text alone
        (``loaded_pipeline``; Qwen-Image-Edit); the others are derived from it, sharing its
        modules (``Pipelines.get``), in the loaded dtype and device.
    components: ``model_index.json`` component -> exact class name (or a tuple of allowed
        names, None allowed for an optional component). A local directory matches a family
        when its ``_class_name`` is one of ``pipelines`` and every listed component matches
        exactly (InvokeAI's rule), and ``config_values`` hold.
    config_values: component -> {config key: value} the directory's config.json must hold.
    capabilities: ``Capabilities`` flags; the renderer checks these, never family names.
    presets: the configs/renderers.yaml presets of this family, base preset first;
        ``variant_of`` picks among them for a local directory or single file.
    gib_per_megapixel: activation memory per image per megapixel (GiB, half precision,
        guidance included); only sizes batches.
    region_tokenizer: the pipeline attribute of the tokenizer that sizes element segments
        (a T5's), None when element segments use the CLIP length.
    single_file_keys: see "Single-file checkpoints" below.
    prompt_with_images: the edit and inpaint pipelines encode the prompt together with the
        input images (a VL encoder reads both, as Qwen-Image-Edit's Qwen2.5-VL does): the
        renderer hands them the prompt text (``prompt``, ``negative_prompt``), not
        embeddings encoded without the images.
    edit_images: how many images one instruction edit reads at most, the edited one
        included (0: no limit but ``capabilities.references``); more is refused, naming it.
    attention_kwargs: the pipeline argument that reaches the attention processors
        (``cross_attention_kwargs``, ``joint_attention_kwargs``): region masks, built before
        sampling, travel there as tensors (a compiled denoiser is not recompiled for a new
        layout). None: the processors read the masks prepared in the layout.

Hooks (override only what differs; the defaults fit diffusers' usual pipelines):
    variant_of(pipe, source) -> preset name: the tier set read from what the weights are.
    conditioning(plan, key_name, text_mode) -> segments ``[(text, boxes, invert), ...]``,
        global first. ``text_mode`` (render/text_modes.py) tells a family with native text
        whether to ask for the quoted texts or for empty text areas; others ignore it.
        A regional family returns one segment per element; a family whose text encoder is
        an LLM returns ``[(structured_prompt, (), True)]``: one global segment.
    guidance(tier, options) -> (cfg, kwargs): whether the call reads a negative prompt
        (negative embeddings are encoded only then) and the guidance keyword arguments.
    encode(pipe, texts, max_len, device, region) -> Embeds of ``texts`` (positives; the
        negative prompt is encoded the same way by the caller). ``region``: element segments.
    trim_region(pipe, embeds, texts) -> Embeds: drop padding an element segment need not keep.
    negative(pipe, embeds, text) -> Embeds: adjust the negative embeddings (SDXL zeros an
        empty negative prompt).
    call_kwargs(embeds) -> pipeline keyword arguments carrying the embeddings.
    region_processor(module_name) -> a render/regional.py processor class for the attention
        module ``module_name`` of the denoiser, or None (not regional there).
    region_grids(latent_hw) -> the image-token grids those processors see.
    text2img / img2img / inpaint(pipes, ...) -> float arrays (B, H, W, C) in [0, 1].
    reference_sample(pipes, inits, references, ...): the sampling call when there are
        references (default: text2img/img2img as without; a family adds the references to
        ``common`` as its pipeline reads them, or calls another pipeline).
    instruction_edit(pipes, image, references, size, generator, common): a whole-image edit
        by the instruction encoded in ``common`` (``capabilities.instruction_edit``).

Single-file checkpoints: ``single_file_keys`` are tensor names (without the
``model.diffusion_model.`` prefix) that only this family's original checkpoints hold; the
file is loaded by diffusers' ``from_single_file`` with ``config=`` a local base pipeline.

Everything a hook needs (device, dtype) comes from the pipe; hooks read no tensor values
(``.item()``), so the render path also runs on the meta device (scripts/simulate_gpu.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    import numpy as np

    from model.diffusion import Tier
    from planner.schema import Plan


@dataclass(frozen=True)
class Capabilities:
    """What a family can do; the renderer branches on these flags only.

    regional: element prompts bound to boxes by attention masks (``region_processor``).
    img2img: SDEdit from the draft (``img2img`` hook); off → text-to-image, no draft init,
        canvases above native size are resized, not refined by tiles.
    inpaint: masked redraw (``inpaint`` hook); off → an edit renders the Plan whole and is
        composited through the mask.
    native_text: the model draws quoted text itself. references: how many reference images
        it takes natively (0: none). alpha: RGBA output natively (else keying).
    negative_prompt: its guidance reads a negative prompt by default.
    instruction_edit: an ``edit`` pipeline taking an image and an instruction.
    lora: ``load_lora_weights``/``set_adapters`` work. single_file: ``from_single_file``.
    """

    regional: bool = False
    img2img: bool = False
    inpaint: bool = False
    native_text: bool = False
    references: int = 0
    alpha: bool = False
    negative_prompt: bool = False
    instruction_edit: bool = False
    lora: bool = False
    single_file: bool = False


@dataclass
class Embeds:
    """Text conditioning of N prompts: tensors ``(N, tokens, D)`` (pooled ``(N, D)``);
    negatives None without classifier-free guidance."""

    tokens: Any
    mask: Any = None
    pooled: Any = None
    neg_tokens: Any = None
    neg_mask: Any = None
    neg_pooled: Any = None


class Pipelines:
    """The loaded text-to-image pipeline and, built on first use, the family's other
    pipelines sharing its modules (same dtype, same device)."""

    def __init__(self, pipe, family: "Family"):
        self.text2img = pipe
        self.family = family
        self._derived: dict[str, Any] = {}

    def get(self, kind: str):
        """The ``kind`` pipeline (``img2img``, ``inpaint``, ``edit``), None when the family
        has none (``text2img``: the loaded pipeline, whatever its kind)."""
        if kind == "text2img":
            return self.text2img
        if kind not in self._derived:
            name = self.family.pipelines.get(kind)
            if name == type(self.text2img).__name__:
                self._derived[kind] = self.text2img
            elif name is None:
                self._derived[kind] = None
            else:
                import diffusers

                from model.diffusion import derived_pipeline

                self._derived[kind] = derived_pipeline(self.text2img, getattr(diffusers, name))
        return self._derived[kind]


def _class_of(entry) -> str | None:
    """``["diffusers", "FluxTransformer2DModel"]`` -> its class name; null entries -> None."""
    if isinstance(entry, (list, tuple)) and len(entry) == 2:
        return entry[1]
    return None


class Family:
    """See the module docstring. Subclasses set the data and override the hooks that differ."""

    key: str = ""
    pipelines: dict[str, str | None] = {"text2img": None, "img2img": None, "inpaint": None,
                                        "edit": None}
    components: dict[str, Any] = {}
    config_values: dict[str, dict] = {}
    capabilities = Capabilities()
    presets: tuple[str, ...] = ()
    gib_per_megapixel: float = 2.0
    region_tokenizer: str | None = None
    single_file_keys: tuple[str, ...] = ()
    attention_kwargs: str | None = None
    prompt_with_images: bool = False
    edit_images: int = 0

    @property
    def loaded_pipeline(self) -> str:
        """The class a preset or directory is loaded as: the text-to-image pipeline, or the
        edit pipeline of a family without one (the other kinds derive from it)."""
        return self.pipelines.get("text2img") or self.pipelines["edit"]

    @property
    def draws_from_text(self) -> bool:
        """Whether the family makes an image from a prompt alone (a ``text2img`` pipeline)."""
        return self.pipelines.get("text2img") is not None

    def region_grids(self, latent_hw: tuple[int, int]) -> list[tuple[int, int]]:
        """The ``(h, w)`` image-token grids the denoiser's region processors see for a
        latent of ``latent_hw``: by default the latent and three halvings (a UNet's levels;
        rounding up like a stride-2 conv)."""
        h, w = latent_hw
        out = []
        for _ in range(4):
            out.append((h, w))
            h, w = (h + 1) // 2, (w + 1) // 2
        return out

    @property
    def denoiser(self) -> tuple[str, str]:
        """``(pipeline attribute, class name)`` of the network that runs every step."""
        name = "unet" if "unet" in self.components else "transformer"
        return name, self.components[name]

    def matches_checkpoint(self, keys: set[str]) -> bool:
        """Whether a single-file checkpoint (its tensor names, without the
        ``model.diffusion_model.`` prefix) holds this family's denoiser."""
        return (self.capabilities.single_file and bool(self.single_file_keys)
                and all(k in keys for k in self.single_file_keys))

    # --- what a directory holds --------------------------------------------------------
    def matches(self, index: dict, path: Path) -> bool:
        """Whether a pipeline directory (its parsed ``model_index.json``) is this family."""
        if index.get("_class_name") not in {c for c in self.pipelines.values() if c}:
            return False
        for name, want in self.components.items():
            allowed = want if isinstance(want, tuple) else (want,)
            if _class_of(index.get(name)) not in allowed:
                return False
        for name, values in self.config_values.items():
            config = path / name / "config.json"
            if not config.is_file():
                return False
            held = json.loads(config.read_text(encoding="utf-8"))
            if any(held.get(k) != v for k, v in values.items()):
                return False
        return True

    def variant_of(self, pipe, source: str) -> str:
        """The preset whose tiers fit these weights (``source``: the directory or file)."""
        return self.presets[0]

    # --- the Plan as conditioning ------------------------------------------------------
    def conditioning(self, plan: "Plan", key_name: str | None = None,
                     text_mode: str = "exact") -> list[tuple[str, tuple, bool]]:
        from render.prompts import prompt_segments

        return prompt_segments(plan, key_name)

    def guidance(self, tier: "Tier", options: Any) -> tuple[bool, dict]:
        """``(reads a negative prompt, guidance kwargs)`` for one call."""
        cfg = self.capabilities.negative_prompt and tier.guidance > 1.0
        return cfg, {"guidance_scale": tier.guidance}

    def encode(self, pipe, texts: list[str], max_len: int | None, device,
               region: bool = False) -> Embeds:
        raise NotImplementedError(f"family {self.key} defines no encode")

    def trim_region(self, pipe, e: Embeds, texts: list[str]) -> Embeds:
        return e

    def negative(self, pipe, e: Embeds, text: str) -> Embeds:
        return e

    def call_kwargs(self, e: Embeds) -> dict:
        kw = dict(prompt_embeds=e.tokens, pooled_prompt_embeds=e.pooled)
        if e.neg_tokens is not None:
            kw.update(negative_prompt_embeds=e.neg_tokens,
                      negative_pooled_prompt_embeds=e.neg_pooled)
        return kw

    def region_processor(self, module_name: str):
        return None

    # --- sampling ------------------------------------------------------------------------
    def text2img(self, pipes: Pipelines, size: tuple[int, int], generators: list,
                 common: dict) -> "np.ndarray":
        w, h = size
        return pipes.text2img(height=h, width=w, generator=generators, **common).images

    def img2img(self, pipes: Pipelines, images: Sequence, size: tuple[int, int],
                strength: float, generators: list, common: dict) -> "np.ndarray":
        w, h = size
        return pipes.get("img2img")(image=list(images), strength=strength, height=h, width=w,
                                    generator=generators, **common).images

    def inpaint(self, pipes: Pipelines, image, mask, size: tuple[int, int], strength: float,
                generator, common: dict) -> "np.ndarray":
        w, h = size
        return pipes.get("inpaint")(image=image, mask_image=mask, strength=strength,
                                    height=h, width=w, generator=generator, **common).images

    def reference_sample(self, pipes: Pipelines, inits: Sequence | None,
                         references: Sequence, size: tuple[int, int], strength: float,
                         generators: list, common: dict) -> "np.ndarray":
        """One sampling call that gives the model ``references`` (PIL images, at most
        ``capabilities.references``) natively: SDEdit from ``inits`` when given, else
        text-to-image. By default the usual calls; a family overrides it to add the
        references to ``common`` the way its pipeline reads them (FLUX.2: ``image=[...]``) or
        to call another pipeline (Kontext)."""
        if inits is None:
            return self.text2img(pipes, size, generators, common)
        return self.img2img(pipes, inits, size, strength, generators, common)

    def instruction_edit(self, pipes: Pipelines, image, references: Sequence,
                         size: tuple[int, int], generator, common: dict) -> "np.ndarray":
        """The whole of ``image`` edited as the instruction encoded in ``common`` says, at
        ``size``; ``references`` go along natively (at most ``capabilities.references``).
        Only families with ``capabilities.instruction_edit`` define it."""
        raise NotImplementedError(f"family {self.key} has no instruction edit")

    def __repr__(self) -> str:
        return f"<family {self.key}>"


def vae_encode(pipe, images: Sequence, generators: list):
    """VAE latents of ``images`` (sampled with each item's generator), scaled for the
    denoiser: for families that run SDEdit without an img2img pipeline."""
    import torch

    vae = pipe.vae
    # fp16 SDXL-style VAEs overflow when encoding (their config says force_upcast): encode in
    # float32 as diffusers' own img2img pipelines do, then return to half precision.
    upcast = vae.dtype == torch.float16 and getattr(vae.config, "force_upcast", False)
    half = vae.dtype
    if upcast:
        vae.to(torch.float32)
    try:
        x = pipe.image_processor.preprocess(list(images)).to(vae.device, vae.dtype)
        with torch.no_grad():
            latents = torch.cat([vae.encode(x[i:i + 1]).latent_dist.sample(generator=g)
                                 for i, g in enumerate(generators)])
    finally:
        if upcast:
            vae.to(half)
    latents = latents.to(half)
    shift = getattr(vae.config, "shift_factor", None) or 0.0
    return (latents - shift) * vae.config.scaling_factor
