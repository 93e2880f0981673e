"""Real model sizes without a GPU: every family built on torch's meta device.

Each entry of configs/architectures.yaml is built at its published size with
``with torch.device("meta")`` (shapes and dtypes, no weights, no memory), then run with meta
tensors through
  * the bare diffusers call (``pipe(prompt=..., height, width, steps, guidance)``, text encoding,
    sampling and VAE decode included), and
  * limner's whole render path (Plan → encode → regional layout → SDEdit sampler → VAE decode →
    finish), with and without regional prompting, at 1024² and one 4K tiled render;
  * for the entries whose edit pipeline it knows (``EDIT_BY_HAND``: Qwen-Image-Edit-2511,
    which is edit-only and has no text-to-image limner rows, and FLUX.1 Kontext), limner's
    edit path against the same edits by hand: a whole-image instruction edit of a picture
    with 0 and 2 references, and a masked region edit (the limner-edit rows).
It prints per family: parameters and weight bytes in the preset's dtype; FLOPs per image
(torch.utils.flop_counter.FlopCounterMode); peak live activation bytes (a dispatch-mode tracker
of live tensor storage: weights excluded, everything the run allocates included); a predicted
H200 time from a stated roofline; and which offload each card size needs.

What is patched, in this script only (never in the product code), because meta tensors hold no
values:
  * tokenizers → ``MetaTokenizer``: right-length id tensors (length estimated from the words,
    see ``estimate_tokens``), no vocabulary. The text encoders then run for real on meta.
  * ``torch.nn.functional.scaled_dot_product_attention`` → the fused kernels a GPU runs
    (flash attention without a mask, memory-efficient attention with one): on meta the math
    fallback would materialise every (S x S) score matrix, which an H200 never does. Same
    FLOPs; the memory is what the GPU allocates.
  * ``VaeImageProcessor.pt_to_numpy`` → zeros of the right shape for meta tensors (numpy needs
    values), so limner's code after the sampler (upscale, keying, text layer) runs on a blank
    image of the real size.
  * the pipelines' value checks on masks: boolean masking (``x[mask]``) keeps every element
    (torch's ``meta_nonzero_assume_all_nonzero``), a one-element boolean meta tensor is True
    (``if mask.all():``), and Qwen's ``_extract_masked_hidden`` keeps every row whole — all
    exact for MetaTokenizer's all-ones masks.
  * Qwen-Image-Edit's prompt encoding with images (``meta_vl_prompt``): the VL processor
    needs the real vocabulary, so the images are sized as the processor sizes them, run
    through the vision tower, and the language model runs over the estimated prompt tokens
    plus the images' merged tokens.
  * ``torch.autocast(device_type="meta")`` (no such autocast state) is opened for the CPU.
  * the scheduler runs on the CPU (its timesteps and sigmas are values); the denoiser
    receives its timestep moved to meta; ``add_noise`` on meta latents (it looks the step up
    by value) is an elementwise sum of the same shape.
  * limner's path gets what limner's loader does on a CUDA device: VAE slicing on. Its batch
    memory budget is limner's default off CUDA (8 GiB; on a GPU it is 80% of free memory).
  * Repeated calls of the denoiser and the VAE with the same input shapes are run once and
    replayed: the first call is counted op by op, later calls add the same FLOPs and the same
    activation peak on top of what is live at that moment (costs do not depend on values).

Usage:
  python3 scripts/simulate_gpu.py                 # every family, a table
  python3 scripts/simulate_gpu.py --family flux-dev --json
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import json
import math
import re
import sys
import time
import weakref
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# --- the roofline ------------------------------------------------------------------------
# NVIDIA H200 SXM: 989 TFLOP/s dense BF16/FP16 tensor-core peak, 4.8 TB/s HBM3e, 141 GB.
H200_TFLOPS = 989.0
H200_TBPS = 4.8
COMPUTE_EFFICIENCY = 0.40   # share of peak FLOP/s a diffusion step sustains (assumed)
MEMORY_EFFICIENCY = 0.80    # share of peak HBM bandwidth when a call is weight-bound (assumed)
CARDS_GB = (24, 48, 80)
CUDA_OVERHEAD_GB = 1.5      # CUDA context, allocator slack, cuBLAS workspaces (assumed)

PROMPT = ('a poster of a red fox sitting next to a blue bird on a wooden bench in an autumn '
          'park, with the title "AUTUMN" at the top')
NEGATIVE = "text, letters, watermark, blurry, deformed"

_DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2}


# --- counting: FLOPs (torch's counter) and live activation bytes (our tracker) -------------

class LiveBytes:
    """A TorchDispatchMode that tracks the bytes of live tensor storage created inside it.

    Every tensor an op returns is registered under its storage; a storage counts until the
    last tensor registered on it is garbage. Tensors that existed before (the weights) are
    never counted. ``peak`` is the high-water mark of ``live``.
    """

    def __init__(self):
        from torch.utils._python_dispatch import TorchDispatchMode

        tracker = self

        class _Mode(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                out = func(*args, **(kwargs or {}))
                tracker._register(out)
                return out

        self.mode = _Mode()
        self.live = 0
        self.peak = 0
        self._storages: dict[int, list[int]] = {}

    def _register(self, out) -> None:
        import torch
        from torch.utils._pytree import tree_flatten

        for t in tree_flatten(out)[0]:
            if not isinstance(t, torch.Tensor):
                continue
            storage = t.untyped_storage()
            key = storage._cdata
            entry = self._storages.get(key)
            if entry is None:
                entry = self._storages[key] = [storage.nbytes(), 0]
                self.live += entry[0]
            entry[1] += 1
            weakref.finalize(t, self._release, key)
        self.peak = max(self.peak, self.live)

    def _release(self, key: int) -> None:
        entry = self._storages.get(key)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] == 0:
            self.live -= entry[0]
            del self._storages[key]

    def bump(self, transient: int) -> None:
        """A replayed call: its own peak above what is live now."""
        self.peak = max(self.peak, self.live + transient)


class Meter:
    """FLOPs, live bytes and roofline seconds of one run."""

    def __init__(self):
        from torch.utils.flop_counter import FlopCounterMode

        self.flops = FlopCounterMode(display=False)
        self.bytes = LiveBytes()
        self.seconds = 0.0       # roofline time of replayed/recorded module calls
        self.module_flops = 0    # FLOPs already covered by ``seconds``
        self.calls: dict[str, int] = {}
        self.call_flops: dict[str, int] = {}

    def __enter__(self):
        self.bytes.mode.__enter__()
        self.flops.__enter__()
        return self

    def __exit__(self, *exc):
        self.flops.__exit__(*exc)
        self.bytes.mode.__exit__(*exc)

    @property
    def total_flops(self) -> int:
        return self.flops.get_total_flops()

    def add_flops(self, counts: dict) -> None:
        glob = self.flops.flop_counts["Global"]
        for op, n in counts.items():
            glob[op] += n

    def predicted_seconds(self) -> float:
        """Roofline: module calls at max(compute, weight reads); everything else compute."""
        rest = max(0, self.total_flops - self.module_flops)
        return self.seconds + rest / (H200_TFLOPS * 1e12 * COMPUTE_EFFICIENCY)


_METER: Meter | None = None
DEBUG = False


def roofline(flops: float, weight_bytes: float) -> float:
    return max(flops / (H200_TFLOPS * 1e12 * COMPUTE_EFFICIENCY),
               weight_bytes / (H200_TBPS * 1e12 * MEMORY_EFFICIENCY))


def memoize_forward(module, name: str) -> None:
    """Run ``module.forward`` once per distinct input signature, replay it after (see the
    module docstring). Outputs must be tensors or tuples/lists/dicts/BaseOutputs of tensors."""
    import torch
    from torch.utils._pytree import tree_flatten, tree_map

    inner = module.forward
    weight_bytes = sum(p.numel() * p.element_size() for p in module.parameters())
    memo: dict = {}

    def signature(args, kwargs):
        leaves = tree_flatten((args, kwargs))[0]
        return tuple((tuple(x.shape), x.dtype) if isinstance(x, torch.Tensor)
                     else (x if isinstance(x, (int, float, str, bool, type(None))) else type(x))
                     for x in leaves) + (tuple(sorted(kwargs)), _processor_state(module))

    def forward(*args, **kwargs):
        # The scheduler lives on the CPU (see cpu_timesteps): its timesteps join the meta run.
        args, kwargs = tree_map(lambda x: x.to("meta") if isinstance(x, torch.Tensor)
                                and x.device.type == "cpu" else x, (args, kwargs))
        meter = _METER
        if meter is None:
            return inner(*args, **kwargs)
        key = signature(args, kwargs)
        meter.calls[name] = meter.calls.get(name, 0) + 1
        if key in memo:
            flops, transient, spec = memo[key]
            meter.add_flops(flops)
            meter.call_flops[name] = meter.call_flops.get(name, 0) + sum(flops.values())
            meter.bytes.bump(transient)
            meter.seconds += roofline(sum(flops.values()), weight_bytes)
            meter.module_flops += sum(flops.values())
            return tree_map(lambda s: torch.empty(s.shape, dtype=s.dtype, device="meta")
                            if isinstance(s, _Spec) else s, spec)
        before = dict(meter.flops.flop_counts["Global"])
        live0, peak0 = meter.bytes.live, meter.bytes.peak
        meter.bytes.peak = live0
        out = inner(*args, **kwargs)
        transient = meter.bytes.peak - live0
        meter.bytes.peak = max(peak0, meter.bytes.peak)
        after = meter.flops.flop_counts["Global"]
        flops = {op: n - before.get(op, 0) for op, n in after.items() if n - before.get(op, 0)}
        total = sum(flops.values())
        meter.call_flops[name] = meter.call_flops.get(name, 0) + total
        meter.seconds += roofline(total, weight_bytes)
        meter.module_flops += total
        leaves = tree_flatten(out)[0]
        if all(isinstance(x, torch.Tensor) or x is None for x in leaves):
            memo[key] = (flops, transient, tree_map(
                lambda x: _Spec(tuple(x.shape), x.dtype) if isinstance(x, torch.Tensor) else x,
                out))
        return out

    module.forward = forward


@dataclasses.dataclass(frozen=True)
class _Spec:
    shape: tuple
    dtype: Any


def _processor_state(module) -> tuple:
    """Which attention processors are installed (regional or not): part of the memo key."""
    procs = getattr(module, "attn_processors", None)
    if not isinstance(procs, dict):
        return ()
    return tuple(sorted({type(p).__name__ for p in procs.values()}))


# --- meta stand-ins for what needs values ---------------------------------------------------

def estimate_tokens(text: str) -> int:
    """Sub-word tokens of ``text``: 1.3 per word or punctuation mark (a BPE/unigram average
    for English), plus 2 special tokens. No vocabulary ships here, so this is an estimate."""
    return math.ceil(1.3 * len(re.findall(r"\w+|[^\w\s]", text))) + 2


class MetaTokenizer:
    """Stands in for a tokenizer: ids and masks of the right length (zeros), no vocabulary."""

    def __init__(self, model_max_length: int = 512, pad_to_max: bool = True):
        self.model_max_length = model_max_length
        self.pad_to_max = pad_to_max
        self.pad_token_id = 0
        self.eos_token_id = 1
        self.bos_token_id = 0
        self.padding_side = "right"
        self.chat_template = None

    def __len__(self):
        return 32000

    def __call__(self, text=None, text_pair=None, padding=False, truncation=None,
                 max_length=None, return_tensors=None, add_special_tokens=True,
                 return_attention_mask=True, return_length=False, **kwargs):
        import torch
        from transformers import BatchEncoding

        texts = [text] if isinstance(text, str) else list(text or [""])
        lengths = [estimate_tokens(t) if add_special_tokens else estimate_tokens(t) - 2
                   for t in texts]
        if truncation and (max_length or self.model_max_length):
            cap = max_length or self.model_max_length
            lengths = [min(n, cap) for n in lengths]
        if padding == "max_length" and self.pad_to_max:
            width = max_length or self.model_max_length
        elif padding in (True, "longest"):
            width = max(lengths)
        elif return_tensors is None:       # lists, flat for one string (as HF tokenizers)
            ids, mask = [[0] * n for n in lengths], [[1] * n for n in lengths]
            if isinstance(text, str):
                ids, mask = ids[0], mask[0]
            return BatchEncoding({"input_ids": ids, "attention_mask": mask})
        else:
            width = max(lengths)
        ids = torch.zeros(len(texts), width, dtype=torch.long)
        mask = (torch.arange(width)[None] < torch.tensor(lengths)[:, None]).long()
        enc = {"input_ids": ids, "attention_mask": mask}
        if return_length:
            enc["length"] = torch.tensor(lengths)
        return BatchEncoding(enc)

    added_tokens_encoder: dict = {}

    def tokenize(self, text, **kwargs):
        return re.findall(r"\w+|[^\w\s]", text)

    def batch_decode(self, ids, **kwargs):
        return ["" for _ in ids]

    def decode(self, ids, **kwargs):
        return ""

    @property
    def tokenizer(self):     # a processor's tokenizer: itself
        return self

    def encode(self, text, **kwargs):
        return [0] * max(1, estimate_tokens(text) - 2)

    def apply_chat_template(self, messages, tokenize=False, return_dict=True, **kwargs):
        if isinstance(messages, dict):
            messages = [messages]

        def words(content):
            if isinstance(content, list):
                return " ".join(str(c.get("text", "")) for c in content if isinstance(c, dict))
            return str(content)

        text = " ".join(words(m.get("content", "")) for m in messages if isinstance(m, dict))
        if not tokenize:
            return text
        if not return_dict:
            return [[0] * estimate_tokens(text)]
        return self(text, return_tensors=kwargs.get("return_tensors"))


@contextlib.contextmanager
def meta_patches():
    """The script-only patches listed in the module docstring."""
    import numpy as np
    import torch
    import torch.nn.functional as F
    from diffusers.image_processor import VaeImageProcessor

    orig_sdpa = F.scaled_dot_product_attention
    orig_np = VaeImageProcessor.pt_to_numpy

    def sdpa(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
             enable_gqa=False):
        if query.device.type != "meta":
            return orig_sdpa(query, key, value, attn_mask=attn_mask, dropout_p=dropout_p,
                             is_causal=is_causal, scale=scale, enable_gqa=enable_gqa)
        if key.shape[-3] != query.shape[-3]:           # grouped-query attention
            rep = query.shape[-3] // key.shape[-3]
            key = key.repeat_interleave(rep, dim=-3)
            value = value.repeat_interleave(rep, dim=-3)
        shape = query.shape
        q, k, v = (x.reshape(-1, *x.shape[-3:]) if x.dim() != 4 else x
                   for x in (query, key, value))
        if attn_mask is None:
            out = torch.ops.aten._scaled_dot_product_flash_attention(
                q, k, v, is_causal=is_causal, scale=scale)[0]
        else:
            if attn_mask.dtype == torch.bool:   # the kernel takes an additive bias
                attn_mask = torch.zeros(attn_mask.shape, dtype=q.dtype, device=q.device)
            while attn_mask.dim() < 4:
                attn_mask = attn_mask.unsqueeze(0)
            bias = attn_mask.expand(q.shape[0], q.shape[1], q.shape[2], k.shape[2])
            out = torch.ops.aten._scaled_dot_product_efficient_attention(
                q, k, v, bias, False, is_causal=is_causal, scale=scale)[0]
        return out.reshape(*shape[:-1], value.shape[-1])

    def pt_to_numpy(images):
        if images.device.type == "meta":
            b, c, h, w = images.shape
            return np.zeros((b, h, w, c), dtype=np.float32)
        return orig_np(images)

    from transformers import masking_utils

    skips = {name: getattr(masking_utils, name) for name in
             ("_ignore_bidirectional_mask_sdpa", "_ignore_causal_mask_sdpa")
             if hasattr(masking_utils, name)}

    def keep_meta_mask(orig):
        def check(padding_mask, *args, **kwargs):
            if padding_mask is not None and padding_mask.device.type == "meta":
                return False      # cannot read it: keep the mask (the conservative case)
            return orig(padding_mask, *args, **kwargs)
        return check

    import torch.fx.experimental._config as fx_config

    orig_bool = torch.Tensor.__bool__

    def truth(self):
        if self.device.type == "meta" and self.dtype == torch.bool and self.numel() == 1:
            return True     # ``if mask.all():`` — every MetaTokenizer mask is all ones
        return orig_bool(self)

    torch.Tensor.__bool__ = truth
    orig_autocast = torch.autocast

    def autocast(device_type, *args, **kwargs):     # no autocast state exists for meta
        return orig_autocast("cpu" if device_type == "meta" else device_type, *args, **kwargs)

    torch.autocast = autocast
    nonzero = fx_config.meta_nonzero_assume_all_nonzero
    fx_config.meta_nonzero_assume_all_nonzero = True   # masks are all ones (MetaTokenizer)
    F.scaled_dot_product_attention = sdpa
    torch.nn.functional.scaled_dot_product_attention = sdpa
    VaeImageProcessor.pt_to_numpy = staticmethod(pt_to_numpy)
    for name, orig in skips.items():
        setattr(masking_utils, name, keep_meta_mask(orig))
    try:
        yield
    finally:
        torch.Tensor.__bool__ = orig_bool
        torch.autocast = orig_autocast
        fx_config.meta_nonzero_assume_all_nonzero = nonzero
        F.scaled_dot_product_attention = orig_sdpa
        VaeImageProcessor.pt_to_numpy = staticmethod(orig_np)
        for name, orig in skips.items():
            setattr(masking_utils, name, orig)


# --- building a pipeline on meta ------------------------------------------------------------

def build_pipeline(arch, *, layers: dict | None = None, pipeline: str | None = None):
    """The architecture's pipeline with every module on meta in the preset's dtype.

    Args:
        arch: a model.architectures.Architecture.
        layers: optional config overrides applied to every component that has the key (the
            smoke test shrinks depth with it).
        pipeline: the diffusers class to build (default: ``simulated_by``, else the entry's
            pipeline); the edit rows build the entry's own edit pipeline.
    """
    import inspect

    import diffusers
    import torch

    from model.architectures import component_class

    dtype = getattr(torch, arch.dtype)
    modules = {}
    with torch.device("meta"):
        for name, comp in arch.components.items():
            cls = component_class(comp.cls)
            values = _with_layers(dict(comp.config), layers or {})
            config_class = getattr(cls, "config_class", None)
            if config_class is not None and hasattr(config_class, "model_type"):
                model = cls(config_class(**values))
            else:
                model = cls(**values)
            modules[name] = model.to(dtype).eval()
    pipe_cls = getattr(diffusers, pipeline or arch.simulated_by or arch.pipeline)
    params = inspect.signature(pipe_cls.__init__).parameters
    kwargs: dict[str, Any] = {}
    for pname in params:
        if pname == "self":
            continue
        if pname in modules:
            kwargs[pname] = modules[pname]
        elif pname.startswith("tokenizer") or pname == "processor":
            kwargs[pname] = MetaTokenizer(*_tokenizer_policy(
                arch, "tokenizer" if pname == "processor" else pname))
        elif pname == "scheduler" and arch.scheduler is not None:
            kwargs[pname] = component_class(arch.scheduler.cls)(**arch.scheduler.config)
        elif params[pname].default is inspect.Parameter.empty:
            kwargs[pname] = None
    pipe = pipe_cls(**kwargs)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _with_layers(values: dict, layers: dict) -> dict:
    """``values`` with every key of ``layers`` it holds replaced, in nested sub-configs too
    (a VLM's ``text_config`` / ``vision_config``)."""
    return {k: (layers[k] if k in layers else
                _with_layers(dict(v), layers) if isinstance(v, dict) else v)
            for k, v in values.items()}


def _tokenizer_policy(arch, pname: str) -> tuple[int, bool]:
    """(model_max_length, pad_to_max) of a tokenizer: CLIP 77 and T5 512 are padded to their
    length (the denoiser reads every padded position); LLM encoders (Qwen, Mistral) are not:
    their pipelines keep only the unmasked tokens, which meta cannot select by value, so the
    tokenizer returns only those tokens (all-ones masks)."""
    enc = arch.components.get(pname.replace("tokenizer", "text_encoder"))
    cls = enc.cls if enc is not None else ""
    if cls.startswith("CLIP"):
        return 77, True
    return 512, cls.startswith(("T5", "UMT5"))


def denoiser(pipe):
    return pipe.unet if getattr(pipe, "unet", None) is not None else pipe.transformer


def instrument(pipe) -> None:
    """Memoize the modules that run many times with the same shapes; keep the scheduler's
    timesteps on the CPU (schedulers copy sigmas back to the CPU, which meta cannot do)."""
    cpu_timesteps(type(pipe.scheduler))
    meta_masked_hidden(type(pipe))
    meta_vl_prompt(type(pipe))
    meta_unpack_with_ids(type(pipe))
    meta_image_slots(type(denoiser(pipe)))
    cpu_sigmas(type(pipe))
    memoize_forward(denoiser(pipe), "denoiser")
    for name, module in pipe.components.items():
        second = name.endswith("transformer") and module is not denoiser(pipe)
        if (name.startswith("text_encoder") or second) and hasattr(module, "forward"):
            memoize_forward(module, name)      # Ideogram 4's unconditional_transformer too
    vae = pipe.vae
    for part in ("encoder", "decoder"):
        sub = getattr(vae, part, None)
        if sub is not None:
            memoize_forward(sub, f"vae.{part}")


def cpu_timesteps(cls) -> None:
    """Make ``cls.set_timesteps`` put its tensors on the CPU when asked for meta."""
    orig = cls.set_timesteps
    if getattr(orig, "_meta_cpu", False):
        return

    @functools.wraps(orig)   # keeps the signature: pipelines inspect it for ``sigmas``
    def set_timesteps(self, *args, **kwargs):
        if str(kwargs.get("device")) == "meta":
            kwargs["device"] = "cpu"
        return orig(self, *args, **kwargs)

    set_timesteps._meta_cpu = True
    cls.set_timesteps = set_timesteps
    add_noise = getattr(cls, "add_noise", None)
    if add_noise is not None:
        @functools.wraps(add_noise)
        def noised(self, original_samples, noise, timesteps, *args, **kwargs):
            if original_samples.device.type == "meta":   # finds the step by value: same shape
                return original_samples + noise
            return add_noise(self, original_samples, noise, timesteps, *args, **kwargs)

        cls.add_noise = noised


def meta_masked_hidden(pipe_cls) -> None:
    """Qwen pipelines split the encoder's states by the attention mask's values
    (``_extract_masked_hidden``: ``mask.sum().tolist()``). With MetaTokenizer's all-ones masks
    every row keeps all its tokens, so on meta the split is the rows themselves. Patched on
    every class of the pipeline's package (img2img/inpaint/edit siblings included)."""
    import importlib
    import pkgutil

    package = pipe_cls.__module__.rsplit(".", 1)[0]
    pkg = importlib.import_module(package)
    for info in pkgutil.iter_modules(getattr(pkg, "__path__", [])):
        try:
            module = importlib.import_module(f"{package}.{info.name}")
        except Exception:   # optional dependencies of a sibling pipeline
            continue
        for obj in vars(module).values():
            orig = vars(obj).get("_extract_masked_hidden") if isinstance(obj, type) else None
            if orig is None or getattr(orig, "_meta", False):
                continue

            static = isinstance(orig, staticmethod)

            def split(*args, _orig=orig):
                hidden_states = args[-2]     # (self,) hidden_states, mask
                if hidden_states.device.type == "meta":
                    return list(hidden_states.unbind(0))
                return _orig(*args)    # off meta the pipeline's own (an instance method)

            split._meta = True
            setattr(obj, "_extract_masked_hidden", staticmethod(split) if static else split)


def meta_vl_prompt(pipe_cls) -> None:
    """Qwen-Image-Edit pipelines encode the instruction together with the input images
    (``_get_qwen_prompt_embeds(prompt, image)``): the Qwen2-VL processor turns each image into
    patches and the prompt into ids with one ``<|image_pad|>`` per merged patch, which needs
    the real vocabulary, and Qwen2.5-VL then places the vision features by the ids' values.
    On meta (an image given, the encoder on meta) the same work is done by shape: each image
    is sized as the processor sizes it (``smart_resize`` to multiples of patch x merge), its
    patches run through the vision tower (grid values on the CPU, as the model computes
    them), and the language model runs over the prompt's estimated tokens plus every image's
    merged tokens (3D M-RoPE position ids of that length). The prompt's template tokens
    before ``prompt_template_encode_start_idx`` are dropped as the pipeline drops them. Calls
    without images (text-to-image rows) are untouched. Patched on every class of the
    pipeline's package, like ``meta_masked_hidden``."""
    import importlib
    import inspect
    import pkgutil

    _vision_devices()
    package = pipe_cls.__module__.rsplit(".", 1)[0]
    pkg = importlib.import_module(package)
    for info in pkgutil.iter_modules(getattr(pkg, "__path__", [])):
        try:
            module = importlib.import_module(f"{package}.{info.name}")
        except Exception:
            continue
        for obj in vars(module).values():
            orig = vars(obj).get("_get_qwen_prompt_embeds") if isinstance(obj, type) else None
            if (orig is None or getattr(orig, "_meta", False)
                    or "image" not in inspect.signature(orig).parameters):
                continue

            def embeds(self, prompt=None, image=None, device=None, dtype=None, _orig=orig):
                if image is None or self.text_encoder.device.type != "meta":
                    return _orig(self, prompt, image, device, dtype)
                return _meta_vl_embeds(self, prompt, image, dtype)

            embeds._meta = True
            setattr(obj, "_get_qwen_prompt_embeds", embeds)


def _meta_vl_embeds(pipe, prompt, image, dtype):
    import torch
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import smart_resize

    enc = pipe.text_encoder
    dtype = dtype or enc.dtype
    vc = enc.config.vision_config
    images = image if isinstance(image, list) else [image]
    prompts = [prompt] if isinstance(prompt, str) else list(prompt)
    grids = []
    for im in images:
        w, h = im.size if hasattr(im, "size") and not callable(im.size) else \
            (im.shape[-1], im.shape[-2])
        rh, rw = smart_resize(h, w, factor=vc.patch_size * vc.spatial_merge_size)
        grids.append((1, rh // vc.patch_size, rw // vc.patch_size))
    grid = torch.tensor(grids)
    patches = int(grid.prod(-1).sum())
    pixels = torch.empty(patches, vc.in_channels * vc.temporal_patch_size * vc.patch_size ** 2,
                         device="meta", dtype=enc.dtype)
    vision = enc.model.visual(pixels, grid_thw=grid).pooler_output     # (merged tokens, D)
    # "Picture i: <|vision_start|> ... <|vision_end|>" per image, then the instruction
    text = estimate_tokens(pipe.prompt_template_encode.format(
        "".join(f"Picture {i + 1}: " for i in range(len(images))) + prompts[0])) + \
        2 * len(images)
    length = text + vision.shape[0]
    words = enc.get_input_embeddings()(torch.zeros(len(prompts), text, dtype=torch.long,
                                                   device="meta"))
    seq = torch.cat([words, vision.to(words.dtype)[None].expand(len(prompts), -1, -1)], dim=1)
    pos = torch.zeros(3, len(prompts), length, dtype=torch.long, device="meta")
    out = enc.model.language_model(inputs_embeds=seq, position_ids=pos,
                                   output_hidden_states=True)
    hidden = out.hidden_states[-1][:, pipe.prompt_template_encode_start_idx:]
    mask = torch.ones(hidden.shape[:2], dtype=torch.long, device="meta")
    return hidden.to(dtype), mask


def _vision_devices() -> None:
    """Qwen2.5-VL's vision tower computes its rotary positions and window order from the
    grid's values (on the CPU): on meta they are moved to the features' device before use
    (a no-op off meta)."""
    from transformers.models.qwen2_5_vl import modeling_qwen2_5_vl as m

    rot = m.Qwen2_5_VLVisionRotaryEmbedding
    if getattr(rot.forward, "_meta", False):
        return
    rot_forward = rot.forward
    permute = m.Qwen2_5_VisionTransformerPretrainedModel.permute_input_for_window_attn

    def forward(self, x, position_ids):
        return rot_forward(self, x, position_ids.to(x.device))

    def permuted(self, input_tensor, window_index, seq_len):
        return permute(self, input_tensor, window_index.to(input_tensor.device), seq_len=seq_len)

    forward._meta = True
    rot.forward = forward
    m.Qwen2_5_VisionTransformerPretrainedModel.permute_input_for_window_attn = permuted


def meta_image_slots(denoiser_cls) -> None:
    """Qwen-Image-2.1's transformer lays its joint sequence out by the values of ``img_mask``
    (True at the encoder's image slots, one per 2x2 target tokens): ``repeat_interleave`` by
    it, ``tolist()`` for the RoPE positions, ``nonzero`` for the block ids. On meta the mask
    is rebuilt on the CPU from what is known without values: the text positions (every
    MetaTokenizer position is text) and, at the end, the target image's slots (its
    ``img_shapes``). Exact for text-to-image, which is all this script calls (no condition
    images). Its modulation-row selection then gets the CPU mask moved to meta."""
    import importlib

    import torch

    forward = vars(denoiser_cls).get("forward")
    if denoiser_cls.__name__ != "QwenImage21Transformer2DModel" or getattr(forward, "_meta",
                                                                           False):
        return
    module = importlib.import_module(denoiser_cls.__module__)

    @functools.wraps(forward)
    def slotted(self, *args, img_mask=None, img_shapes=None, **kwargs):
        if img_mask is not None and img_mask.device.type == "meta":
            if len(img_shapes[0]) != 1:
                raise NotImplementedError("meta image slots: condition images not simulated")
            slots = math.prod(img_shapes[0][-1]) // 4
            cpu = torch.zeros(img_mask.shape, dtype=torch.bool)
            cpu[:, -slots:] = True
            img_mask = cpu
        return forward(self, *args, img_mask=img_mask, img_shapes=img_shapes, **kwargs)

    slotted._meta = True
    denoiser_cls.forward = slotted
    select = module._select_modulation_rows

    def rows(params, target_token_mask):
        if target_token_mask is not None and params.device != target_token_mask.device:
            target_token_mask = target_token_mask.to(params.device)
        return select(params, target_token_mask)

    module._select_modulation_rows = rows


_GRIDS: dict[int, tuple[int, int]] = {}


def cpu_sigmas(pipe_cls) -> None:
    """Ideogram 4 computes its logit-normal sigma schedule on the execution device and reads
    it back (``.tolist()``): compute it on the CPU (same values; a schedule, not a tensor the
    model runs on)."""
    import importlib

    module = importlib.import_module(pipe_cls.__module__)
    orig = getattr(module, "_logit_normal_sigmas", None)
    if orig is None or getattr(orig, "_meta_cpu", False):
        return

    def sigmas(*args, device=None, **kwargs):
        return orig(*args, device="cpu", **kwargs)

    sigmas._meta_cpu = True
    module._logit_normal_sigmas = sigmas


def meta_unpack_with_ids(pipe_cls) -> None:
    """FLUX.2 scatters its output tokens back to the grid by their position ids' values
    (``_unpack_latents_with_ids``). On meta: the same (B, C, h, w) shape, with the grid
    remembered when the latents were packed (``_pack_latents``) for that token count."""
    orig = vars(pipe_cls).get("_unpack_latents_with_ids")
    pack = vars(pipe_cls).get("_pack_latents")
    if orig is None or getattr(orig, "_meta", False):
        return
    inner = orig.__func__ if isinstance(orig, staticmethod) else orig

    def unpack(x, x_ids, *grid):
        if x.device.type != "meta" or grid:   # a given (h, w) needs no value of the ids
            return inner(x, x_ids, *grid)
        b, seq, ch = x.shape
        side = math.isqrt(seq)
        h, w = _GRIDS.get(seq, (side, seq // max(side, 1)))
        if h * w != seq:
            raise ValueError(f"meta unpack: no grid known for {seq} tokens")
        return x.transpose(1, 2).reshape(b, ch, h, w)

    unpack._meta = True
    setattr(pipe_cls, "_unpack_latents_with_ids", staticmethod(unpack))
    if isinstance(pack, staticmethod):
        pack_inner = pack.__func__

        def packed(latents):
            _GRIDS[latents.shape[-2] * latents.shape[-1]] = tuple(latents.shape[-2:])
            return pack_inner(latents)

        setattr(pipe_cls, "_pack_latents", staticmethod(packed))


def weight_bytes(pipe) -> dict[str, int]:
    out = {}
    for name, comp in pipe.components.items():
        if hasattr(comp, "parameters"):
            out[name] = sum(p.numel() * p.element_size() for p in comp.parameters())
    return out


def param_counts(pipe) -> dict[str, int]:
    return {name: sum(p.numel() for p in comp.parameters())
            for name, comp in pipe.components.items() if hasattr(comp, "parameters")}


# --- the runs -------------------------------------------------------------------------------

@dataclasses.dataclass
class Run:
    flops: int
    peak: int
    seconds: float
    calls: dict
    per_call: dict
    error: str | None = None


def measure(fn: Callable[[], Any]) -> Run:
    """FLOPs, peak live bytes and roofline seconds of ``fn()`` (errors are reported)."""
    import gc

    import torch

    global _METER
    gc.collect()
    meter = Meter()
    _METER = meter
    error = None
    try:
        with torch.no_grad(), meter_patches(), meter:
            fn()
    except Exception as e:   # a shape or memory bug at real size: report it, keep going
        error = f"{type(e).__name__}: {e}"[:400]
        if DEBUG:
            import traceback

            traceback.print_exc()
    finally:
        _METER = None
    per_call = {k: meter.call_flops.get(k, 0) / n / 1e12 for k, n in meter.calls.items() if n}
    return Run(meter.total_flops, meter.bytes.peak, meter.predicted_seconds(), meter.calls,
               per_call, error)


meter_patches = meta_patches


def preset_of(name: str, arch) -> str | None:
    """The renderers.yaml preset of an entry: its ``preset``, else a preset of the same name
    (family engineers add presets as their adapters land), else None."""
    from model.diffusion import load_renderer_presets

    presets = load_renderer_presets()
    if arch.preset:
        return arch.preset
    return name if name in presets else None


def sampling_of(arch) -> tuple[int, float, tuple[int, int]]:
    """(steps, guidance, native size) of the architecture: its preset's medium tier."""
    if arch.preset:
        from model.diffusion import load_renderer_presets

        preset = load_renderer_presets()[arch.preset]
        tier = preset.tier("medium")
        return tier.steps, tier.guidance, tuple(preset.native)
    s = arch.sampling
    return s.steps, s.guidance, tuple(s.size)


def bare_call(pipe, arch, size: tuple[int, int]) -> Callable[[], Any]:
    """The plain diffusers call a user would write: prompt in, decoded image out."""
    import inspect

    import torch

    steps, guidance, _ = sampling_of(arch)
    params = inspect.signature(pipe.__call__).parameters
    kwargs: dict[str, Any] = dict(prompt=PROMPT, height=size[1], width=size[0],
                                  num_inference_steps=steps, output_type="pt",
                                  generator=torch.Generator("cpu").manual_seed(0))
    kwargs.update(call_options(params, arch, guidance))
    if "image" in params and params["image"].default is inspect.Parameter.empty or \
            arch.pipeline.endswith("KontextPipeline"):
        from PIL import Image

        kwargs["image"] = Image.new("RGB", size)   # an edit model's input picture
    if "use_resolution_binning" in params:
        kwargs["use_resolution_binning"] = False
    return lambda: pipe(**kwargs)


def guidance_kwargs(params, arch, guidance: float) -> dict:
    """Guidance as the pipeline takes it: true CFG (``true_cfg_scale`` + a negative prompt,
    two passes per step) for the Qwen pipelines, else ``guidance_scale`` (classifier-free for
    SDXL/SD3/PixArt with a negative prompt; embedded for FLUX)."""
    out: dict = {}
    embedded = bool(arch_denoiser_config(arch).get("guidance_embeds"))
    if "true_cfg_scale" in params and not embedded:
        out["true_cfg_scale"] = guidance
        if guidance > 1.0:
            out["negative_prompt"] = NEGATIVE
        return out
    schedule = params.get("guidance_schedule")
    if schedule is not None and schedule.default is not None:
        return out        # Ideogram 4: its default per-step schedule is the published call
    if "guidance_scale" in params:
        out["guidance_scale"] = guidance
    if "negative_prompt" in params and guidance > 1.0 and not embedded:
        out["negative_prompt"] = NEGATIVE
    return out


def arch_denoiser_config(arch) -> dict:
    for name in ("transformer", "unet"):
        if name in arch.components:
            return arch.components[name].config
    return {}


def call_options(params, arch, guidance: float) -> dict:
    """Guidance and text length as the pipeline (``params``: its call signature) takes them:
    every by-hand call is given the preset's ``max_sequence_length``, as limner uses it."""
    out = guidance_kwargs(params, arch, guidance)
    msl = max_sequence_length(arch)
    if msl and "max_sequence_length" in params:
        out["max_sequence_length"] = msl
    return out


def max_sequence_length(arch) -> int | None:
    """The preset's text length (limner uses it; the bare call is given the same)."""
    if not arch.preset:
        return None
    from model.diffusion import load_renderer_presets

    return load_renderer_presets()[arch.preset].max_sequence_length


def bare_tiles(pipe, arch, size: tuple[int, int], native: tuple[int, int]) -> Callable:
    """The same 4K job done by hand with diffusers: a native render, then tiled img2img with
    limner's tile grid, strength and step count (what limner's upscale does, bare)."""
    import inspect

    import numpy as np
    import torch
    from PIL import Image

    from render.tiling import tile_starts

    steps, guidance, _ = sampling_of(arch)
    strength, overlap = 0.3, int(min(native) * 0.25)
    steps = max(steps, int(np.ceil(1.0 / strength)))
    xs = tile_starts(size[0], native[0], overlap)
    ys = tile_starts(size[1], native[1], overlap)
    i2i = _img2img(pipe)
    params = inspect.signature(i2i.__call__).parameters if i2i is not None else {}
    options = call_options(params, arch, guidance)

    def run():
        bare_call(pipe, arch, native)()
        if i2i is None:
            return
        tile = Image.new("RGB", native)
        for _ in range(len(xs) * len(ys)):
            kw: dict[str, Any] = dict(prompt=PROMPT, image=tile, strength=strength,
                                      num_inference_steps=steps, output_type="pt",
                                      generator=torch.Generator("cpu").manual_seed(0))
            kw.update(options)
            if "height" in params:   # else some img2img pipelines (Qwen-Image's) resize the
                kw.update(height=native[1], width=native[0])   # tile to their 1024² default
            i2i(**kw)

    return run


def _img2img(pipe):
    """The family's img2img pipeline over the same modules (same dtype), or None."""
    import diffusers

    name = type(pipe).__name__.replace("Pipeline", "Img2ImgPipeline")
    cls = getattr(diffusers, name, None)
    if cls is None:
        return None
    dtype = denoiser(pipe).dtype
    other = cls.from_pipe(pipe, torch_dtype=dtype)
    other.set_progress_bar_config(disable=True)
    return other


# --- limner's path --------------------------------------------------------------------------

def make_plan(size: tuple[int, int]):
    """The Plan limner's rules planner makes of PROMPT at ``size``."""
    from limner.api import Limner

    return Limner().plan(PROMPT, size=f"{size[0]}x{size[1]}", seed=1, quality="medium")


def limner_renderer(pipe, arch, regional: bool):
    """limner's renderer around the meta pipeline, as ``Limner(renderer=...)`` builds it."""
    from model.diffusion import resolve_preset
    from render.diffusion import DiffusionOptions, DiffusionRenderer

    name, preset = resolve_preset(arch.preset)
    return DiffusionRenderer(pipe, preset, name, DiffusionOptions(regional=regional))


def limner_call(pipe, arch, size: tuple[int, int], regional: bool) -> Callable:
    """Plan the prompt at ``size`` and render it through limner (planning does no torch op,
    so building it inside the measured call changes no figure)."""
    vae = getattr(pipe, "vae", None)
    if hasattr(vae, "enable_slicing"):
        vae.enable_slicing()       # what limner's loader does on a CUDA device

    def run():
        renderer = limner_renderer(pipe, arch, regional)
        renderer.render([make_plan(size)])

    return run


# --- limner's edit path ---------------------------------------------------------------------
# An edit-only family (Qwen-Image-Edit-2511) cannot render a Plan from text; its rows are
# edits of a size x size picture: a whole-image instruction edit with 0 and 2 references
# (limner: the shared renderer's ``instruction_edit``; by hand: the edit pipeline called with
# the picture and the references), and one masked region edit (limner: the photo edit path,
# which plans the instruction inside the mask and inpaints a crop around it; by hand: the
# inpaint pipeline over the whole picture with the mask, the same steps and strength).

EDIT_INSTRUCTION = "make it watercolor"
REGION_INSTRUCTION = "add a yellow star"
# The pipelines whose by-hand edits this script knows: the inpaint class over the same
# modules, and how the pipeline reads several images: as a list (Qwen-Image-Edit), or as one
# context image (FLUX.1 Kontext: by hand the images are set side by side, as Kontext's users
# do; the pipeline then sizes it to its preferred ~1 MP).
EDIT_BY_HAND = {"QwenImageEditPlusPipeline": ("QwenImageEditInpaintPipeline", "list"),
                "FluxKontextPipeline": ("FluxKontextInpaintPipeline", "one")}


def stitched(images):
    """``images`` left to right at the first one's height (what a Kontext user passes)."""
    from PIL import Image

    h = images[0].height
    widths = [round(im.width * h / im.height) for im in images]
    row = Image.new("RGB", (sum(widths), h), (255, 255, 255))
    x = 0
    for im, w in zip(images, widths):
        row.paste(im.resize((w, h)), (x, 0))
        x += w
    return row


def edit_inputs(size: tuple[int, int]):
    """(picture, two references of other aspect ratios, OpenAI-style RGBA mask with a
    transparent centre square of a third of the side, the same as an L mask)."""
    from PIL import Image

    w, h = size
    picture = Image.new("RGB", size, (120, 140, 160))
    refs = [Image.new("RGB", (w * 3 // 4, h), (250, 200, 0)),
            Image.new("RGB", (w, h * 3 // 4), (0, 90, 200))]
    box = (w // 3, h // 3, 2 * w // 3, 2 * h // 3)
    rgba = Image.new("RGBA", size, (0, 0, 0, 255))
    rgba.paste((0, 0, 0, 0), box)
    gray = Image.new("L", size, 0)
    gray.paste(255, box)
    return picture, refs, rgba, gray


def limner_edit_call(pipe, arch, size: tuple[int, int], n_refs: int) -> Callable:
    """limner's whole-image instruction edit of a ``size`` picture with ``n_refs`` references."""
    from render.base import RenderOptions

    picture, refs, _, _ = edit_inputs(size)

    def run():
        renderer = limner_renderer(pipe, arch, regional=False)
        renderer.instruction_edit(picture, EDIT_INSTRUCTION,
                                  RenderOptions(references=tuple(refs[:n_refs]),
                                                extra={"seed": 0, "quality": "medium"}))

    return run


def bare_edit_call(pipe, arch, size: tuple[int, int], n_refs: int) -> Callable:
    """The same edit by hand: the edit pipeline with the picture and the references."""
    import inspect

    import torch

    picture, refs, _, _ = edit_inputs(size)
    steps, guidance, _ = sampling_of(arch)
    params = inspect.signature(pipe.__call__).parameters
    images = [picture, *refs[:n_refs]]
    reads = EDIT_BY_HAND[type(pipe).__name__][1]
    kwargs: dict[str, Any] = dict(prompt=EDIT_INSTRUCTION,
                                  image=images if reads == "list" else stitched(images),
                                  height=size[1], width=size[0], num_inference_steps=steps,
                                  output_type="pt",
                                  generator=torch.Generator("cpu").manual_seed(0))
    kwargs.update(call_options(params, arch, guidance))
    return lambda: pipe(**kwargs)


def limner_region_call(pipe, arch, size: tuple[int, int]) -> Callable:
    """limner's masked edit of a picture without a Plan (limner/photo.py: planned inside the
    mask, the renderer inpaints a crop around it, composited through the mask)."""
    import io

    from limner.photo import edit_picture
    from render.base import RenderOptions

    picture, _, rgba, _ = edit_inputs(size)
    buf = io.BytesIO()
    rgba.save(buf, "PNG")

    def run():
        renderer = limner_renderer(pipe, arch, regional=False)
        edit_picture(renderer, picture, REGION_INSTRUCTION, mask=buf.getvalue(),
                     options=RenderOptions(extra={"quality": "medium"}), seed=0)

    return run


def bare_region_call(pipe, arch, size: tuple[int, int]) -> Callable:
    """The same region edit by hand: the inpaint pipeline over the whole picture with the
    mask, at the preset's steps and limner's strength for a masked edit."""
    import inspect

    import diffusers
    import torch

    picture, _, _, gray = edit_inputs(size)
    steps, guidance, _ = sampling_of(arch)
    cls = getattr(diffusers, EDIT_BY_HAND[type(pipe).__name__][0])
    inpaint = cls.from_pipe(pipe, torch_dtype=denoiser(pipe).dtype)
    inpaint.set_progress_bar_config(disable=True)
    from model.diffusion import load_renderer_presets

    strength = load_renderer_presets()[arch.preset].tier("medium").strength
    strength = max(strength, 0.5) if strength < 1.0 else 1.0     # as limner's inpaint
    params = inspect.signature(inpaint.__call__).parameters
    kwargs: dict[str, Any] = dict(prompt=REGION_INSTRUCTION, image=picture, mask_image=gray,
                                  height=size[1], width=size[0], strength=strength,
                                  num_inference_steps=steps, output_type="pt",
                                  generator=torch.Generator("cpu").manual_seed(0))
    kwargs.update(call_options(params, arch, guidance))
    return lambda: inpaint(**kwargs)


def simulate_edits(arch, fresh: Callable, size: tuple[int, int]) -> dict:
    """The edit rows of an entry: ``{case: {flops_bare, flops_limner, peak_bytes_*,
    predicted_s_h200_*, ratio_flops, ratio_peak, errors}}``."""
    cases = {"edit_0refs": (lambda p: bare_edit_call(p, arch, size, 0),
                            lambda p: limner_edit_call(p, arch, size, 0)),
             "edit_2refs": (lambda p: bare_edit_call(p, arch, size, 2),
                            lambda p: limner_edit_call(p, arch, size, 2)),
             "region": (lambda p: bare_region_call(p, arch, size),
                        lambda p: limner_region_call(p, arch, size))}
    out = {}
    for case, (bare, lim) in cases.items():
        row: dict[str, Any] = {"errors": {}}
        for tag, make in (("bare", bare), ("limner", lim)):
            run = measure(make(fresh()))
            row[f"flops_{tag}"] = run.flops
            row[f"peak_bytes_{tag}"] = run.peak
            row[f"predicted_s_h200_{tag}"] = run.seconds
            row[f"calls_{tag}"] = run.calls
            if run.error:
                row["errors"][tag] = run.error
        if row["flops_bare"] and row["flops_limner"]:
            row["ratio_flops"] = row["flops_limner"] / row["flops_bare"]
        if row["peak_bytes_bare"] and row["peak_bytes_limner"]:
            row["ratio_peak"] = row["peak_bytes_limner"] / row["peak_bytes_bare"]
        out[case] = row
    return out


# --- per family -----------------------------------------------------------------------------

def offload_advice(weights: dict[str, int], peak: int) -> dict[str, str]:
    """none / model / sequential per card size.

    none: every module resident + peak activations + overhead fit. model
    (enable_model_cpu_offload): the largest module + peak activations fit (one module on the
    GPU at a time). sequential: otherwise (weights stream layer by layer).
    """
    total = sum(weights.values())
    largest = max(weights.values()) if weights else 0
    out = {}
    for gb in CARDS_GB:
        budget = gb * 1e9 - CUDA_OVERHEAD_GB * 1e9
        if total + peak <= budget:
            out[f"{gb}GB"] = "none"
        elif largest + peak <= budget:
            out[f"{gb}GB"] = "model"
        else:
            out[f"{gb}GB"] = "sequential"
    return out


def draws_from_text(arch) -> bool:
    """Whether the entry's limner family renders a Plan from text (an edit-only family does
    not: its limner rows are the edit rows)."""
    from model.diffusion import load_renderer_presets
    from render.families import get_family

    return get_family(load_renderer_presets()[arch.preset].family).draws_from_text


def simulate(name: str, arch, *, layers: dict | None = None, size=(1024, 1024),
             big=(3840, 2160), limner: bool = True, tiled: bool = True,
             edits: bool = True) -> dict:
    """Every measurement of one family; returns the JSON object.

    Each measurement gets a freshly built meta pipeline, so a run that changes a module
    (dtype, device, processors) cannot leak into the next one.
    """
    t0, c0 = time.time(), time.process_time()
    preset = preset_of(name, arch)
    if preset != arch.preset:
        arch = dataclasses.replace(arch, preset=preset)

    def fresh():
        pipe = build_pipeline(arch, layers=layers)
        instrument(pipe)
        return pipe

    pipe = fresh()
    counts = param_counts(pipe)
    wbytes = weight_bytes(pipe)
    steps, guidance, native = sampling_of(arch)
    res: dict[str, Any] = dict(family=name, repo=arch.repo, dtype=arch.dtype,
                               params=sum(counts.values()), params_by_module=counts,
                               weight_bytes=sum(wbytes.values()), weight_bytes_by_module=wbytes,
                               steps=steps, guidance=guidance, size=list(size))
    errors = {}

    def record(tag: str, run: Run) -> None:
        suffix = "" if tag == "bare" else f"_{tag}"
        res[f"flops_{tag}"] = run.flops
        res[f"peak_bytes_{tag}"] = run.peak
        res[f"predicted_s_h200{suffix}"] = run.seconds
        res[f"calls_{tag}"] = run.calls
        res[f"denoiser_tflop_per_call_{tag}"] = run.per_call.get("denoiser")
        if run.error:
            errors[tag] = run.error

    record("bare", measure(bare_call(pipe, arch, size)))
    res["predicted_s_h200_bare"] = res.pop("predicted_s_h200")
    has_limner = limner and arch.preset is not None
    if has_limner and not draws_from_text(arch):
        has_limner = False
        res.update(flops_limner=None, flops_limner_noregional=None, peak_bytes_limner=None,
                   peak_bytes_limner_noregional=None,
                   predicted_s_h200=res["predicted_s_h200_bare"],
                   limner_path="edit-only (no text-to-image): see the limner-edit rows")
    if limner and edits and arch.preset is not None and arch.pipeline in EDIT_BY_HAND:
        def fresh_edit():
            pipe = build_pipeline(arch, layers=layers, pipeline=arch.pipeline)
            instrument(pipe)
            return pipe

        res["edits"] = simulate_edits(arch, fresh_edit, size)
        for case, row in res["edits"].items():
            for tag, err in row["errors"].items():
                errors[f"{case}_{tag}"] = err
    if has_limner:
        record("limner", measure(limner_call(fresh(), arch, size, regional=True)))
        record("limner_noregional", measure(limner_call(fresh(), arch, size, regional=False)))
        res["predicted_s_h200"] = res["predicted_s_h200_limner"]
    else:
        res.setdefault("limner_path", "not simulated: no limner preset/adapter for this "
                                      "family yet (bare diffusers call only)")
        res.update(flops_limner=None, flops_limner_noregional=None, peak_bytes_limner=None,
                   peak_bytes_limner_noregional=None,
                   predicted_s_h200=res["predicted_s_h200_bare"])
    if tiled and has_limner:   # the 4K comparison is limner's tiled path against the same by hand
        if _img2img(pipe) is not None:
            record("bare_4k", measure(bare_tiles(fresh(), arch, big, native)))
        else:
            res["bare_4k"] = "no img2img pipeline in diffusers: no tiled job by hand to compare"
        record("limner_4k", measure(limner_call(fresh(), arch, big, regional=True)))
    for a, b in (("flops_limner", "flops_bare"), ("flops_limner_noregional", "flops_bare"),
                 ("peak_bytes_limner", "peak_bytes_bare"),
                 ("peak_bytes_limner_noregional", "peak_bytes_bare"),
                 ("flops_limner_4k", "flops_bare_4k"), ("peak_bytes_limner_4k", "peak_bytes_bare_4k"),
                 ("denoiser_tflop_per_call_limner", "denoiser_tflop_per_call_bare"),
                 ("denoiser_tflop_per_call_limner_noregional", "denoiser_tflop_per_call_bare")):
        if res.get(a) and res.get(b):
            res[f"ratio_{a}"] = res[a] / res[b]
    if res.get("peak_bytes_bare"):
        res["measured_gib_per_megapixel_bare"] = round(
            res["peak_bytes_bare"] / 2 ** 30 / (size[0] * size[1] / 1e6), 2)
    peak = max(res.get(k) or 0 for k in ("peak_bytes_bare", "peak_bytes_limner"))
    res["offload"] = offload_advice(wbytes, peak)
    res["errors"] = errors
    res["notes"] = arch.notes
    res["sim_seconds"] = round(time.time() - t0, 1)
    res["sim_cpu_seconds"] = round(time.process_time() - c0, 1)
    return res


# --- autoregressive families -------------------------------------------------------------
# generate() does not run on meta (it samples by value), so what it does is simulated step by
# step with the generator's own modules: one prefill forward over the prompt (+ template)
# into an empty KV cache, then one decode forward per image code: the sampled code's
# embedding (a table lookup, then the family's step_input module if any) through the decoder
# stack against a cache of the right length, and the head over image codes. A decode step's
# FLOPs are affine in the cache length L (attention reads L keys, the rest is fixed), so the
# first and the last step are measured with FlopCounterMode and the N steps integrated exactly
# as N * (first + last) / 2; the middle step is measured too and reported as the check of
# that line. Each step's time is max(compute, reads of the decoder/head weights + its KV
# cache) on the roofline (decode is weight-bound), summed over every L.

def _path(obj, dotted: str):
    return functools.reduce(getattr, dotted.split("."), obj)


def _step_module_width(module) -> int:
    """Input width of ``module``'s first linear layer (what a code's embedding has)."""
    import torch

    return next(m.in_features for m in module.modules() if isinstance(m, torch.nn.Linear))


def kv_cache(config, batch: int, length: int, dtype):
    """A transformers DynamicCache already holding ``length`` positions (meta tensors)."""
    import torch
    from transformers import DynamicCache

    cache = DynamicCache(config=config)
    hd = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    for i in range(config.num_hidden_layers):
        k = torch.empty(batch, config.num_key_value_heads, length, hd, device="meta",
                        dtype=dtype)
        cache.update(k, torch.empty_like(k), i)
    return cache


def kv_bytes(config, batch: int, length: int, dtype_bytes: int) -> int:
    hd = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    return 2 * config.num_hidden_layers * batch * config.num_key_value_heads * hd * length \
        * dtype_bytes


def ar_forward(gen, spec, tokens: int, cached: int, dtype) -> Callable[[], Any]:
    """One forward of the generator: ``tokens`` new positions (the prompt, or 1 code) after
    ``cached`` positions already in the KV cache, the head over the last position. The cache
    is filled inside the run, so the measured peak holds it."""
    import inspect

    import torch

    lm = _path(gen, spec.language_model)
    head = _path(gen, spec.head)
    step = _path(gen, spec.step_input) if spec.step_input and cached else None
    config = lm.config
    cache_arg = "cache" if "cache" in inspect.signature(lm.forward).parameters \
        else "past_key_values"

    def run():
        cache = kv_cache(config, spec.batch, cached, dtype)
        if step is not None:      # (B, 1, code embedding) -> (B, 1, hidden)
            x = step(torch.empty(spec.batch, tokens, _step_module_width(step), device="meta",
                                 dtype=dtype))
        else:                     # token embeddings: a lookup, no FLOPs
            x = torch.empty(spec.batch, tokens, config.hidden_size, device="meta", dtype=dtype)
        pos = torch.empty(spec.batch, tokens, device="meta", dtype=torch.long)
        out = lm(inputs_embeds=x, position_ids=pos, use_cache=True, **{cache_arg: cache})
        head(out.last_hidden_state[:, -1:])
        return cache

    return run


def ar_decoder_call(arch, gen, size: tuple[int, int]) -> Callable[[], Any]:
    """What turns the codes into pixels: the family's pipeline given the codes (GLM-Image's
    diffusion decoder: glyph encoder, DiT steps with guidance, VAE decode), or, for a model
    that holds its own image decoder (Janus-Pro's VQ decoder), that decoder."""
    import torch

    spec = arch.generator
    if len(arch.components) == 1:
        return lambda: gen.decode_image_tokens(
            torch.empty(1, spec.new_tokens, dtype=torch.long, device="meta"))
    pipe = build_pipeline(arch)
    instrument(pipe)
    steps, guidance, _ = sampling_of(arch)
    w, h = size
    grid = (h // 16) * (w // 16)   # the codes upsampled 2x to the decoder's 16 px grid
    return lambda: pipe(prompt=PROMPT, height=h, width=w, num_inference_steps=steps,
                        guidance_scale=guidance, output_type="np",
                        prior_token_ids=torch.empty(1, grid, dtype=torch.long, device="meta"))


def simulate_ar(name: str, arch) -> dict:
    """An autoregressive family at its preset's native size (see the section comment)."""
    import torch

    from model.architectures import component_class

    t0, c0 = time.time(), time.process_time()
    spec = arch.generator
    dtype = getattr(torch, arch.dtype)
    nbytes = _DTYPE_BYTES[arch.dtype]
    steps, guidance, size = sampling_of(arch)
    comp = arch.components[spec.component]
    cls = component_class(comp.cls)
    with torch.device("meta"):
        gen = cls(cls.config_class(**comp.config)).to(dtype).eval()
    counts = {spec.component: sum(p.numel() for p in gen.parameters())}
    if len(arch.components) > 1:
        pipe = build_pipeline(arch)
        counts = param_counts(pipe)
        gen = getattr(pipe, spec.component)
    weights = {k: n * nbytes for k, n in counts.items()}
    lm = _path(gen, spec.language_model)
    streamed = sum(p.numel() * p.element_size() for m in (lm, _path(gen, spec.head))
                   for p in m.parameters())      # read once per decode step
    prompt = estimate_tokens(PROMPT) + spec.prompt_overhead
    n = spec.new_tokens
    errors = {}

    def run(tag, fn) -> Run:
        r = measure(fn)
        if r.error:
            errors[tag] = r.error
        return r

    prefill = run("prefill", ar_forward(gen, spec, prompt, 0, dtype))
    first = run("decode_first", ar_forward(gen, spec, 1, prompt, dtype))
    middle = run("decode_middle", ar_forward(gen, spec, 1, prompt + (n - 1) // 2, dtype))
    last = run("decode_last", ar_forward(gen, spec, 1, prompt + n - 1, dtype))
    decode_flops = n * (first.flops + last.flops) / 2
    per_len = (last.flops - first.flops) / max(1, n - 1)     # FLOPs per cached position
    linear_check = (first.flops + per_len * ((n - 1) // 2)) / middle.flops if middle.flops \
        else None
    compute = H200_TFLOPS * 1e12 * COMPUTE_EFFICIENCY
    bandwidth = H200_TBPS * 1e12 * MEMORY_EFFICIENCY
    ar_seconds = max(prefill.flops / compute, streamed / bandwidth) + sum(
        max((first.flops + per_len * i) / compute,
            (streamed + kv_bytes(lm.config, spec.batch, prompt + i, nbytes)) / bandwidth)
        for i in range(n))
    decoder = run("decoder", ar_decoder_call(arch, gen, size))
    kv_final = kv_bytes(lm.config, spec.batch, prompt + n, nbytes)
    peak = max(prefill.peak, last.peak, decoder.peak)
    flops = prefill.flops + decode_flops + decoder.flops
    seconds = ar_seconds + decoder.seconds
    res: dict[str, Any] = dict(
        family=name, repo=arch.repo, dtype=arch.dtype, params=sum(counts.values()),
        params_by_module=counts, weight_bytes=sum(weights.values()),
        weight_bytes_by_module=weights, steps=steps, guidance=guidance, size=list(size),
        flops_bare=flops, peak_bytes_bare=peak, predicted_s_h200_bare=seconds,
        predicted_s_h200=seconds, predicted_s_h200_per_mp=seconds / (size[0] * size[1] / 1e6),
        ar_prompt_tokens=prompt, ar_new_tokens=n, ar_batch=spec.batch,
        ar_prefill_flops=prefill.flops, ar_decode_flops=decode_flops,
        ar_decode_gflop_first=first.flops / 1e9, ar_decode_gflop_last=last.flops / 1e9,
        ar_decode_linear_check=linear_check, ar_streamed_bytes_per_step=streamed,
        ar_seconds=ar_seconds, kv_cache_bytes=kv_final, decoder_flops=decoder.flops,
        decoder_peak_bytes=decoder.peak, decoder_seconds=decoder.seconds,
        decoder_calls=decoder.calls, ar_source=spec.source,
        flops_limner=None, peak_bytes_limner=None,
        limner_path="not simulated separately: limner calls the same pipeline once per image "
                    "with the Plan as the prompt (no SDEdit, no regional masks), so its cost "
                    "is this one plus the prompt's length")
    res["offload"] = offload_advice(weights, peak)
    res["errors"] = errors
    res["notes"] = arch.notes
    res["sim_seconds"] = round(time.time() - t0, 1)
    res["sim_cpu_seconds"] = round(time.process_time() - c0, 1)
    return res


def print_ar(rows: list[dict]) -> None:
    """The autoregressive families' own lines: where the time goes."""
    ar = [r for r in rows if "ar_new_tokens" in r]
    if not ar:
        return
    print("\nAutoregressive families (prefill + one decode forward per code, integrated; "
          "then the decoder):")
    cols = ["family", "size", "prompt + codes (batch)", "prefill TFLOP",
            "decode GFLOP/code first-last", "decode TFLOP", "linear check", "KV cache GB",
            "AR H200 s", "decoder TFLOP", "decoder H200 s", "weights + peak GB",
            "H200 s per image", "H200 s per MP"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in ar:
        cells = [r["family"], "x".join(map(str, r["size"])),
                 f"{r['ar_prompt_tokens']} + {r['ar_new_tokens']} ({r['ar_batch']})",
                 _g(r["ar_prefill_flops"], 1e12, 1),
                 f"{r['ar_decode_gflop_first']:.1f}-{r['ar_decode_gflop_last']:.1f}",
                 _g(r["ar_decode_flops"], 1e12, 1), _r(r["ar_decode_linear_check"]),
                 _g(r["kv_cache_bytes"], 1e9, 2), f"{r['ar_seconds']:.1f}",
                 _g(r["decoder_flops"], 1e12, 1), f"{r['decoder_seconds']:.2f}",
                 f"{r['weight_bytes'] / 1e9:.1f} + {r['peak_bytes_bare'] / 1e9:.1f}",
                 f"{r['predicted_s_h200']:.1f}", f"{r['predicted_s_h200_per_mp']:.1f}"]
        print("| " + " | ".join(cells) + " |")


# --- output ---------------------------------------------------------------------------------

def _g(x, unit=1e9, nd=1):
    return "-" if x is None else f"{x / unit:.{nd}f}"


def _r(x):
    return "-" if x is None else f"{x:.3f}"


def _x(r, key):
    v = r.get(f"ratio_{key}")
    return "" if v is None else f" ({v:.2f}x)"


def print_table(rows: list[dict]) -> None:
    """One line per family (ratios to the bare diffusers call in brackets)."""
    print(f"Roofline: H200 {H200_TFLOPS:.0f} TFLOP/s dense bf16 at {COMPUTE_EFFICIENCY:.0%}, "
          f"{H200_TBPS} TB/s HBM at {MEMORY_EFFICIENCY:.0%}; per module call max(compute, "
          "weight reads). FLOPs: torch.utils.flop_counter (2 per multiply-add). "
          f"{'x'.join(map(str, rows[0]['size'])) if rows else '1024x1024'}; "
          "4K = 3840x2160 tiled.")
    cols = ["family", "params B", "weights GB", "steps", "TFLOP bare", "TFLOP limner",
            "TFLOP no-regional", "limner per step", "peak GB bare", "peak GB limner",
            "H200 s bare", "H200 s limner", "4K TFLOP limner", "4K peak GB limner",
            "4K H200 s", "offload 24/48/80 GB"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        off = "/".join(r["offload"][f"{g}GB"] for g in CARDS_GB)
        lim = r.get("flops_limner") is not None and "limner" not in r["errors"]
        if "bare" in r["errors"]:       # a failed run's partial counts mean nothing
            r = {**r, "flops_bare": None, "peak_bytes_bare": None,
                 "predicted_s_h200_bare": float("nan")}
        cells = [
            r["family"], _g(r["params"]), _g(r["weight_bytes"]), str(r["steps"]),
            _g(r["flops_bare"], 1e12, 0) if r["flops_bare"] is not None else "failed",
            _g(r.get("flops_limner"), 1e12, 0) + _x(r, "flops_limner"),
            _g(r.get("flops_limner_noregional"), 1e12, 0) + _x(r, "flops_limner_noregional"),
            _r(r.get("ratio_denoiser_tflop_per_call_limner")) + "x" if lim else "-",
            _g(r["peak_bytes_bare"], 1e9, 2) if r["peak_bytes_bare"] is not None else "-",
            _g(r.get("peak_bytes_limner"), 1e9, 2) + _x(r, "peak_bytes_limner"),
            f"{r['predicted_s_h200_bare']:.1f}" if r["flops_bare"] is not None else "-",
            f"{r['predicted_s_h200']:.1f}" if lim else "-",
            _g(r.get("flops_limner_4k"), 1e12, 0) + _x(r, "flops_limner_4k"),
            _g(r.get("peak_bytes_limner_4k"), 1e9, 1) + _x(r, "peak_bytes_limner_4k"),
            f"{r['predicted_s_h200_limner_4k']:.1f}" if r.get("predicted_s_h200_limner_4k")
            else "-",
            off]
        print("| " + " | ".join(cells) + " |")
    for r in rows:
        for what, err in r["errors"].items():
            print(f"  {r['family']} {what}: {err}")
        if r.get("limner_path"):
            print(f"  {r['family']}: limner path {r['limner_path']}")


def print_edits(rows: list[dict]) -> None:
    """The limner-edit rows: limner's edit path against the same edit by hand."""
    rows = [r for r in rows if r.get("edits")]
    if not rows:
        return
    print()
    print(f"limner edit path ({'x'.join(map(str, rows[0]['size']))} picture; whole-image "
          f"instruction edit \"{EDIT_INSTRUCTION}\" with 0 and 2 references; region edit "
          f"\"{REGION_INSTRUCTION}\" in a centre mask of a third of the side) against the "
          "same calls by hand with diffusers (ratios limner/by hand in brackets):")
    cols = ["family", "edit", "TFLOP by hand", "TFLOP limner", "peak GB by hand",
            "peak GB limner", "H200 s by hand", "H200 s limner"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        for case, e in r["edits"].items():
            ok = {t: t not in e["errors"] for t in ("bare", "limner")}
            rf = f" ({e['ratio_flops']:.2f}x)" if "ratio_flops" in e and all(ok.values()) \
                else ""
            rp = f" ({e['ratio_peak']:.2f}x)" if "ratio_peak" in e and all(ok.values()) else ""
            rs = (f" ({e['predicted_s_h200_limner'] / e['predicted_s_h200_bare']:.2f}x)"
                  if all(ok.values()) and e["predicted_s_h200_bare"] else "")
            cells = [r["family"], case.replace("_", " "),
                     _g(e["flops_bare"], 1e12, 0) if ok["bare"] else "failed",
                     (_g(e["flops_limner"], 1e12, 0) + rf) if ok["limner"] else "failed",
                     _g(e["peak_bytes_bare"], 1e9, 2) if ok["bare"] else "-",
                     (_g(e["peak_bytes_limner"], 1e9, 2) + rp) if ok["limner"] else "-",
                     f"{e['predicted_s_h200_bare']:.1f}" if ok["bare"] else "-",
                     (f"{e['predicted_s_h200_limner']:.1f}" + rs) if ok["limner"] else "-"]
            print("| " + " | ".join(cells) + " |")


def main(argv: list[str] | None = None) -> int:
    import warnings

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--family", action="append", help="entry of configs/architectures.yaml "
                        "(repeatable; default all)")
    parser.add_argument("--json", action="store_true", help="one JSON object per family")
    parser.add_argument("--size", default="1024x1024", metavar="WxH",
                        help="the render size of the bare and limner runs (default 1024x1024)")
    parser.add_argument("--no-4k", action="store_true", help="skip the 4K tiled render")
    parser.add_argument("--bare-only", action="store_true", help="skip limner's path")
    parser.add_argument("--debug", action="store_true", help="print tracebacks of failures")
    parser.add_argument("--table", nargs="+", metavar="JSONL",
                        help="print the table of rows saved by earlier --json runs")
    args = parser.parse_args(argv)
    global DEBUG
    DEBUG = args.debug

    if args.table:
        latest: dict[str, dict] = {}      # a later row of a family replaces an earlier one
        for path in args.table:
            for line in open(path, encoding="utf-8"):
                if line.startswith("{"):
                    row = json.loads(line)
                    latest.pop(row["family"], None)
                    latest[row["family"]] = row
        print_table(list(latest.values()))
        print_ar(list(latest.values()))
        print_edits(list(latest.values()))
        return 0

    from model.architectures import load_architectures

    warnings.filterwarnings("ignore")
    import diffusers
    import transformers

    diffusers.utils.logging.set_verbosity_error()
    transformers.utils.logging.set_verbosity_error()
    archs = load_architectures()
    names = args.family or list(archs)
    unknown = [n for n in names if n not in archs]
    if unknown:
        print(f"unknown family {', '.join(unknown)}; choose from {', '.join(archs)}",
              file=sys.stderr)
        return 2
    try:
        size = tuple(int(v) for v in args.size.lower().split("x"))
        if len(size) != 2 or min(size) < 16:
            raise ValueError
    except ValueError:
        print(f"--size must be WxH, e.g. 2048x2048; got {args.size!r}", file=sys.stderr)
        return 2
    rows = []
    for name in names:
        arch = archs[name]
        # an autoregressive family runs at its preset's size: its code count is per size
        row = (simulate_ar(name, arch) if arch.generator is not None else
               simulate(name, arch, limner=not args.bare_only, tiled=not args.no_4k,
                        size=size))
        rows.append(row)
        if args.json:
            print(json.dumps(row), flush=True)
        else:
            print(f"# {name}: simulated in {row['sim_seconds']} s ({row['sim_cpu_seconds']} s "
                  "CPU)", file=sys.stderr, flush=True)
    if not args.json:
        print_table(rows)
        print_ar(rows)
        print_edits(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
