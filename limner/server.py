"""`limner serve`: an OpenAI-compatible HTTP face of :class:`limner.api.Limner`.

Endpoints (all JSON errors in OpenAI's shape ``{"error": {message, type, param, code}}``):

- ``POST /v1/images/generations``: OpenAI's CreateImageRequest (JSON); ``stream`` gives
  server-sent events ``image_generation.partial_image`` / ``image_generation.completed``.
- ``POST /v1/images/edits``: CreateImageEditRequest (multipart: ``image`` or ``image[]`` up to
  16 files, ``mask``) or EditImageBodyJsonParam (JSON: ``images`` / ``mask`` as base64 data
  URLs); ``stream`` gives ``image_edit.*`` events.
- ``GET /v1/models`` (and ``/v1/models/{id}``), ``GET /healthz``.
- ``POST /v1/limner/describe`` (extension): image understanding through ``Limner.describe``;
  multipart ``image`` (+ ``question``) or JSON ``{"image": DATA_URL, "question": ...}``.
- ``GET /``: the web page (limner/web/).

Extensions to OpenAI's contract (the contract itself stays valid for these requests):

- request field ``seed`` (integer, 0 to 2**31-1): reproducible output; without it each request
  draws a random seed, as OpenAI's service varies between calls.
- response field ``data[i].limner = {"plan": PLAN_JSON, "seed": int}`` and top-level
  ``limner = {"renderer", "planner", "model"}``; completed stream events carry
  ``limner = {"image_index", "plan", "seed"}`` (and ``"notes"`` when there are any, as the
  non-streamed response's ``limner.notes``).
- ``size`` takes any ``WxH`` the Plan allows (sides divisible by 16, up to 3840, ratio up to 3:1,
  area up to 3840x2160), so a response's ``size`` may be outside OpenAI's three sizes.
- ``quality`` also takes the DALL-E names: ``standard`` means ``medium``, ``hd`` means ``high``.
  A response reports the tier ``auto`` was rendered at (draft: high up to ~2.4 MP, medium
  above; diffusion presets: medium).
- ``usage`` is counted by limner's own rule, not OpenAI's tokenizer: text tokens are UTF-8
  bytes / 4 (rounded up), image tokens are 32x32-pixel patches of each input or output image.
- Partial images (``partial_images`` 1-3) are progressive draft renders of the Plan at half
  size (their ``size`` field names the image they preview): background first, then the
  elements added in drawing order; with a neural renderer they are drawn by the draft
  renderer, the composition it starts from. Edits send none (the contract allows the final
  image to come before the partials asked for).

Workers: for the draft renderer with the rules planner, each worker is a process with its
own Limner (rendering and PNG encoding hold the GIL, so threads would share one core); for
neural renderers or planners, threads share the one loaded model (``--worker-kind`` overrides).
Either way the same Plan and seed give the same bytes.

No path or filename from a client is ever used: uploads are read into memory (Starlette may
spool a large one to an anonymous temporary file) and handed to Limner as bytes or images.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import hmac
import io
import json
import logging
import math
import os
import queue as queue_mod
import re
import secrets
import threading
import time
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from fastapi import FastAPI, Request

    from limner.api import GeneratedImage, Limner
    from planner.schema import Plan

log = logging.getLogger("limner.server")

from planner.schema import MAX_PROMPT_CHARS  # noqa: E402  (the one prompt cap)
from render.text_modes import TEXT_MODES  # noqa: E402  (exact | native | auto)
MAX_INPUT_IMAGES = 16
MAX_PARTIAL_IMAGES = 3
INPUT_FORMATS = ("PNG", "JPEG", "WEBP")
QUALITY_ALIASES = {"standard": "medium", "hd": "high"}
MODEL_ALIASES = ("gpt-image-2", "gpt-image-2-2026-04-21", "gpt-image-1.5", "gpt-image-1",
                 "gpt-image-1-mini", "chatgpt-image-latest", "dall-e-2", "dall-e-3")
WEB_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "web")
WEB_ASSETS = {"index.html": "text/html; charset=utf-8",
              "app.js": "text/javascript; charset=utf-8",
              "style.css": "text/css; charset=utf-8"}


@dataclass(frozen=True)
class ServerOptions:
    """How ``limner serve`` runs.

    Args:
        api_key: when set, every ``/v1/`` request needs ``Authorization: Bearer KEY``.
        workers: requests rendered at once; None picks one per CPU core for worker processes,
            2 for draft worker threads and 1 for neural renderers.
        worker_kind: ``process`` (each worker a process with its own Limner: the draft
            renderer and Pillow's PNG encode hold the GIL, so threads share one core),
            ``thread`` (one Limner shared by worker threads: a neural model is loaded once),
            or None: process for the draft renderer with the rules planner (CPU-bound and
            cheap to load), thread otherwise.
        queue: requests that may wait for a worker; one more gets 429 with Retry-After.
        max_body_bytes: larger request bodies get 413.
        grace_seconds: on shutdown, how long running requests may take to finish.
        deadline_seconds: how long one request may take from its arrival (waiting included);
            past it the request gets 503 (code ``deadline_exceeded``) and frees its worker:
            work stops between images, and a worker process still busy a few seconds later
            is replaced.
        planner, renderer, model, device, font: build the Limner when none is given.
    """

    api_key: str | None = None
    workers: int | None = None
    worker_kind: str | None = None
    queue: int = 32
    max_body_bytes: int = 64 * 1024 * 1024
    grace_seconds: float = 30.0
    deadline_seconds: float = 120.0
    planner: str = "rules"
    renderer: str = "draft"
    model: str | None = None
    device: str | None = None
    font: str | None = None
    warmup: bool = True


class ApiError(Exception):
    """An HTTP error answered in OpenAI's JSON shape."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error",
                 param: str | None = None, code: str | None = None,
                 headers: dict[str, str] | None = None, extra: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers or {}
        self.extra = extra or {}

    def __reduce__(self) -> tuple:
        # Crosses from worker processes to the server intact (param, code, headers).
        return (_rebuild_api_error, (self.status, self.message, {
            "type": self.type, "param": self.param, "code": self.code,
            "headers": self.headers, "extra": self.extra}))

    def body(self) -> dict:
        err = {"message": self.message, "type": self.type, "param": self.param,
               "code": self.code, **self.extra}
        return {"error": err}


def _rebuild_api_error(status: int, message: str, kwargs: dict) -> ApiError:
    return ApiError(status, message, **kwargs)


def bad_request(param: str | None, message: str, code: str | None = "invalid_value") -> ApiError:
    return ApiError(400, message, param=param, code=code)


def error_from_exception(exc: BaseException) -> ApiError:
    """Map what Limner raises to an OpenAI-shaped error (user mistakes are 400s)."""
    from limner.api import LimnerError
    from planner.schema import PlanError, SizeError
    from model.errors import ModelError

    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, LimnerError) and exc.code == "deadline_exceeded":
        return ApiError(503, str(exc), type="server_error", code="deadline_exceeded",
                        headers={"Retry-After": "1"})
    if isinstance(exc, LimnerError) and exc.code == "moderation_blocked":
        category = getattr(exc, "category", None)
        details = {"moderation_stage": "input", "categories": [category] if category else []}
        return ApiError(400, str(exc), type="image_generation_user_error", param=exc.param,
                        code="moderation_blocked", extra={"moderation_details": details})
    if isinstance(exc, LimnerError):
        return ApiError(400, str(exc), param=exc.param, code=exc.code or "invalid_value")
    if isinstance(exc, SizeError):
        return bad_request("size", str(exc))
    if isinstance(exc, PlanError):      # the prompt (or edit instruction) it could not plan
        param = exc.param if exc.param not in (None, "instruction") else "prompt"
        return ApiError(400, str(exc), param=param, code=None)
    if isinstance(exc, ModelError):
        return ApiError(400, str(exc), param=getattr(exc, "param", None), code=None)
    if isinstance(exc, BrokenProcessPool):
        log.error("a worker process stopped: %s", exc)
        return ApiError(500, "the worker process rendering this request stopped; retry",
                        type="server_error", code="server_error")
    log.exception("request failed", exc_info=exc)
    return ApiError(500, "the server failed to handle this request; see its log",
                    type="server_error", code="server_error")


# --- the bounded work queue ----------------------------------------------------------------
class QueueFull(Exception):
    """The queue holds its maximum; the caller should answer 429."""


class ShuttingDown(Exception):
    """The server is stopping and takes no new work."""


@dataclass
class _Job:
    fn: Callable[[], Any]
    future: Future


class WorkQueue:
    """A fixed set of worker threads fed by a bounded queue.

    The threads run the jobs on a shared Limner (a neural model, possibly GBs of weights, is
    loaded once) or, with worker processes, each hands its job to a process and waits (see
    Service.execute). ``submit`` never blocks: with every worker busy and ``capacity`` jobs
    waiting, it raises QueueFull so the server can say 429 at once instead of piling up.

    Args:
        workers: threads (>= 1). capacity: jobs that may wait (>= 0).
    """

    def __init__(self, workers: int, capacity: int):
        if workers < 1 or capacity < 0:
            raise ValueError("workers must be >= 1 and queue >= 0")
        self.workers = workers
        self.capacity = capacity
        self._pending: queue_mod.SimpleQueue[_Job | None] = queue_mod.SimpleQueue()
        self._lock = threading.Lock()
        self._waiting = 0
        self._running = 0
        self._closed = False
        self._mean_seconds = 0.5      # running mean of a job's time, for Retry-After
        self._threads = [threading.Thread(target=self._work, name=f"limner-worker-{i}",
                                          daemon=True) for i in range(workers)]
        for t in self._threads:
            t.start()

    def submit(self, fn: Callable[[], Any]) -> Future:
        """Queue ``fn`` for a worker. Raises QueueFull or ShuttingDown at once."""
        with self._lock:
            if self._closed:
                raise ShuttingDown()
            if self._waiting + self._running >= self.workers + self.capacity:
                raise QueueFull()
            self._waiting += 1
        job = _Job(fn, Future())
        self._pending.put(job)
        return job.future

    def _work(self) -> None:
        while True:
            job = self._pending.get()
            if job is None:
                return
            with self._lock:
                self._waiting -= 1
                self._running += 1
            # False when the request gave up waiting (its client went away).
            if not job.future.set_running_or_notify_cancel():
                with self._lock:
                    self._running -= 1
                continue
            start = time.monotonic()
            try:
                job.future.set_result(job.fn())
            except BaseException as e:  # handed to the awaiting request, never lost
                job.future.set_exception(e)
            finally:
                with self._lock:
                    self._running -= 1
                    self._mean_seconds = 0.8 * self._mean_seconds + 0.2 * (
                        time.monotonic() - start)

    def stats(self) -> dict:
        with self._lock:
            return {"workers": self.workers, "capacity": self.capacity,
                    "running": self._running, "waiting": self._waiting,
                    "closed": self._closed}

    def retry_after(self) -> int:
        """Seconds until a slot is likely free: the queue's length times a job's mean time."""
        with self._lock:
            backlog = self._waiting + self._running
            mean = self._mean_seconds
        return max(1, math.ceil(mean * backlog / self.workers))

    def drain(self) -> None:
        """Stop taking work and fail every job still waiting with ShuttingDown (running ones
        finish). Safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        failed: list[_Job] = []
        while True:
            try:
                job = self._pending.get_nowait()
            except queue_mod.Empty:
                break
            if job is not None:
                failed.append(job)
        with self._lock:
            self._waiting -= len(failed)
        for job in failed:
            job.future.set_exception(ShuttingDown())
        for _ in self._threads:
            self._pending.put(None)

    def join(self, timeout: float) -> bool:
        """Wait for running jobs; True when every worker has stopped."""
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self._threads)


# --- worker processes -----------------------------------------------------------------------
WORKER_KINDS = ("thread", "process")
_PROCESS_LIMNER: "Limner | None" = None     # each worker process's own Limner


def choose_worker_kind(limner: "Limner", kind: str | None) -> str:
    """``kind`` checked, or the automatic choice: processes for a plain Limner with the draft
    renderer and the rules planner (pure CPU work under the GIL, nothing heavy to load per
    process), threads sharing one Limner for anything that loads a model and for a
    customised Limner object, which a worker process could not rebuild from its settings.

    Raises:
        ValueError: for a kind other than thread or process.
    """
    from limner.api import Limner

    if kind is not None:
        if kind not in WORKER_KINDS:
            raise ValueError(f"worker_kind must be one of {', '.join(WORKER_KINDS)}; "
                             f"got {kind!r}")
        return kind
    cheap = (type(limner) is Limner and getattr(limner, "renderer_name", None) == "draft"
             and getattr(limner, "planner_name", None) == "rules")
    return "process" if cheap else "thread"


def limner_spec(limner: "Limner") -> dict:
    """The keyword arguments that rebuild ``limner`` in another process."""
    return {"planner": limner.planner_name, "renderer": limner.renderer_name,
            "model": limner.model, "device": limner.device, "font": limner.font,
            **getattr(limner, "_renderer_kwargs", {})}


def _init_process(spec: dict, parent: int) -> None:
    """A worker process's initializer: build and load its Limner once; leave Ctrl-C to the
    server (which then finishes or fails the running request cleanly); exit if the server
    dies without shutting the pool down, so no worker outlives it."""
    import signal

    global _PROCESS_LIMNER
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from limner.api import Limner

    _PROCESS_LIMNER = Limner(**spec)
    _ = _PROCESS_LIMNER.planner, _PROCESS_LIMNER.renderer

    def watch_parent() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch_parent, name="limner-parent-watch", daemon=True).start()


def portable(result: Any) -> Any:
    """A GenerateResult without its PIL images (the response needs only the encoded files,
    Plans and seeds), so that only those cross back from a worker process."""
    from limner.api import GenerateResult, GeneratedImage

    if isinstance(result, GeneratedImage):
        return dataclasses.replace(result, image=None)
    if isinstance(result, GenerateResult):
        return dataclasses.replace(result, images=[portable(i) for i in result.images])
    return result


def _call_in_process(fn: Callable[..., Any], args: tuple, deadline: float | None = None) -> Any:
    """Run ``fn(limner, *args)`` on this worker process's Limner, under the request's
    ``deadline`` (time.monotonic(): one clock for every process on the machine). Errors come
    back as ApiErrors: limner's own exceptions do not survive pickling with their fields."""
    from limner.api import DEADLINE

    token = DEADLINE.set(deadline)
    try:
        return portable(fn(_PROCESS_LIMNER, *args))
    except Exception as e:
        raise error_from_exception(e) from None
    finally:
        DEADLINE.reset(token)


KILL_GRACE_SECONDS = 5.0     # past the deadline, a worker process still busy is replaced


def deadline_exceeded() -> ApiError:
    return ApiError(503, "the request ran past the server's per-request deadline; ask for "
                         "fewer or smaller images", type="server_error",
                    code="deadline_exceeded", headers={"Retry-After": "1"})


class ProcessWorkers:
    """Worker processes (``spawn``: nothing of the server's threads or sockets is inherited),
    each with its own Limner built once by the initializer, each in its own one-process
    executor: a worker that overruns its request's deadline (or crashes) is replaced alone,
    without failing the requests the other workers are running.

    Args:
        count: processes. spec: Limner keyword arguments (see ``limner_spec``).
    """

    def __init__(self, count: int, spec: dict):
        self.count = count
        self.spec = spec
        self._lock = threading.Lock()
        self._closed = False
        self._executors = [self._new_executor() for _ in range(count)]
        self._idle: queue_mod.SimpleQueue = queue_mod.SimpleQueue()
        for ex in self._executors:
            self._idle.put(ex)

    def _new_executor(self) -> Any:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        return ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_process, initargs=(self.spec, os.getpid()))

    def call(self, fn: Callable[..., Any], *args: Any, deadline: float | None = None) -> Any:
        """``fn(limner, *args)`` on an idle worker process; blocks the calling thread (the
        WorkQueue's: there are as many as processes, so one is always idle) until the result
        is back. A crashed worker fails only its own request; one still busy
        KILL_GRACE_SECONDS past ``deadline`` is terminated and its request gets 503."""
        from concurrent.futures import TimeoutError as FutureTimeout

        executor = self._idle.get()
        try:
            try:
                future = executor.submit(_call_in_process, fn, args, deadline)
            except BrokenProcessPool:
                # Broken while idle (a worker was killed): this job never ran; send it anew.
                executor = self._replace(executor)
                future = executor.submit(_call_in_process, fn, args, deadline)
            wait = None if deadline is None else \
                max(0.0, deadline - time.monotonic()) + KILL_GRACE_SECONDS
            try:
                return future.result(wait)
            except FutureTimeout:
                log.error("a worker process overran its request's deadline; replacing it")
                executor = self._replace(executor, kill=True)
                raise deadline_exceeded() from None
            except BrokenProcessPool:
                executor = self._replace(executor)
                raise
        finally:
            self._idle.put(executor)

    def _replace(self, old: Any, kill: bool = False) -> Any:
        """A fresh executor in place of ``old`` (a broken or overrunning one)."""
        with self._lock:
            if self._closed:
                return old
            processes = list((getattr(old, "_processes", None) or {}).values())
            if kill:
                for proc in processes:
                    proc.kill()
            old.shutdown(wait=False, cancel_futures=True)
            new = self._new_executor()
            self._executors[self._executors.index(old)] = new
            return new

    def warm_up(self) -> None:
        """Start every process and build its Limner now, not on the first requests."""
        futures = [ex.submit(_call_in_process, warm_limner, ()) for ex in self._executors]
        for f in futures:
            f.result()

    def pids(self) -> list[int]:
        return sorted(pid for ex in list(self._executors)
                      for pid in (getattr(ex, "_processes", None) or {}))

    def close(self, kill: bool = False) -> None:
        """Stop the processes and wait for them. ``kill`` (running work overran the grace
        period) terminates them first; their requests then fail with a server error."""
        with self._lock:
            self._closed = True
            executors = list(self._executors)
        # ProcessPoolExecutor (3.11) has no public way to stop a busy worker.
        processes = [p for ex in executors
                     for p in (getattr(ex, "_processes", None) or {}).values()]
        if kill:
            for proc in processes:
                proc.terminate()
        for ex in executors:
            ex.shutdown(wait=True, cancel_futures=True)
        for proc in processes:
            proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join(5)


# --- requests: OpenAI names in, limner names out --------------------------------------------
_COMMON_FIELDS = ("prompt", "model", "n", "quality", "size", "response_format", "output_format",
                  "output_compression", "moderation", "background", "stream", "partial_images",
                  "user", "safety_identifier", "seed", "text")
GENERATION_FIELDS = _COMMON_FIELDS + ("style",)
EDIT_FORM_FIELDS = _COMMON_FIELDS + ("input_fidelity", "image", "image[]", "mask")
EDIT_JSON_FIELDS = _COMMON_FIELDS + ("input_fidelity", "images", "mask")


@dataclass(frozen=True)
class ImageRequest:
    """A validated generation or edit request, in limner's names."""

    prompt: str
    model: str
    n: int = 1
    size: str = "auto"
    quality: str = "auto"
    background: str = "auto"
    output_format: str = "png"
    output_compression: int | None = None
    moderation: str = "auto"
    text: str = "auto"          # who draws the Plan's texts (render/text_modes.py)
    stream: bool = False
    partial_images: int = 0
    seed: int = 0
    input_fidelity: str = "low"
    images: tuple[bytes, ...] = ()
    mask: bytes | None = None
    input_sizes: tuple[tuple[int, int], ...] = field(default=(), compare=False)
    notes: tuple[str, ...] = field(default=(), compare=False)   # options accepted, ignored


class _Fields:
    """Typed reads of request fields. Multipart forms carry every value as text, so with
    ``form=True`` numbers and booleans are parsed from strings; JSON must carry real types."""

    def __init__(self, values: dict, allowed: tuple[str, ...], form: bool):
        for key in values:
            if key not in allowed:
                raise ApiError(400, f"Unknown parameter: '{key}'.", param=key,
                               code="unknown_parameter")
        self.values = values
        self.form = form

    def get(self, name: str) -> Any:
        return self.values.get(name)

    def text(self, name: str, default: str | None = None, *, max_len: int | None = None,
             required: bool = False) -> str | None:
        v = self.values.get(name)
        if v is None:
            if required:
                raise bad_request(name, f"{name} is required", code="missing_required_parameter")
            return default
        if not isinstance(v, str):
            raise bad_request(name, f"{name} must be a string; got {type(v).__name__}")
        if required and not v.strip():
            raise bad_request(name, f"{name} must not be empty")
        if max_len is not None and len(v) > max_len:
            raise bad_request(name, f"{name} is {len(v)} characters; the maximum is {max_len}")
        return v

    def choice(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        v = self.text(name, default)
        if v not in allowed:
            raise bad_request(name, f"{name} must be one of {', '.join(allowed)}; got {v!r}")
        return v

    def integer(self, name: str, lo: int, hi: int, default: int | None) -> int | None:
        v = self.values.get(name)
        if v is None:
            return default
        if self.form and isinstance(v, str) and re.fullmatch(r"\s*-?\d+\s*", v):
            v = int(v)
        if isinstance(v, float) and v.is_integer():     # JSON Schema: 1.0 is an integer
            v = int(v)
        if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
            raise bad_request(name, f"{name} must be an integer from {lo} to {hi}; got {v!r}")
        return v

    def boolean(self, name: str, default: bool) -> bool:
        v = self.values.get(name)
        if v is None:
            return default
        if self.form and isinstance(v, str) and v.lower() in ("true", "false"):
            return v.lower() == "true"
        if not isinstance(v, bool):
            raise bad_request(name, f"{name} must be true or false; got {v!r}")
        return v


def parse_common(f: _Fields, model: str) -> dict:
    """The options generations and edits share, validated; returns ImageRequest kwargs.

    Args:
        f: the request's fields. model: the resolved model id.
    """
    from planner.schema import MAX_SEED, SizeError, parse_size

    prompt = f.text("prompt", required=True, max_len=MAX_PROMPT_CHARS)
    size = f.text("size", "auto")
    try:
        wh = parse_size(size)
    except SizeError as e:
        raise bad_request("size", str(e)) from None
    quality = f.text("quality", "auto")
    quality = QUALITY_ALIASES.get(quality, quality)
    if quality not in ("low", "medium", "high", "auto"):
        raise bad_request("quality", "quality must be one of low, medium, high, auto "
                                     f"(or standard, hd); got {quality!r}")
    if f.text("response_format", "b64_json") != "b64_json":
        raise bad_request("response_format", "response_format must be b64_json: limner "
                                             "returns images inline and serves no URLs")
    f.text("user")                  # accepted: limner keeps no accounts
    f.text("safety_identifier")
    seed = _seed(f)
    output_format = f.choice("output_format", ("png", "jpeg", "webp"), "png")
    compression = f.integer("output_compression", 0, 100, None)
    stream = f.boolean("stream", False)
    partial_images = f.integer("partial_images", 0, MAX_PARTIAL_IMAGES, 0)
    notes = []
    # OpenAI ignores options that do not apply (its own examples send some): so does limner,
    # and says so; what cannot be honoured (response_format url, ...) is still refused.
    if compression is not None and output_format == "png":
        notes.append("output_compression ignored: png is lossless")
        compression = None
    if partial_images and not stream:
        notes.append("partial_images ignored: previews come only with stream=true")
    return dict(
        prompt=prompt, model=model, n=f.integer("n", 1, 10, 1),
        size="auto" if wh is None else f"{wh[0]}x{wh[1]}", quality=quality,
        background=f.choice("background", ("transparent", "opaque", "auto"), "auto"),
        output_format=output_format, output_compression=compression,
        moderation=f.choice("moderation", ("low", "auto"), "auto"),
        text=f.choice("text", TEXT_MODES, "auto"),
        stream=stream, partial_images=partial_images,
        seed=secrets.randbelow(MAX_SEED + 1) if seed is None else seed, notes=tuple(notes))


def _seed(f: _Fields) -> int | None:
    """The seed field, checked by planner.schema.check_seed (the CLI and Python API's check)."""
    from planner.schema import PlanError, check_seed

    v = f.get("seed")
    if v is None:
        return None
    if f.form and isinstance(v, str) and re.fullmatch(r"\s*-?\d+\s*", v):
        v = int(v)
    try:
        return check_seed(v)
    except PlanError as e:
        raise bad_request("seed", str(e)) from None


def resolve_model(name: Any, served: tuple[str, ...]) -> str:
    """OpenAI's model names and the served renderer's names all mean the one loaded model.

    Raises:
        ApiError: 400 naming the models served here.
    """
    if name is None:
        return served[0]
    if not isinstance(name, str) or name not in served + MODEL_ALIASES:
        raise ApiError(400, f"model {name!r} is not served here; choose one of: "
                            f"{', '.join(served + MODEL_ALIASES)}", param="model",
                       code="model_not_found")
    return name


def parse_generation(body: Any, served: tuple[str, ...]) -> ImageRequest:
    """CreateImageRequest (JSON) → ImageRequest."""
    if not isinstance(body, dict):
        raise bad_request(None, "the request body must be a JSON object", code=None)
    f = _Fields(body, GENERATION_FIELDS, form=False)
    kwargs = parse_common(f, resolve_model(f.get("model"), served))
    style = f.choice("style", ("vivid", "natural"), "vivid") if f.get("style") else None
    if style is not None:
        kwargs["notes"] += (f"style {style!r} ignored: it is a dall-e-3 option; describe the "
                            "style in the prompt",)
    return ImageRequest(**kwargs)


def check_image(data: bytes, param: str, *, need_alpha: bool = False) -> tuple[int, int]:
    """Read an upload's header (no full decode): a PNG, JPEG or WebP under the pixel cap.

    Returns:
        ``(width, height)``.
    Raises:
        ApiError: 400 naming ``param``.
    """
    from PIL import Image

    from render.references import MAX_PIXELS as MAX_INPUT_PIXELS   # the CLI's cap too

    try:
        with Image.open(io.BytesIO(data)) as im:
            fmt, (w, h), mode, info = im.format, im.size, im.mode, im.info
    except (OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        raise bad_request(param, f"{param} is not a readable image (send PNG, JPEG or WebP)",
                          code="invalid_image") from None
    if fmt not in INPUT_FORMATS:
        raise bad_request(param, f"{param} is {fmt}; send PNG, JPEG or WebP",
                          code="invalid_image_format")
    if w * h > MAX_INPUT_PIXELS:
        raise bad_request(param, f"{param} is {w}x{h}: over {MAX_INPUT_PIXELS} pixels",
                          code="image_too_large")
    if need_alpha and mode not in ("RGBA", "LA", "PA") and "transparency" not in info:
        raise bad_request(param, f"{param} needs an alpha channel: its fully transparent "
                                 "pixels mark where to edit", code="invalid_image")
    return w, h


_DATA_URL = re.compile(r"^data:image/(png|jpeg|jpg|webp);base64,(.*)$", re.S | re.I)


def image_from_ref(ref: Any, param: str) -> bytes:
    """An ImageRefParam (``{"image_url": ...}`` or ``{"file_id": ...}``) → bytes.

    Only base64 data URLs are taken: limner fetches nothing from the network and has no
    Files API, so remote URLs and file ids get a 400 that says what to send instead.
    """
    if not isinstance(ref, dict) or set(ref) - {"image_url", "file_id"} or len(ref) != 1:
        raise bad_request(param, f"{param} must be an object with exactly one of image_url, "
                                 "file_id")
    if "file_id" in ref:
        raise bad_request(param, f"{param}.file_id is not supported: limner has no Files API; "
                                 "send image_url as a base64 data URL (data:image/png;base64,...)"
                                 " or use a multipart upload", code="unsupported_value")
    url = ref["image_url"]
    m = _DATA_URL.match(url) if isinstance(url, str) else None
    if m is None:
        raise bad_request(param, f"{param}.image_url must be a base64 data URL "
                                 "(data:image/png|jpeg|webp;base64,...): limner does not fetch "
                                 "remote URLs", code="unsupported_value")
    try:
        return base64.b64decode(m.group(2), validate=True)
    except (binascii.Error, ValueError):
        raise bad_request(param, f"{param}.image_url holds invalid base64") from None


def _edit_request(f: _Fields, images: list[bytes], mask: bytes | None,
                  served: tuple[str, ...], image_param: str) -> ImageRequest:
    if not images:
        raise bad_request(image_param, f"{image_param} is required: at least one image",
                          code="missing_required_parameter")
    if len(images) > MAX_INPUT_IMAGES:
        raise bad_request(image_param, f"{image_param}: at most {MAX_INPUT_IMAGES} images; "
                                       f"got {len(images)}")
    sizes = tuple(check_image(b, f"{image_param}[{i}]") for i, b in enumerate(images))
    if mask is not None:
        msize = check_image(mask, "mask", need_alpha=True)
        if msize != sizes[0]:
            raise bad_request("mask", f"mask is {msize[0]}x{msize[1]} but the first image is "
                                      f"{sizes[0][0]}x{sizes[0][1]}: they must match")
    kwargs = parse_common(f, resolve_model(f.get("model"), served))
    if kwargs["stream"] and kwargs["partial_images"]:
        kwargs["notes"] += ("partial_images ignored: edits stream only their final images",)
    fidelity = f.choice("input_fidelity", ("high", "low"), "low")
    return ImageRequest(**kwargs, input_fidelity=fidelity, images=tuple(images), mask=mask,
                        input_sizes=sizes)


def parse_edit_form(items: list[tuple[str, str | bytes]],
                    served: tuple[str, ...]) -> ImageRequest:
    """CreateImageEditRequest (multipart; uploads already read into bytes) → ImageRequest."""
    values: dict[str, str] = {}
    images: list[bytes] = []
    mask = None
    for key, value in items:
        is_file = isinstance(value, bytes)
        if key in ("image", "image[]", "mask") and not is_file:
            raise bad_request(key, f"{key} must be a file upload")
        if key in ("image", "image[]"):
            images.append(value)
        elif key == "mask":
            if mask is not None:
                raise bad_request("mask", "send at most one mask")
            mask = value
        elif is_file:
            raise bad_request(key, f"{key} must be a text field, not a file")
        elif key in values:
            raise bad_request(key, f"{key} is given twice")
        else:
            values[key] = value
    f = _Fields(values, EDIT_FORM_FIELDS, form=True)
    return _edit_request(f, images, mask, served, "image")


def parse_edit_json(body: Any, served: tuple[str, ...]) -> ImageRequest:
    """EditImageBodyJsonParam (JSON with data-URL images) → ImageRequest."""
    if not isinstance(body, dict):
        raise bad_request(None, "the request body must be a JSON object", code=None)
    f = _Fields(body, EDIT_JSON_FIELDS, form=False)
    refs = f.get("images")
    if refs is not None and not isinstance(refs, list):
        raise bad_request("images", "images must be an array of {image_url} objects")
    images = [image_from_ref(r, f"images[{i}]") for i, r in enumerate(refs or [])]
    mask = None if f.get("mask") is None else image_from_ref(f.get("mask"), "mask")
    return _edit_request(f, images, mask, served, "images")


# --- responses: limner results out, OpenAI names -------------------------------------------
def usage(prompt: str, inputs: tuple[tuple[int, int], ...],
          outputs: list[tuple[int, int]]) -> dict:
    """limner's token count (see the module docstring): bytes / 4 for text, 32x32 patches
    for images."""
    text = math.ceil(len(prompt.encode("utf-8")) / 4)
    image_in = sum(math.ceil(w / 32) * math.ceil(h / 32) for w, h in inputs)
    image_out = sum(math.ceil(w / 32) * math.ceil(h / 32) for w, h in outputs)
    return {"input_tokens": text + image_in, "output_tokens": image_out,
            "total_tokens": text + image_in + image_out,
            "input_tokens_details": {"text_tokens": text, "image_tokens": image_in},
            "output_tokens_details": {"image_tokens": image_out, "text_tokens": 0}}


def describe_plan(plan: "Plan") -> str:
    """A one-line account of what limner understood (OpenAI's ``revised_prompt`` slot)."""
    bg = plan.canvas.background
    where = {"scene": f"a {bg.scene} scene", "transparent": "a transparent background",
             "gradient": "a gradient", "color": f"a {bg.color or 'plain'} background"}[bg.kind]
    counts: dict[str, int] = {}
    for el in plan.objects:
        label = f"{el.color} {el.label}" if el.color else el.label
        if el.reference is not None:
            label += f" (image {el.reference + 1})"
        counts[label] = counts.get(label, 0) + 1
    parts = [f"{n} x {label}" if n > 1 else label for label, n in counts.items()]
    parts += [json.dumps(t.content, ensure_ascii=False) for t in plan.texts]
    w, h = plan.size
    if bg.reference is not None:
        where = f"image {bg.reference + 1} as the background"
    style = f" in the palette of image {plan.style.reference + 1}" \
        if plan.style.reference is not None else ""
    return f"{w}x{h} on {where}{style}" + (": " + ", ".join(parts) if parts else "")


def reported_quality(plan: "Plan", renderer: str) -> str:
    """The tier ``auto`` was rendered at (OpenAI's responses name low, medium or high)."""
    if plan.quality != "auto":
        return plan.quality
    if renderer == "draft":
        from render.draft import QUALITY, resolve_quality

        chosen = resolve_quality("auto", plan.size)
        return next(name for name, tier in QUALITY.items() if tier == chosen)
    return "medium"     # diffusion presets render auto with their medium tier


def _image_meta(plan: "Plan", output_format: str, renderer: str) -> dict:
    w, h = plan.size
    return {"background": "transparent" if plan.transparent else "opaque",
            "output_format": output_format, "quality": reported_quality(plan, renderer),
            "size": f"{w}x{h}"}


def images_response(req: ImageRequest, result: Any, served: tuple[str, ...],
                    planner: str) -> dict:
    """A GenerateResult → OpenAI's ImagesResponse, with the Plans in ``data[i].limner``."""
    images = result.images
    data = [{"b64_json": base64.b64encode(img.data).decode("ascii"),
             "revised_prompt": describe_plan(img.plan),
             "limner": {"plan": img.plan.model_dump(mode="json"), "seed": img.seed,
                        "texts": list(img.texts)}}
            for img in images]
    return {"created": int(time.time()), "data": data,
            **_image_meta(images[0].plan, req.output_format, result.renderer),
            "usage": usage(req.prompt, req.input_sizes, [img.plan.size for img in images]),
            "limner": {"renderer": result.renderer, "planner": planner, "model": served[0],
                       **_notes(req, result)}}


def _notes(req: ImageRequest, result: Any) -> dict:
    """``notes``: options the server ignored, then what the renderer did not draw as asked
    (a style the draft does not draw); absent when there is nothing to say."""
    notes = list(req.notes) + list(getattr(result, "notes", ()))
    return {"notes": notes} if notes else {}


def stream_event(prefix: str, img: "GeneratedImage", req: ImageRequest, renderer: str, *,
                 partial_index: int | None = None, image_index: int = 0,
                 final: "Plan | None" = None, result: Any = None) -> dict:
    """One ImageGen/ImageEdit stream event (``prefix`` is image_generation or image_edit).

    A partial image's ``size`` (and other fields) describe the image it previews, ``final``,
    although the preview itself is drawn at half size. A completed event carries the
    request's notes in ``limner.notes`` as a non-streamed response does (``result``: the
    GenerateResult whose notes join the request's)."""
    event = {"type": f"{prefix}.partial_image" if partial_index is not None
             else f"{prefix}.completed",
             "b64_json": base64.b64encode(img.data).decode("ascii"),
             "created_at": int(time.time()),
             **_image_meta(final or img.plan, req.output_format, renderer)}
    if partial_index is not None:
        # OpenAI's partial event has no image index: with n > 1 it goes in limner's block
        event["partial_image_index"] = partial_index
        event["limner"] = {"image_index": image_index}
    else:
        inputs = req.input_sizes if image_index == 0 else ()
        prompt = req.prompt if image_index == 0 else ""
        event["usage"] = usage(prompt, inputs, [img.plan.size])
        event["limner"] = {"image_index": image_index, "seed": img.seed,
                           "plan": img.plan.model_dump(mode="json"), **_notes(req, result)}
    return event


def partial_plans(plan: "Plan", count: int) -> list["Plan"]:
    """``count`` progressive previews of a Plan, each sharper and fuller than the one before:
    preview j (of count) is drawn at (j+1)/(count+1) of the final size and holds the first
    (j+1)/(count+1) of its elements in drawing order (by z), at least one when there are any.
    The growing canvas makes every preview differ, even for a Plan of one element."""
    from planner.schema import SizeError, check_size

    if count <= 0:
        return []
    w, h = plan.size
    ordered = sorted(plan.elements, key=lambda el: el.z)
    previews = []
    for j in range(count):
        f = (j + 1) / (count + 1)
        small = (max(16, round(w * f / 16) * 16), max(16, round(h * f / 16) * 16))
        try:
            check_size(*small)
        except SizeError:      # an extreme ratio that shrinking would break: keep the size
            small = (w, h)
        canvas = plan.canvas.model_copy(update={"width": small[0], "height": small[1]})
        shown = max(math.ceil(len(ordered) * f), min(1, len(ordered)))
        previews.append(plan.model_copy(update={"canvas": canvas,
                                                "elements": tuple(ordered[:shown])}))
    return previews


# --- work done on a worker (called with the worker's Limner first) --------------------------
def warm_limner(limner: "Limner") -> None:
    """Draw one small image, so no request pays first-use costs (moderation rules compile,
    fonts and sprites load)."""
    limner.generate('a sign that says "limner" next to a cup', size="256x256", seed=0)


def render_plan(limner: "Limner", plan: "Plan", req: ImageRequest) -> "GeneratedImage":
    """One image of a given Plan (moderated by its words, output options checked)."""
    return limner.generate(plan=plan, output_format=req.output_format,
                           output_compression=req.output_compression,
                           moderation=req.moderation, text=req.text).images[0]


def run_describe(limner: "Limner", image: bytes, question: str | None) -> dict:
    return limner.describe(image, question=question)


def run_generate(limner: "Limner", req: ImageRequest) -> Any:
    """Plan and render a generation request (moderation runs inside Limner.generate)."""
    return limner.generate(req.prompt, n=req.n, size=req.size, seed=req.seed,
                           quality=req.quality, background=req.background,
                           output_format=req.output_format,
                           output_compression=req.output_compression,
                           moderation=req.moderation, text=req.text)


def run_edit(limner: "Limner", req: ImageRequest) -> Any:
    """Edit the first image by the instruction; the other images are references.

    Everything goes in as bytes: a limner image's embedded Plan is found and revised, and
    Limner validates the pictures with its own rules.
    """
    return limner.edit(req.prompt, image=req.images[0], mask=req.mask,
                       references=list(req.images[1:]), n=req.n,
                       size=None if req.size == "auto" else req.size, quality=req.quality,
                       background=req.background, output_format=req.output_format,
                       output_compression=req.output_compression,
                       input_fidelity=req.input_fidelity, seed=req.seed,
                       moderation=req.moderation, text=req.text)


class EventChannel:
    """Carries a streaming job's events from its worker thread to the request's event loop.

    The job emits events (READY goes first, once the request has been planned, moderated and
    its first picture drawn), then END; an exception (from the job, or ShuttingDown for a job
    that never ran) ends it too.
    """

    READY = "ready"
    END = "end"

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.items: asyncio.Queue = asyncio.Queue()
        self.cancelled = threading.Event()
        self.started = False

    def emit(self, event: dict) -> None:
        """Send an event, preceded by READY the first time."""
        if not self.started:
            self.started = True
            self.put(self.READY)
        self.put(event)

    def put(self, item: Any) -> None:
        try:
            self.loop.call_soon_threadsafe(self.items.put_nowait, item)
        except RuntimeError:        # the loop has closed: nobody is listening any more
            self.cancelled.set()

    def on_done(self, future: Future) -> None:
        if future.cancelled():
            self.put(ShuttingDown())
        elif future.exception() is not None:
            self.put(future.exception())

    async def get(self) -> Any:
        return await self.items.get()


def stream_generate(svc: "Service", req: ImageRequest, channel: EventChannel) -> None:
    """Plan (here, on the server's Limner: ~2 ms), then for each image send its partial
    previews and the final image, each rendered on a worker.

    Each picture is rendered by ``Limner.generate(plan=...)``, which moderates the Plan's
    words (its prompt included) and checks the output options first: a refusal or a bad
    option raises before the first event, so the client gets a plain JSON error.
    Previews are drawn by ``svc.preview``: the draft renderer, the composition a diffusion
    renderer starts from, at a fraction of its cost.
    """
    plans = svc.limner.plans(req.prompt, n=req.n, size=req.size, seed=req.seed,
                             quality=req.quality, background=req.background)
    renderer = svc.served[0]
    for i, plan in enumerate(plans):
        for j, preview in enumerate(partial_plans(plan, req.partial_images)):
            if channel.cancelled.is_set():
                return
            image = svc.preview(preview, req)
            channel.emit(stream_event("image_generation", image, req, renderer,
                                      partial_index=j, image_index=i, final=plan))
        if channel.cancelled.is_set():
            return
        image = svc.execute(render_plan, plan, req)
        channel.emit(stream_event("image_generation", image, req, renderer, image_index=i))
    channel.put(EventChannel.END)


def stream_edit(svc: "Service", req: ImageRequest, channel: EventChannel) -> None:
    """Edit, then send each image as ``image_edit.completed`` (edits have no previews)."""
    result = svc.execute(run_edit, req)
    for i, img in enumerate(result.images):
        channel.emit(stream_event("image_edit", img, req, result.renderer, image_index=i,
                                  result=result))
    channel.put(EventChannel.END)


# --- the app -------------------------------------------------------------------------------
class Service:
    """What every request shares: the Limner (or worker processes each holding one), one
    bounded work queue, the options.

    The queue's threads admit and order the work in both kinds; with worker processes each
    thread hands its job to a process and waits, so ``workers`` jobs run truly in parallel.
    """

    def __init__(self, limner: "Limner", options: ServerOptions):
        self.limner = limner
        self.options = options
        renderer = getattr(limner, "renderer_name", "draft")
        self.worker_kind = choose_worker_kind(limner, options.worker_kind)
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
            (os.cpu_count() or 1)
        workers = options.workers or (cores if self.worker_kind == "process"
                                      else 2 if renderer == "draft" else 1)
        self.queue = WorkQueue(workers, options.queue)
        self.processes = (ProcessWorkers(workers, limner_spec(limner))
                          if self.worker_kind == "process" else None)
        self.served = tuple(dict.fromkeys((renderer, "limner")))
        self.planner = getattr(limner, "planner_name", "rules")
        self.started = time.time()
        self.ready = False
        self._previewer: "Limner | None" = None

    @property
    def previewer(self) -> "Limner":
        """Who draws partial images on a neural renderer: a draft Limner (renderer only:
        previews render given Plans, so its planner never loads)."""
        if self._previewer is None:
            from limner.api import Limner

            self._previewer = Limner(renderer="draft", font=getattr(self.limner, "font", None))
        return self._previewer

    def execute(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(limner, *args)`` on this worker: in a worker process (its own Limner) or
        right here on the shared one. Called from the WorkQueue's threads."""
        if self.processes is None:
            return fn(self.limner, *args)
        from limner.api import DEADLINE

        try:
            return self.processes.call(fn, *args, deadline=DEADLINE.get())
        except (BrokenProcessPool, RuntimeError):   # RuntimeError: the pool was shut down
            if self.queue.stats()["closed"]:
                raise ShuttingDown() from None
            raise

    def preview(self, plan: "Plan", req: ImageRequest) -> "GeneratedImage":
        """A partial image: drawn by the worker on the draft renderer, else by a draft
        Limner on this thread (cheap next to the neural render that follows)."""
        if self.served[0] == "draft":
            return self.execute(render_plan, plan, req)
        return render_plan(self.previewer, plan, req)

    def submit(self, fn: Callable[[], Any]) -> Future:
        """Queue work; 429 with Retry-After when the queue is full, 503 when stopping. The
        work runs under the request's deadline (options.deadline_seconds from now): past it,
        work that has not started never starts and running work stops between images."""
        deadline = time.monotonic() + self.options.deadline_seconds

        def job() -> Any:
            from limner.api import DEADLINE, check_deadline

            token = DEADLINE.set(deadline)
            try:
                check_deadline()
                return fn()
            finally:
                DEADLINE.reset(token)

        try:
            return self.queue.submit(job)
        except QueueFull:
            wait = self.queue.retry_after()
            raise ApiError(429, f"the work queue is full ({self.queue.workers} running, "
                                f"{self.queue.capacity} waiting); retry in {wait} s",
                           type="requests", code="rate_limit_exceeded",
                           headers={"Retry-After": str(wait)}) from None
        except ShuttingDown:
            raise shutting_down() from None

    async def run(self, fn: Callable[[], Any]) -> Any:
        try:
            return await asyncio.wrap_future(self.submit(fn))
        except ShuttingDown:
            raise shutting_down() from None
        except ApiError:
            raise
        except Exception as e:
            raise error_from_exception(e) from None

    def warm_up(self) -> None:
        """Load the planner and renderer and draw one small image now (in every worker
        process too), so no request pays for first-use costs. With worker processes the
        server's own Limner only plans (streams), so its renderer is not loaded here."""
        if self.processes is None:
            _ = self.limner.planner, self.limner.renderer
            warm_limner(self.limner)
        else:
            self.limner.plans('a sign that says "limner" next to a cup', size="256x256")
            self.processes.warm_up()
        self.ready = True

    def close(self, grace_seconds: float) -> None:
        """Stop: fail waiting jobs, let running ones finish within ``grace_seconds``, then
        stop the worker processes (terminating any still busy)."""
        self.queue.drain()
        finished = self.queue.join(grace_seconds)
        if self.processes is not None:
            self.processes.close(kill=not finished)


def shutting_down() -> ApiError:
    return ApiError(503, "the server is shutting down; retry against a running server",
                    type="server_error", code="server_shutting_down",
                    headers={"Retry-After": "1"})


class _TooLarge(Exception):
    pass


class GuardMiddleware:
    """Checks the API key and the body size before any handler reads the body (ASGI)."""

    def __init__(self, app: Any, api_key: str | None, max_body_bytes: int):
        self.app = app
        self.api_key = api_key
        self.max_body = max_body_bytes

    def _authorized(self, scope: dict) -> bool:
        headers = dict(scope.get("headers") or [])
        auth = headers.get(b"authorization", b"").decode("latin-1")
        scheme, _, token = auth.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode(), self.api_key.encode())

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if self.api_key and scope["path"].startswith("/v1/") and not self._authorized(scope):
            await drain_body(receive, self.max_body)
            return await send_error(send, ApiError(
                401, "missing or wrong API key: send the one given to `limner serve "
                     "--api-key` as 'Authorization: Bearer KEY'", code="invalid_api_key",
                headers={"WWW-Authenticate": "Bearer"}))
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            await drain_body(receive)
            return await send_error(send, too_large(self.max_body))
        received = 0
        started = body_done = False

        async def limited_receive() -> dict:
            nonlocal received, body_done
            message = await receive()
            received += len(message.get("body", b""))
            body_done = message["type"] != "http.request" or not message.get("more_body")
            if received > self.max_body:
                raise _TooLarge()
            return message

        async def tracking_send(message: dict) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if started:
                raise
            if not body_done:
                await drain_body(receive)
            await send_error(send, too_large(self.max_body))


DRAIN_LIMIT = 256 * 1024 * 1024


async def drain_body(receive: Callable, limit: int = DRAIN_LIMIT) -> None:
    """Read and drop the rest of a refused body (up to ``limit`` bytes): a server that
    answers and closes while the client is still sending makes the client see a connection
    reset instead of the 401/413."""
    seen = 0
    while seen <= limit:
        message = await receive()
        if message["type"] != "http.request":
            return
        seen += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


def too_large(limit: int) -> ApiError:
    return ApiError(413, f"the request body is over {limit} bytes; send smaller images or "
                         "fewer of them", code="request_too_large")


async def send_error(send: Callable, err: ApiError) -> None:
    body = json.dumps(err.body()).encode()
    headers = [(b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in err.headers.items()]
    await send({"type": "http.response.start", "status": err.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def sse(event: dict) -> bytes:
    """One server-sent event, named by its type as OpenAI's stream does."""
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()


async def json_body(request: "Request") -> Any:
    raw = await request.body()
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise bad_request(None, "the request body is not valid JSON", code="invalid_json") from None


async def form_items(request: "Request") -> list[tuple[str, str | bytes]]:
    """A multipart form as (name, text or file bytes); uploads' filenames are dropped."""
    from starlette.datastructures import UploadFile

    form = await request.form(max_files=MAX_INPUT_IMAGES + 1, max_fields=64)
    try:
        return [(k, await v.read() if isinstance(v, UploadFile) else v)
                for k, v in form.multi_items()]
    finally:
        await form.close()


async def stream_response(svc: Service, job: Callable[[EventChannel], None]) -> Any:
    """Run a streaming job; errors before its first event are plain JSON errors (400,
    moderation_blocked, ...), errors after it are an ``error`` event the SDK raises."""
    from starlette.responses import StreamingResponse

    channel = EventChannel(asyncio.get_running_loop())
    svc.submit(lambda: job(channel)).add_done_callback(channel.on_done)
    first = await channel.get()
    if isinstance(first, BaseException):
        raise error_from_exception(first) if not isinstance(first, ShuttingDown) \
            else shutting_down()

    async def events() -> Any:
        try:
            while True:
                item = await channel.get()
                if item == EventChannel.END:
                    return
                if isinstance(item, BaseException):
                    err = shutting_down() if isinstance(item, ShuttingDown) \
                        else error_from_exception(item)
                    yield sse({"type": "error", **err.body()})
                    return
                yield sse(item)
        finally:
            channel.cancelled.set()

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache"})


def _routes(svc: Service) -> list[tuple[str, Callable, list[str]]]:
    """The endpoints, as Starlette routes taking the raw Request."""
    from starlette.responses import JSONResponse

    async def generations(request: "Request") -> Any:
        req = parse_generation(await json_body(request), svc.served)
        if req.stream:
            return await stream_response(svc, lambda ch: stream_generate(svc, req, ch))
        result = await svc.run(lambda: svc.execute(run_generate, req))
        return JSONResponse(images_response(req, result, svc.served, svc.planner))

    async def edits(request: "Request") -> Any:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith("multipart/form-data"):
            req = parse_edit_form(await form_items(request), svc.served)
        elif ctype.startswith("application/json"):
            req = parse_edit_json(await json_body(request), svc.served)
        else:
            raise bad_request(None, "send multipart/form-data (image, mask files) or "
                                    "application/json (images as data URLs)", code=None)
        if req.stream:
            return await stream_response(svc, lambda ch: stream_edit(svc, req, ch))
        result = await svc.run(lambda: svc.execute(run_edit, req))
        return JSONResponse(images_response(req, result, svc.served, svc.planner))

    async def describe(request: "Request") -> Any:
        image, question = await parse_describe(request)
        # On the server's own Limner (a thread): OCR and any VLM load once, not per process.
        answer = await svc.run(lambda: run_describe(svc.limner, image, question))
        return JSONResponse({"object": "limner.description", "created": int(time.time()),
                             "description": answer})

    async def models(request: "Request") -> Any:
        return JSONResponse({"object": "list",
                             "data": [model_card(m, svc) for m in svc.served + MODEL_ALIASES]})

    async def model(request: "Request") -> Any:
        name = request.path_params["model"]
        if name not in svc.served + MODEL_ALIASES:
            raise ApiError(404, f"The model '{name}' does not exist on this server",
                           code="model_not_found")
        return JSONResponse(model_card(name, svc))

    async def healthz(request: "Request") -> Any:
        stats = svc.queue.stats()
        status = "shutting_down" if stats["closed"] else ("ok" if svc.ready else "starting")
        return JSONResponse({"status": status, "renderer": svc.served[0],
                             "planner": svc.planner, "worker_kind": svc.worker_kind,
                             "queue": stats,
                             "uptime_seconds": round(time.time() - svc.started, 1)},
                            status_code=200 if status == "ok" else 503)

    return [("/v1/images/generations", generations, ["POST"]),
            ("/v1/images/edits", edits, ["POST"]),
            ("/v1/limner/describe", describe, ["POST"]),
            ("/v1/models", models, ["GET"]),
            ("/v1/models/{model}", model, ["GET"]),
            ("/healthz", healthz, ["GET"])]


def model_card(name: str, svc: Service) -> dict:
    return {"id": name, "object": "model", "created": int(svc.started), "owned_by": "limner",
            "limner": {"renderer": svc.served[0], "planner": svc.planner}}


async def parse_describe(request: "Request") -> tuple[bytes, str | None]:
    """``POST /v1/limner/describe``: multipart ``image`` (+ ``question``) or JSON
    ``{"image": DATA_URL, "question": ...}`` → (image bytes, question)."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        fields = dict(await form_items(request))
        image = fields.pop("image", None)
        if not isinstance(image, bytes):
            raise bad_request("image", "image is required: a file upload",
                              code="missing_required_parameter")
        raw: dict = fields
    else:
        raw = await json_body(request)
        if not isinstance(raw, dict):
            raise bad_request(None, "the request body must be a JSON object", code=None)
        raw = dict(raw)
        if raw.get("image") is None:
            raise bad_request("image", "image is required: a base64 data URL",
                              code="missing_required_parameter")
        image = image_from_ref({"image_url": raw.pop("image")}, "image")
    f = _Fields(raw, ("question",), form=True)
    question = f.text("question", max_len=MAX_PROMPT_CHARS)
    check_image(image, "image")
    return image, question


def _web_routes() -> list[tuple[str, Callable, list[str]]]:
    """The page and its two assets, read once from fixed names: a client's path never
    reaches the filesystem (an unknown name is a 404, not a lookup)."""
    from starlette.responses import Response

    assets = {}
    for name, media in WEB_ASSETS.items():
        with open(os.path.join(WEB_DIR, name), "rb") as fh:
            assets[name] = (fh.read(), media)

    headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff",
               "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; "
                                          "frame-ancestors 'none'"}

    def serve_asset(name: str) -> Any:
        body, media = assets[name]
        return Response(body, media_type=media, headers=headers)

    async def index(request: "Request") -> Any:
        return serve_asset("index.html")

    async def asset(request: "Request") -> Any:
        name = request.path_params["name"]
        if name not in assets:
            raise ApiError(404, f"no such file: /web/{name}", code="not_found")
        return serve_asset(name)

    return [("/", index, ["GET"]), ("/web/{name}", asset, ["GET"])]


def _install_error_handlers(app: "FastAPI") -> None:
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException
    from starlette.responses import JSONResponse

    def answer(err: ApiError) -> JSONResponse:
        return JSONResponse(err.body(), status_code=err.status, headers=err.headers)

    async def on_api_error(request: "Request", exc: ApiError) -> JSONResponse:
        return answer(exc)

    async def on_http(request: "Request", exc: HTTPException) -> JSONResponse:
        message = (f"Invalid URL ({request.method} {request.url.path})"
                   if exc.status_code in (404, 405) else str(exc.detail))
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code)
        return answer(ApiError(exc.status_code, message, param=None, code=code))

    async def on_validation(request: "Request", exc: RequestValidationError) -> JSONResponse:
        return answer(bad_request(None, str(exc.errors()[:1]), code=None))

    async def on_other(request: "Request", exc: Exception) -> JSONResponse:
        return answer(error_from_exception(exc))

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(Exception, on_other)


def create_app(limner: "Limner | None" = None,
               options: ServerOptions | None = None) -> "FastAPI":
    """The OpenAI-compatible app, ready for uvicorn (``limner serve``) or Ray Serve.

    Args:
        limner: the shared model; None builds one from ``options`` (planner, renderer, ...).
        options: ServerOptions (defaults: no API key, auto workers, queue 32, 64 MiB bodies).
    Returns:
        A FastAPI app; ``app.state.limner`` is its Service (queue, Limner, options).
    """
    import contextlib

    from fastapi import FastAPI

    from limner.api import Limner

    options = options or ServerOptions()
    if limner is None:
        limner = Limner(planner=options.planner, renderer=options.renderer,
                        model=options.model, device=options.device, font=options.font)
    svc = Service(limner, options)

    @contextlib.asynccontextmanager
    async def lifespan(app: "FastAPI") -> Any:
        if options.warmup and not svc.ready:
            await asyncio.to_thread(svc.warm_up)
        svc.ready = True
        yield
        await asyncio.to_thread(svc.close, options.grace_seconds)

    from limner import __version__

    app = FastAPI(title="limner", version=__version__, lifespan=lifespan, docs_url=None,
                  redoc_url=None, openapi_url=None)
    app.state.limner = svc
    for path, endpoint, methods in _routes(svc) + _web_routes():
        app.add_route(path, endpoint, methods=methods)
    _install_error_handlers(app)
    app.add_middleware(GuardMiddleware, api_key=options.api_key,
                       max_body_bytes=options.max_body_bytes)
    return app


def make_server(app: "FastAPI", host: str = "127.0.0.1", port: int = 8000,
                log_level: str = "info") -> Any:
    """A uvicorn Server for ``app`` whose shutdown first fails the requests still waiting
    (503, so their clients can retry elsewhere), then lets running ones finish within the
    grace period, then stops the workers."""
    import uvicorn

    svc: Service = app.state.limner

    class _Server(uvicorn.Server):
        async def shutdown(self, sockets: Any = None) -> None:
            svc.queue.drain()
            await super().shutdown(sockets)

    config = uvicorn.Config(app, host=host, port=port, log_level=log_level,
                            timeout_graceful_shutdown=svc.options.grace_seconds,
                            lifespan="on")
    return _Server(config)


def serve(host: str = "127.0.0.1", port: int = 8000,
          options: ServerOptions | None = None) -> None:
    """Run the server until Ctrl-C / SIGTERM (``limner serve``). The model loads before the
    port opens, so a bad renderer or planner name fails here with its one-line error."""
    app = create_app(options=options)
    app.state.limner.warm_up()
    make_server(app, host, port).run()
