"""`limner batch`: many prompts from a file into image files and a manifest, resumably.

The prompt file is JSONL (one object a line: ``prompt`` plus optional ``id``, ``size``,
``seed``, ``n``, ``quality``, ``background``, ``plan``, ``references``: up to 16 image paths,
relative to the prompt file, that the prompt may name as ``generate -r`` does) or plain text
(one prompt a line).
Each image is written to ``DIR/<id>-<index>.<ext>``; ``DIR/manifest.jsonl`` gets one row per
image (or per failed run of images) as soon as its file is in place.

Why it survives being killed:
- files are written atomically (temp file + ``os.replace``), so a file on disk is whole;
- a manifest row is appended (and fsynced) only after its file is in place, and records the
  file's sha256, so a rerun trusts a row only when the file on disk still hashes to it;
- a rerun first rewrites the manifest keeping only verified rows (dropping torn last lines,
  errors and stale rows), then renders exactly what is not verified. Each key is rendered at
  most once per run, so a finished manifest has one row per image.

Why the bytes do not depend on how the batch runs: every image is ``Limner.generate`` of one
line's request with seed ``seed + index`` (the same call ``limner generate --seed`` makes), so
a line gives the same bytes alone, in a batch, on one worker or many, locally or on Ray.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

MANIFEST = "manifest.jsonl"
LOCK = ".limner-batch.lock"
LINE_KEYS = ("id", "prompt", "size", "seed", "n", "quality", "background", "plan",
             "references")
BATCH_MAX_N = 1000
FORMAT_EXT = {"png": "png", "jpeg": "jpg", "webp": "webp"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

Row = dict[str, Any]


@dataclass(frozen=True)
class BatchOptions:
    """Everything a batch run needs besides the prompt file.

    Per-line keys override ``size``, ``n``, ``seed``, ``quality`` and ``background``.
    """

    out_dir: str
    renderer: str = "draft"
    planner: str = "rules"
    model: str | None = None
    device: str | None = None
    font: str | None = None
    size: str | None = None
    n: int = 1
    seed: int = 0
    quality: str = "auto"
    background: str = "auto"
    output_format: str = "png"
    workers: int = 1


@dataclass(frozen=True)
class BatchItem:
    """One line of the prompt file, with defaults resolved. ``error`` is set when the line
    itself could not be read (bad JSON, wrong types); such a line is recorded, never run."""

    line: int
    id: str
    prompt: str = ""
    size: str | None = None
    seed: int | None = None
    n: int = 1
    quality: str = "auto"
    background: str = "auto"
    plan: dict | None = None
    references: tuple[str, ...] = ()     # absolute paths of the line's reference images
    error: str | None = None

    @property
    def stem(self) -> str:
        """A file-name-safe form of the id."""
        return _UNSAFE.sub("_", self.id).strip("._") or f"line{self.line}"

    def request_hash(self, opts: BatchOptions) -> str:
        """Fingerprint of everything that decides this line's bytes: a manifest row made for
        another request (edited prompt, other renderer) is not reused."""
        req = {k: getattr(self, k) for k in ("prompt", "size", "seed", "quality",
                                             "background", "plan")}
        if self.references:   # a reference file that changed makes the line new
            req["references"] = [(r, file_sha256(r)) for r in self.references]
        req.update(renderer=opts.renderer, planner=opts.planner, model=opts.model,
                   font=opts.font, format=opts.output_format)
        return _sha256(json.dumps(req, sort_keys=True, ensure_ascii=False).encode())[:16]


@dataclass(frozen=True)
class WorkUnit:
    """Images ``start .. start+count-1`` of one line: rendered by one ``generate`` call."""

    item: BatchItem
    start: int
    count: int

    def to_json(self) -> str:
        return json.dumps({"item": asdict(self.item), "start": self.start, "count": self.count},
                          ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> "WorkUnit":
        d = json.loads(text)
        item = BatchItem(**{**d["item"], "references": tuple(d["item"].get("references", ()))})
        return cls(item=item, start=d["start"], count=d["count"])


@dataclass
class BatchSummary:
    """What a run did. ``failed_*`` count failures of this run (a rerun retries them)."""

    done: int = 0
    skipped: int = 0
    failed_images: int = 0
    failed_lines: set = field(default_factory=set)
    seconds: float = 0.0
    interrupted: bool = False

    @property
    def images_per_second(self) -> float:
        return self.done / self.seconds if self.seconds > 0 else 0.0

    @property
    def exit_code(self) -> int:
        """0: everything is done; 1: some lines failed (see the manifest); 130: interrupted."""
        if self.interrupted:
            return 130
        return 1 if self.failed_lines else 0

    def text(self) -> str:
        return (f"done {self.done}, skipped {self.skipped}, failed {self.failed_images} "
                f"images on {len(self.failed_lines)} lines, {self.images_per_second:.2f} "
                f"images/s, {self.seconds:.1f} s" + (" (interrupted: rerun to continue)"
                                                     if self.interrupted else ""))


def _worker_name() -> str:
    """``host:pid`` of this process: the manifest says which node (and worker) made a file."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: str | os.PathLike) -> str | None:
    """sha256 of a file's bytes, or None when it cannot be read."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        return None
    return h.hexdigest()


def check_options(prompts: str | os.PathLike, opts: BatchOptions) -> BatchOptions:
    """Check a run's options at the edge, before anything is read or rendered.

    Returns:
        the options with ``size`` normalised (``auto`` → None, ``" 512X512"`` → ``512x512``).
    Raises:
        LimnerError: naming the option and the allowed values.
    """
    from limner.api import BACKGROUNDS, OUTPUT_FORMATS, QUALITIES, LimnerError
    from planner.schema import SizeError, parse_size

    if not Path(prompts).is_file():
        raise LimnerError(f"prompt file {str(prompts)!r}: no such file", "prompts")
    if Path(opts.out_dir).exists() and not Path(opts.out_dir).is_dir():
        raise LimnerError(f"--out {opts.out_dir}: exists and is not a directory", "out")
    for name, value, allowed in (("quality", opts.quality, QUALITIES),
                                 ("background", opts.background, BACKGROUNDS),
                                 ("format", opts.output_format, OUTPUT_FORMATS)):
        if value not in allowed:
            raise LimnerError(f"--{name} must be one of {', '.join(allowed)}; got {value!r}",
                              name)
    if not 1 <= opts.n <= BATCH_MAX_N:
        raise LimnerError(f"-n must be from 1 to {BATCH_MAX_N}; got {opts.n}", "n")
    if opts.seed < 0:
        raise LimnerError(f"--seed must be non-negative; got {opts.seed}", "seed")
    if opts.workers < 1:
        raise LimnerError(f"--workers must be at least 1; got {opts.workers}", "workers")
    if opts.font is not None and not Path(opts.font).is_file():
        raise LimnerError(f"--font {opts.font}: no such file", "font")
    try:
        size = parse_size(opts.size)
    except SizeError as e:
        raise LimnerError(f"--size: {e}", "size") from None
    # absolute paths: Ray actors (and spawned workers) need not share the driver's cwd
    return replace(opts, size=None if size is None else f"{size[0]}x{size[1]}",
                   out_dir=os.path.abspath(opts.out_dir),
                   font=None if opts.font is None else os.path.abspath(opts.font))


# --- reading the prompt file ---------------------------------------------------------------
def _check_line(obj: dict, base: Path) -> dict:
    """Type-check one JSON line; returns its fields. Raises ValueError naming the key."""
    if not isinstance(obj.get("prompt", ""), str):
        raise ValueError("prompt must be a string")
    if "prompt" not in obj and "plan" not in obj:
        raise ValueError("a line needs 'prompt' (or 'plan')")
    for key in ("seed", "n"):
        v = obj.get(key)
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
            raise ValueError(f"{key} must be a non-negative integer, got {v!r}")
    if obj.get("n") is not None and not 1 <= obj["n"] <= BATCH_MAX_N:
        raise ValueError(f"n must be from 1 to {BATCH_MAX_N}, got {obj['n']}")
    for key in ("size", "quality", "background"):
        if obj.get(key) is not None and not isinstance(obj[key], str):
            raise ValueError(f"{key} must be a string, got {obj[key]!r}")
    plan = obj.get("plan")
    if isinstance(plan, str):  # a path to a saved Plan, relative to the prompt file
        try:
            plan = json.loads((base / plan).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise ValueError(f"plan file {plan!r} cannot be read: {e}") from None
    if plan is not None and not isinstance(plan, dict):
        raise ValueError("plan must be a Plan object or a path to a Plan JSON file")
    if plan is not None and (not isinstance(plan.get("seed", 0), int)
                             or isinstance(plan.get("seed"), bool) or plan.get("seed", 0) < 0
                             or not isinstance(plan.get("prompt", ""), str)):
        raise ValueError("plan seed must be a non-negative integer and its prompt a string")
    if plan is not None and obj.get("size") is not None:
        raise ValueError("give size or plan, not both: a Plan's size is its canvas")
    return {**obj, "plan": plan, "references": _check_references(obj.get("references"), base)}


def _check_references(refs: Any, base: Path) -> tuple[str, ...]:
    """A line's ``references``: a list of at most 16 image paths (relative to the prompt
    file) that exist; their pictures are checked by ``Limner.generate`` as ``-r`` files are.
    Raises ValueError naming the key."""
    from render.references import MAX_REFERENCES

    if refs is None:
        return ()
    if not isinstance(refs, list) or not all(isinstance(r, str) and r for r in refs):
        raise ValueError("references must be a list of image file paths")
    if len(refs) > MAX_REFERENCES:
        raise ValueError(f"references: {len(refs)} images given; at most {MAX_REFERENCES} "
                         "are accepted")
    out = []
    for i, r in enumerate(refs):
        path = (base / r).resolve()
        if not path.is_file():
            raise ValueError(f"references[{i}] {r!r}: no such file")
        out.append(str(path))
    return tuple(out)


def parse_line(text: str, line: int, opts: BatchOptions, base: Path = Path(".")) -> BatchItem:
    """One line of a prompt file → a BatchItem (never raises: a bad line carries ``error``).

    Args:
        text: the line without its newline; JSON when it starts with ``{``, else a prompt.
        line: 1-based line number (the id when the line has none).
        opts: the run's defaults for size, n, seed, quality and background.
        base: the directory that relative ``plan`` paths are resolved against.
    """
    if not text.lstrip().startswith("{"):
        return BatchItem(line=line, id=str(line), prompt=text.strip(), size=opts.size,
                         seed=opts.seed, n=opts.n, quality=opts.quality,
                         background=opts.background)
    raw_id = str(line)
    try:
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as e:
            raise ValueError(f"not valid JSON ({e.msg} at column {e.colno})") from None
        if not isinstance(obj, dict):
            raise ValueError("a JSON line must be an object")
        if isinstance(obj.get("id"), (str, int)) and not isinstance(obj.get("id"), bool):
            raw_id = str(obj["id"])
        elif obj.get("id") is not None:
            raise ValueError("id must be a string or an integer")
        obj = _check_line(obj, base)
    except ValueError as e:
        return BatchItem(line=line, id=raw_id, error=f"line {line}: {e}")
    plan = obj.get("plan")
    seed = obj.get("seed")
    if seed is None:
        seed = plan.get("seed", 0) if plan is not None else opts.seed
    prompt = obj.get("prompt") or (plan.get("prompt", "") if plan is not None else "")
    return BatchItem(
        line=line, id=raw_id, prompt=prompt, seed=seed, plan=plan,
        size=obj.get("size") or (None if plan is not None else opts.size),
        n=obj.get("n") or opts.n, quality=obj.get("quality") or opts.quality,
        background=obj.get("background") or opts.background,
        references=obj.get("references") or ())


def read_prompts(path: str | os.PathLike, opts: BatchOptions,
                 warn: Callable[[str], None] | None = None) -> Iterator[BatchItem]:
    """Read a prompt file (JSONL or plain text; blank lines are skipped).

    A second line with an id (or file stem) already used becomes an error item: two lines must
    never write the same file. Unknown JSON keys are ignored, but named once through ``warn``
    so that a typo (``"sise"``) does not pass silently.
    """
    base = Path(path).resolve().parent
    stems: dict[str, int] = {}
    unknown: set[str] = set()
    with open(path, encoding="utf-8-sig") as f:
        for line, text in enumerate(f, start=1):
            if not text.strip():
                continue
            item = parse_line(text.rstrip("\r\n"), line, opts, base)
            if text.lstrip().startswith("{") and item.error is None:
                unknown |= set(json.loads(text)) - set(LINE_KEYS)
            if item.error is None and item.stem in stems:
                item = replace(item, error=f"line {line}: id {item.id!r} is already used on "
                                           f"line {stems[item.stem]}")
            stems.setdefault(item.stem, line)
            yield item
    if unknown and warn is not None:
        warn(f"ignored keys in {Path(path).name}: {', '.join(sorted(unknown))} "
             f"(known: {', '.join(LINE_KEYS)})")


# --- the manifest --------------------------------------------------------------------------
def image_name(item: BatchItem, index: int, output_format: str) -> str:
    """The file name of image ``index`` of a line, relative to the output directory."""
    return f"{item.stem}-{index}.{FORMAT_EXT[output_format]}"


def _row_key(row: Row) -> tuple[str, int | None]:
    return str(row.get("id")), row.get("index")


class Manifest:
    """The append-only JSONL record of a batch directory.

    Args:
        out_dir: the batch's output directory; the manifest is ``out_dir/manifest.jsonl``.
    """

    def __init__(self, out_dir: str | os.PathLike):
        self.out_dir = Path(out_dir)
        self.path = self.out_dir / MANIFEST
        self._f = None

    def rows(self) -> list[Row]:
        """Every readable row, oldest first (a torn last line from a kill is skipped)."""
        out: list[Row] = []
        if not self.path.exists():
            return out
        with open(self.path, encoding="utf-8") as f:
            for text in f:
                try:
                    row = json.loads(text)
                except ValueError:
                    continue
                if isinstance(row, dict) and "id" in row:
                    out.append(row)
        return out

    def verified(self, row: Row) -> bool:
        """A row is done when it has no error and its file on disk hashes to its sha256."""
        if row.get("error") or not row.get("file") or not row.get("sha256"):
            return False
        return file_sha256(self.out_dir / row["file"]) == row["sha256"]

    def compact(self, keep: Callable[[Row], bool]) -> dict[tuple[str, int | None], Row]:
        """Rewrite the manifest atomically with the newest verified row of each image for
        which ``keep(row)`` holds, plus verified rows of ids this run does not know.

        Returns:
            the kept rows by ``(id, index)``.
        """
        latest: dict[tuple[str, int | None], Row] = {}
        for row in self.rows():
            latest[_row_key(row)] = row
        kept = {k: r for k, r in latest.items() if self.verified(r) and keep(r)}
        tmp = self.path.with_name(MANIFEST + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            for row in kept.values():
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        _fsync_dir(self.out_dir)
        return kept

    def append(self, rows: Iterable[Row]) -> None:
        """Append rows and fsync: once this returns, the rows survive a power cut."""
        if self._f is None:
            self._f = open(self.path, "a", encoding="utf-8")
        for row in rows:
            self._f.write(json.dumps(row, ensure_ascii=False) + "\n")
        self._f.flush()
        os.fsync(self._f.fileno())

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- rendering one unit (the same function locally, in worker processes and on Ray) --------
def make_limner(opts: BatchOptions):
    """The Limner a worker holds for the whole run (models load once per worker)."""
    from limner.api import Limner

    return Limner(planner=opts.planner, renderer=opts.renderer, model=opts.model,
                  device=opts.device, font=opts.font)


def _generate(lim, item: BatchItem, seed: int, count: int, opts: BatchOptions):
    if item.plan is not None:
        from planner.schema import Plan

        try:
            plan = Plan.model_validate({**item.plan, "seed": seed})
        except ValueError as e:
            from limner.api import LimnerError

            raise LimnerError(f"plan is not a valid Plan: {' '.join(str(e).split()[:40])}",
                              "plan", "invalid_plan") from None
        return lim.generate(plan=plan, n=count, output_format=opts.output_format,
                            references=list(item.references))
    return lim.generate(item.prompt, n=count, size=item.size, seed=seed, quality=item.quality,
                        background=item.background, output_format=opts.output_format,
                        references=list(item.references))


def _error_row(unit: WorkUnit, opts: BatchOptions, error: BaseException | str,
               seconds: float) -> Row:
    item = unit.item
    if not isinstance(error, BaseException):
        code = "bad_line"
    else:  # a LimnerError's code ("moderation_blocked"), else the field it names
        param = getattr(error, "param", None)
        code = (getattr(error, "code", None) or (f"invalid_{param}" if param else None)
                or type(error).__name__)
    return {"id": item.id, "line": item.line, "index": unit.start, "images": unit.count,
            "prompt": item.prompt, "seed": None if item.seed is None else item.seed + unit.start,
            "file": None, "sha256": None, "plan_hash": None, "seconds": round(seconds, 4),
            "error": " ".join(str(error).split()), "code": code,
            "request": item.request_hash(opts), "worker": _worker_name()}


def render_unit(lim, unit: WorkUnit, opts: BatchOptions) -> list[Row]:
    """Render one unit, write its files atomically, and return its manifest rows.

    A failure (bad size, moderation refusal, render error, anything the line causes) becomes
    one error row: a batch never stops for one line.
    """
    from limner.api import MAX_N
    from render.encode import write_atomic

    item, rows = unit.item, []
    if item.error is not None:
        return [_error_row(unit, opts, item.error, 0.0)]
    out_dir = Path(opts.out_dir)
    for start in range(unit.start, unit.start + unit.count, MAX_N):
        count = min(MAX_N, unit.start + unit.count - start)
        t0 = time.perf_counter()
        try:
            result = _generate(lim, item, item.seed + start, count, opts)
            names = [image_name(item, start + i, opts.output_format) for i in range(count)]
            for img, name in zip(result.images, names):
                write_atomic(str(out_dir / name), img.data, overwrite=True)
        except Exception as e:  # noqa: BLE001 - any per-line failure is recorded, not fatal
            rows.append(_error_row(WorkUnit(item, start, count), opts, e,
                                   time.perf_counter() - t0))
            continue
        seconds = (time.perf_counter() - t0) / count
        for i, (img, name) in enumerate(zip(result.images, names)):
            rows.append({
                "id": item.id, "line": item.line, "index": start + i, "prompt": item.prompt,
                "seed": img.seed, "file": name, "sha256": _sha256(img.data),
                "plan_hash": _sha256(img.plan.canonical_json().encode()),
                "seconds": round(seconds, 4), "error": None, "code": None,
                "request": item.request_hash(opts), "worker": _worker_name()})
    return rows


# --- planning the run ------------------------------------------------------------------------
def pending_units(items: Sequence[BatchItem], done: set[tuple[str, int | None]],
                  ) -> tuple[list[WorkUnit], int]:
    """The work still to do: contiguous runs of images that are not done, per line.

    Returns:
        ``(units, skipped)``: skipped counts the images already done and verified.
    """
    units, skipped = [], 0
    for item in items:
        if item.error is not None:
            units.append(WorkUnit(item, 0, 1))
            continue
        run_start = None
        for index in range(item.n + 1):  # one step past the end closes the last run
            missing = index < item.n and (item.id, index) not in done
            if index < item.n and not missing:
                skipped += 1
            if missing and run_start is None:
                run_start = index
            elif not missing and run_start is not None:
                units.append(WorkUnit(item, run_start, index - run_start))
                run_start = None
    return units, skipped


def prepare(prompts: str | os.PathLike, opts: BatchOptions,
            warn: Callable[[str], None] | None = None
            ) -> tuple[Manifest, list[WorkUnit], int]:
    """Read the prompt file, verify the manifest against the files on disk, compact it.

    Returns:
        ``(manifest, units to render, images skipped as done)``.
    """
    items = list(read_prompts(prompts, opts, warn=warn))
    requests = {it.id: it.request_hash(opts) for it in items if it.error is None}
    ids_here = {it.id for it in items}
    manifest = Manifest(opts.out_dir)

    def keep(row: Row) -> bool:
        # rows of this file's ids count only for the same request and an index still wanted;
        # rows of other ids (another prompt file sharing the directory) are left alone
        rid = str(row["id"])
        if rid not in ids_here:
            return True
        return row.get("request") == requests.get(rid)

    kept = manifest.compact(keep)
    _remove_stale_temps(Path(opts.out_dir))
    sizes = {it.id: it.n for it in items}
    done = {k for k in kept if k[0] in requests and isinstance(k[1], int) and k[1] < sizes[k[0]]}
    units, skipped = pending_units(items, done)
    return manifest, units, skipped


_TEMP = re.compile(r"^\..+\.(png|jpg|webp)\.[^.]+\.tmp$")


def _remove_stale_temps(out_dir: Path) -> None:
    """Delete the temp files of writes a kill interrupted (render.encode.write_atomic names
    them ``.<name>.<random>.tmp``); safe because the directory lock is held."""
    for p in out_dir.iterdir():
        if _TEMP.match(p.name):
            p.unlink(missing_ok=True)


# --- running -----------------------------------------------------------------------------------
class _Progress:
    """A rich progress bar on stderr with rate and ETA; silent when ``enabled`` is False."""

    def __init__(self, total: int, skipped: int, enabled: bool):
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)

        self.start = time.perf_counter()
        self.rendered = 0
        self.bar = Progress(TextColumn("batch"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
                            TextColumn("ETA"), TimeRemainingColumn(),
                            console=Console(stderr=True), disable=not enabled)
        self.task = self.bar.add_task("batch", total=total, completed=skipped, rate="")

    def __enter__(self) -> "_Progress":
        self.bar.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.bar.__exit__(*exc)

    def advance(self, images: int, rendered: int) -> None:
        self.rendered += rendered
        rate = self.rendered / max(time.perf_counter() - self.start, 1e-9)
        self.bar.update(self.task, advance=images, rate=f"{rate:.2f} img/s")


def _record(summary: BatchSummary, manifest: Manifest, progress: _Progress,
            rows: list[Row]) -> None:
    manifest.append(rows)
    ok = sum(1 for r in rows if not r["error"])
    bad = sum(r.get("images", 1) for r in rows if r["error"])
    summary.done += ok
    summary.failed_images += bad
    summary.failed_lines |= {r["line"] for r in rows if r["error"]}
    progress.advance(ok + bad, ok)


def run_batch(prompts: str | os.PathLike, opts: BatchOptions, *, progress: bool = True,
              ray: Any = None, warn: Callable[[str], None] | None = None) -> BatchSummary:
    """Run (or resume) a batch: render what is not done, append manifest rows as it goes.

    Args:
        prompts: the prompt file (JSONL or plain text).
        opts: output directory, renderer and per-line defaults.
        progress: show a progress bar on stderr.
        ray: a ``limner.ray_backend.RayOptions`` to run on Ray instead of local processes.
        warn: where notes about the input go (default: stderr).
    Returns:
        the run's BatchSummary (``exit_code`` says whether any line failed).
    """
    warn = warn or (lambda msg: print(f"limner: note: {msg}", file=sys.stderr))
    try:
        Path(opts.out_dir).mkdir(parents=True, exist_ok=True)
    except OSError as e:
        from limner.api import LimnerError

        raise LimnerError(f"--out {opts.out_dir}: cannot create it ({e.strerror})", "out",
                          "bad_output") from None
    with _dir_lock(Path(opts.out_dir)):
        manifest, units, skipped = prepare(prompts, opts, warn=warn)
        summary = BatchSummary(skipped=skipped)
        total = skipped + sum(u.count for u in units)
        t0 = time.perf_counter()
        try:
            with _Progress(total, skipped, progress) as bar:
                sink = lambda rows: _record(summary, manifest, bar, rows)  # noqa: E731
                if ray is not None:
                    from limner.ray_backend import run_units

                    run_units(units, opts, ray, sink)
                else:
                    _run_local(units, opts, sink)
        except KeyboardInterrupt:
            summary.interrupted = True
        finally:
            manifest.close()
            summary.seconds = time.perf_counter() - t0
    return summary


class _dir_lock:
    """An exclusive lock on the output directory: two batches must not share a manifest."""

    def __init__(self, out_dir: Path):
        self.path = out_dir / LOCK
        self.fd = -1

    def __enter__(self) -> "_dir_lock":
        import fcntl

        from limner.api import LimnerError

        self.fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            raise LimnerError(f"another limner batch is writing to {self.path.parent}",
                              "out", "busy") from None
        return self

    def __exit__(self, *exc) -> None:
        os.close(self.fd)  # closing releases the flock


# --- local execution: in process (1 worker) or a process pool (K workers) ---------------------
_WORKER: dict[str, Any] = {}  # set only inside pool worker processes: their own Limner


def _worker_init(opts: BatchOptions) -> None:
    import signal

    # Ctrl-C goes to the whole process group; the parent handles it and stops the pool, so
    # workers ignore it rather than dying mid-render with a traceback each.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent(os.getppid())
    _WORKER["lim"] = make_limner(opts)
    _WORKER["opts"] = opts


def _exit_with_parent(parent: int, poll: float = 0.5) -> None:
    """End this worker when the batch process is gone (kill -9, crash).

    A pool worker holds both ends of its task queue's pipe, so it never sees end-of-file when
    its parent dies; without this it would sleep forever (or finish a render no one records).
    """
    import threading

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll)
        os._exit(0)  # no cleanup to run: files are atomic, rows are the parent's job

    threading.Thread(target=watch, name="limner-parent-watch", daemon=True).start()


def _worker_run(unit_json: str) -> list[Row]:
    return render_unit(_WORKER["lim"], WorkUnit.from_json(unit_json), _WORKER["opts"])


def _run_local(units: list[WorkUnit], opts: BatchOptions,
               sink: Callable[[list[Row]], None]) -> None:
    if opts.workers <= 1:
        lim = make_limner(opts)
        for unit in units:
            sink(render_unit(lim, unit, opts))
        return
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # spawn: the parent may run threads (the progress bar); forking those is unsafe
    ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=opts.workers, mp_context=ctx,
                               initializer=_worker_init, initargs=(opts,))
    pending: set = set()
    todo = iter(units)
    try:
        while True:
            # a bounded number in flight: a million-line file is not queued all at once
            for unit in todo:
                pending.add(pool.submit(_worker_run, unit.to_json()))
                if len(pending) >= 4 * opts.workers:
                    break
            if not pending:
                break
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                sink(fut.result())
    finally:
        pool.shutdown(wait=not pending, cancel_futures=True)
