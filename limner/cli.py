"""`limner`: the command-line face of the same calls as limner.api.Limner.

Thin: parse, call Limner, print. A user mistake is one line on stderr and exit code 2.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Optional

import typer
from typer._click import exceptions as click_exc  # typer vendors click

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  rich_markup_mode=None,
                  help="limner: plan, then draw. Local, open-weights image generation.")


RENDERER_HELP = ("draft, a diffusion preset (sdxl, sdxl-lightning, sdxl-turbo, sd35, "
                 "flux-schnell, flux-dev, pixart, qwen-image, z-image-turbo, z-image, "
                 "flux2-klein, flux2-klein-base, flux2-dev), a local pipeline directory or a "
                 ".safetensors checkpoint")
TEXT_HELP = ("exact|native|auto: who draws the quoted text (exact: limner's text engine; "
             "native: the model, where it can; auto: native, checked by OCR in its box and "
             "redrawn exactly where it reads wrong)")


DTYPE_HELP = "float32|float16|bfloat16 for a neural renderer (default: the preset's on GPU)"
STEPS_HELP = "denoising steps for a neural renderer (default: the quality tier's)"
LORA_HELP = "PATH[:SCALE] of a .safetensors LoRA for a neural renderer (repeatable)"
BASE_HELP = ("with --renderer FILE.safetensors: the diffusers pipeline (directory or cached "
             "repo) giving its configs and the parts the file lacks (default: the family's "
             "base preset)")


def _neural_options(renderer: str, **options) -> dict:
    """The neural-renderer options the user set (a draft render takes none)."""
    given = {k: v for k, v in options.items() if v is not None}
    if given and renderer == "draft":
        _fail(f"{', '.join('--' + k for k in given)} need a neural --renderer "
              "(a preset, a pipeline directory or a checkpoint file)")
    return given


class UserError(Exception):
    """Raised by commands for a user mistake; main() prints it on one line, exit 2."""


def _fail(message: str) -> None:
    raise UserError(message)


def _print_plan_tree(plan) -> None:
    from rich.console import Console
    from rich.tree import Tree

    c = plan.canvas
    bg = c.background
    bg_desc = bg.kind + (f" {bg.scene}" if bg.scene else "") + (f" {bg.color}" if bg.color else "")
    if bg.reference is not None:
        bg_desc = f"reference {bg.reference + 1}"
    tree = Tree(f"[bold]Plan[/bold] {c.width}x{c.height}  background: {bg_desc}  "
                f"seed {plan.seed}  planner {plan.planner}")
    for el in plan.elements:
        box = "[" + ", ".join(f"{v:.2f}" for v in el.box) + "]"
        if el.kind == "text":
            tree.add(f"text {el.id}: {el.content!r} ({el.script}) {box}")
        else:
            color = f" {el.color}" if el.color else ""
            kind = el.shape if el.kind == "shape" else "object"
            ref = f" = reference {el.reference + 1}" if getattr(el, "reference", None) \
                is not None else ""
            tree.add(f"{kind} {el.id}: {el.label}{color}{ref} {box}")
    Console().print(tree)


@app.command()
def plan(
    prompt: Optional[str] = typer.Argument(None, help="what to draw"),
    json_out: bool = typer.Option(False, "--json", help="print the Plan as JSON"),
    schema: bool = typer.Option(False, "--schema", help="print the Plan's JSON Schema"),
    size: str = typer.Option("auto", "--size", help="WxH (sides divisible by 16) or auto"),
    seed: int = typer.Option(0, "--seed"),
    quality: str = typer.Option("auto", "--quality", help="low|medium|high|auto"),
    background: str = typer.Option("auto", "--background", help="auto|transparent|opaque"),
    planner: str = typer.Option("rules", "--planner", help="rules|llm|auto"),
    model: Optional[str] = typer.Option(None, "--model", help="LLM preset name or path"),
    references: int = typer.Option(0, "--references", min=0, max=16,
                                   help="how many reference images the prompt names "
                                        "(\"the cup from image 2\"): plan without the images"),
    explain: bool = typer.Option(False, "--explain",
                                 help="also print what --renderer reads: its structured "
                                      "prompt, or its prompt segments and their boxes"),
    renderer: str = typer.Option("draft", "--renderer", help=RENDERER_HELP),
    text: str = typer.Option("auto", "--text", help=TEXT_HELP),
) -> None:
    """Turn a prompt into a Plan (no pixels)."""
    if schema:
        from planner.schema import plan_json_schema

        typer.echo(json.dumps(plan_json_schema(), indent=2))
        return
    if prompt is None:
        _fail("plan needs a PROMPT (or --schema)")
    from limner.api import Limner

    p = Limner(planner=planner, model=model).plan(prompt, size=size, seed=seed,
                                                  quality=quality, background=background,
                                                  references=references)
    if json_out:
        typer.echo(p.to_json())
    else:
        _print_plan_tree(p)
    if explain:
        _explain(p, renderer, text)


def _explain(plan, renderer: str, text: str) -> None:
    """Print what ``renderer`` reads for ``plan`` (no weights are loaded)."""
    from render.text_modes import TEXT_MODES

    if text not in TEXT_MODES:
        _fail(f"--text must be one of {', '.join(TEXT_MODES)}; got {text!r}")
    if renderer == "draft":
        typer.echo("\n--renderer draft reads the Plan itself: it draws every element and "
                   "text exactly (no prompt)")
        return
    from render.diffusion import explain

    segments = explain(renderer, plan, text)
    typer.echo(f"\n--renderer {renderer} reads:")
    if len(segments) == 1:
        typer.echo(segments[0][0])
        return
    for i, (words, boxes, invert) in enumerate(segments):
        where = ("everywhere" if not boxes else
                 ("outside " if invert else "inside ")
                 + " ".join("[" + ", ".join(f"{v:.2f}" for v in b) + "]" for b in boxes))
        typer.echo(f"segment {i} ({where}): {words}")


def _load_plan(path: Path):
    """A Plan from a JSON file, or from a limner image that carries one (png/jpeg/webp)."""
    from planner.schema import Plan

    data = path.read_bytes()
    if data[:8] == b"\x89PNG\r\n\x1a\n" or data[:3] == b"\xff\xd8\xff" or data[:4] == b"RIFF":
        from render.encode import read_plan

        found = read_plan(data)
        if found is None:
            raise ValueError("the image carries no limner Plan")
        return found
    return Plan.from_json(data.decode("utf-8"))


def numbered(path: Path, i: int, n: int) -> Path:
    """out.png → out.png (n = 1) or out-1.png, out-2.png, ... (n > 1)."""
    return path if n == 1 else path.with_name(f"{path.stem}-{i + 1}{path.suffix}")


@app.command()
def generate(
    prompt: Optional[str] = typer.Argument(None, help="what to draw"),
    out: Path = typer.Option(Path("limner.png"), "-o", "--out", help="output file"),
    size: str = typer.Option("auto", "--size", help="WxH (sides divisible by 16) or auto"),
    quality: str = typer.Option("auto", "--quality", help="low|medium|high|auto"),
    background: str = typer.Option("auto", "--background", help="auto|transparent|opaque"),
    fmt: Optional[str] = typer.Option(None, "--format",
                                      help="png|jpeg|webp (default: from -o's suffix)"),
    compression: Optional[int] = typer.Option(None, "--compression",
                                              help="0-100, jpeg/webp"),
    n: int = typer.Option(1, "-n", help="number of images, 1-10"),
    seed: int = typer.Option(0, "--seed"),
    plan_file: Optional[Path] = typer.Option(
        None, "--plan", help="render a saved Plan (JSON, or a limner image carrying one)"),
    planner: str = typer.Option("rules", "--planner", help="rules|llm|auto"),
    model: Optional[str] = typer.Option(None, "--model", help="LLM preset name or path"),
    renderer: str = typer.Option("draft", "--renderer",
                                 help=RENDERER_HELP),
    device: Optional[str] = typer.Option(None, "--device", help="cuda|cpu"),
    dtype: Optional[str] = typer.Option(None, "--dtype", help=DTYPE_HELP),
    steps: Optional[int] = typer.Option(None, "--steps", help=STEPS_HELP),
    lora: Optional[list[str]] = typer.Option(None, "--lora", help=LORA_HELP),
    base: Optional[str] = typer.Option(None, "--base", help=BASE_HELP),
    font: Optional[Path] = typer.Option(None, "--font", help="font file for all text"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace existing files"),
    moderation: str = typer.Option("auto", "--moderation",
                                   help="auto|low: how strict the prompt filter is"),
    text: str = typer.Option("auto", "--text", help=TEXT_HELP),
    reference: Optional[list[Path]] = typer.Option(
        None, "--reference", "-r", help="reference image the prompt may name (\"the bottle "
        "from image 1\", \"these products\"); repeat, up to 16"),
) -> None:
    """Plan and draw a prompt (or a saved Plan) into image files."""
    from limner.api import Limner
    from planner.schema import Plan

    suffix_fmt = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp"}
    if fmt is None:
        fmt = suffix_fmt.get(out.suffix.lower())
        if fmt is None:
            _fail(f"cannot tell the format from {out.name!r}: use a .png/.jpg/.webp name "
                  "or --format png|jpeg|webp")
    if font is not None and not font.is_file():
        _fail(f"--font {font}: no such file")
    plan_obj = None
    if plan_file is not None:
        try:
            plan_obj = _load_plan(plan_file)
        except FileNotFoundError:
            _fail(f"--plan {plan_file}: no such file")
        except ValueError as e:
            first = str(e).splitlines()
            _fail(f"--plan {plan_file}: not a valid Plan: {' '.join(first[:3])}")
    elif prompt is None:
        _fail("generate needs a PROMPT or --plan FILE")
    targets = [numbered(out, i, n) for i in range(max(n, 1))]
    if not overwrite:
        for t in targets:
            if t.exists():
                _fail(f"{t} exists; pass --overwrite to replace it")
    lim = Limner(planner=planner, model=model, renderer=renderer, device=device,
                 font=str(font) if font else None,
                 **_neural_options(renderer, dtype=dtype, steps=steps,
                                   loras=tuple(lora) if lora else None, base=base))
    with _progress(n, renderer, size) as advance:
        def save(i: int, img) -> None:
            # Each file is written as soon as it is ready: an interrupted -n 10 keeps its work.
            try:
                img.save(str(targets[i]), overwrite=overwrite)
            except FileExistsError:
                _fail(f"{targets[i]} exists; pass --overwrite to replace it")
            except OSError as e:  # unwritable directory, full disk, a directory named so
                _fail(f"cannot write {targets[i]}: {e.strerror or e}")
            advance(f"{targets[i]}  {img.plan.canvas.width}x{img.plan.canvas.height}  "
                    f"seed {img.seed}")

        result = lim.generate(prompt, plan=plan_obj, n=n, size=size, seed=seed,
                              quality=quality, background=background, output_format=fmt,
                              output_compression=compression, on_image=save,
                              moderation=moderation, text=text,
                              references=[str(r) for r in reference or []])
    _warn(result.notes)


def _warn(notes) -> None:
    """What the renderer did not do as asked, on stderr (the files are still written)."""
    for note in notes or ():
        typer.echo(f"limner: warning: {note}", err=True)


@contextlib.contextmanager
def _progress(n: int, renderer: str, size: str):
    """A progress bar on stderr for long work (several images, a neural renderer or a big
    canvas); yields ``advance(line)``, which also prints each finished file's line."""
    big = any(int(v) >= 2048 for v in size.lower().replace("×", "x").split("x")
              if v.strip().isdigit())
    if n == 1 and renderer == "draft" and not big:
        yield lambda line: typer.echo(line)
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("drawing", total=n)

        def advance(line: str) -> None:
            typer.echo(line)  # stdout: rich keeps the bar (stderr) below the printed lines
            bar.advance(task)

        yield advance


@app.command()
def batch(
    prompts: Path = typer.Argument(..., help="JSONL (prompt, id, size, seed, n, quality, "
                                             "background, plan) or plain text, one a line"),
    out: Path = typer.Option(..., "-o", "--out", help="output directory (resumable)"),
    size: str = typer.Option("auto", "--size", help="default WxH or auto"),
    quality: str = typer.Option("auto", "--quality", help="default low|medium|high|auto"),
    background: str = typer.Option("auto", "--background",
                                   help="default auto|transparent|opaque"),
    fmt: str = typer.Option("png", "--format", help="png|jpeg|webp"),
    n: int = typer.Option(1, "-n", help="default images per line"),
    seed: int = typer.Option(0, "--seed", help="default seed of a line's first image"),
    planner: str = typer.Option("rules", "--planner", help="rules|llm|auto"),
    model: Optional[str] = typer.Option(None, "--model", help="LLM preset name or path"),
    renderer: str = typer.Option("draft", "--renderer",
                                 help=RENDERER_HELP),
    device: Optional[str] = typer.Option(None, "--device", help="cuda|cpu"),
    font: Optional[Path] = typer.Option(None, "--font", help="font file for all text"),
    workers: int = typer.Option(1, "--workers", help="local worker processes"),
    ray: bool = typer.Option(False, "--ray", help="run on Ray (pip install 'limner[ray]')"),
    ray_address: Optional[str] = typer.Option(
        None, "--ray-address", help="Ray cluster (auto, ray://HOST:10001); default: "
                                    "RAY_ADDRESS, else a local instance; implies --ray"),
    ray_actors: Optional[int] = typer.Option(None, "--ray-actors",
                                             help="actors (default: fill the cluster)"),
    ray_gpus: float = typer.Option(0.0, "--ray-gpus", help="GPUs per actor"),
    no_progress: bool = typer.Option(False, "--no-progress", help="no progress bar"),
) -> None:
    """Render a prompt file into DIR with a manifest; a rerun resumes. Exit 1 if any line
    failed (its error is in DIR/manifest.jsonl)."""
    from limner.batch import BatchOptions, check_options, run_batch

    opts = check_options(prompts, BatchOptions(
        out_dir=str(out), renderer=renderer, planner=planner, model=model, device=device,
        font=str(font) if font else None, size=size, n=n, seed=seed, quality=quality,
        background=background, output_format=fmt, workers=workers))
    ray_opts = None
    if ray or ray_address:
        if workers != 1:
            _fail("--workers is for local runs; on Ray use --ray-actors")
        from limner.ray_backend import RayOptions, require_ray

        require_ray()
        ray_opts = RayOptions(address=ray_address, actors=ray_actors, num_gpus=ray_gpus)
    summary = run_batch(prompts, opts, progress=not no_progress, ray=ray_opts)
    typer.echo(summary.text())
    if summary.exit_code:
        raise typer.Exit(code=summary.exit_code)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="address to bind"),
    port: int = typer.Option(8000, "--port"),
    api_key: Optional[str] = typer.Option(None, "--api-key", envvar="LIMNER_API_KEY",
                                          help="require 'Authorization: Bearer KEY' on /v1/"),
    workers: Optional[int] = typer.Option(None, "--workers",
                                          help="requests rendered at once (default: one "
                                               "per core for worker processes, 2 threads "
                                               "for draft, 1 for neural renderers)"),
    worker_kind: Optional[str] = typer.Option(
        None, "--worker-kind", help="thread|process (default: process for the draft renderer "
                                    "with the rules planner, else thread: one shared model)"),
    queue: int = typer.Option(32, "--queue", help="requests that may wait; more get 429"),
    max_body_mb: float = typer.Option(64.0, "--max-body-mb", help="larger bodies get 413"),
    grace: float = typer.Option(30.0, "--grace", help="seconds running requests may take to "
                                                      "finish on shutdown"),
    deadline: float = typer.Option(120.0, "--deadline", help="seconds one request may take "
                                   "(waiting included); past it: 503 deadline_exceeded"),
    planner: str = typer.Option("rules", "--planner", help="rules|llm|auto"),
    model: Optional[str] = typer.Option(None, "--model", help="LLM preset name or path"),
    renderer: str = typer.Option("draft", "--renderer",
                                 help=RENDERER_HELP),
    device: Optional[str] = typer.Option(None, "--device", help="cuda|cpu"),
    font: Optional[Path] = typer.Option(None, "--font", help="font file for all text"),
    ray: bool = typer.Option(False, "--ray", help="deploy on Ray Serve (limner[ray])"),
    ray_address: Optional[str] = typer.Option(None, "--ray-address",
                                              help="Ray cluster to join; implies --ray"),
    replicas: int = typer.Option(1, "--replicas", help="Ray Serve replicas (fixed)"),
    min_replicas: Optional[int] = typer.Option(None, "--min-replicas",
                                               help="autoscaling lower bound (Ray)"),
    max_replicas: Optional[int] = typer.Option(None, "--max-replicas",
                                               help="autoscaling upper bound (Ray)"),
    ray_gpus: float = typer.Option(0.0, "--ray-gpus", help="GPUs per replica (Ray)"),
) -> None:
    """Serve OpenAI's Images API (/v1/images/generations, /v1/images/edits) and a web page."""
    if not 1 <= port <= 65535:
        _fail(f"--port must be from 1 to 65535; got {port}")
    if workers is not None and workers < 1:
        _fail(f"--workers must be at least 1; got {workers}")
    if queue < 0 or max_body_mb <= 0 or grace < 0:
        _fail("--queue and --grace must be >= 0 and --max-body-mb > 0")
    if not deadline > 0:
        _fail(f"--deadline must be > 0 seconds; got {deadline}")
    if worker_kind not in (None, "thread", "process"):
        _fail(f"--worker-kind must be thread or process; got {worker_kind!r}")
    if font is not None and not font.is_file():
        _fail(f"--font {font}: no such file")
    from limner.server import ServerOptions, serve as run_server

    if host not in ("127.0.0.1", "localhost", "::1") and not api_key:
        typer.echo(f"limner: warning: serving on {host} with no --api-key", err=True)
    options = ServerOptions(
        api_key=api_key, workers=workers, queue=queue,
        # On Ray the replicas are the parallelism: each keeps one Limner in threads.
        worker_kind=worker_kind or ("thread" if ray or ray_address else None),
        max_body_bytes=int(max_body_mb * 1024 * 1024), grace_seconds=grace,
        deadline_seconds=deadline, planner=planner, renderer=renderer, model=model,
        device=device, font=str(font) if font else None)
    if ray or ray_address:
        from limner.ray_backend import ServeOptions, deployment_config, serve_app

        ray_opts = ServeOptions(address=ray_address, replicas=replicas,
                                min_replicas=min_replicas, max_replicas=max_replicas,
                                num_gpus=ray_gpus, host=host, port=port)
        deployment_config(ray_opts)  # bad bounds are a one-line error before Ray starts
        serve_app({"options": options}, ray_opts)
        return
    run_server(host, port, options)


_SUFFIX_FORMATS = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp"}


def _open_session(name: Optional[str], path: Optional[Path], create: bool = False):
    from render.session import Session, session_dir

    return Session.open(session_dir(name, path), create=create)


def _turn_line(session, turn) -> str:
    what = f"  {turn.summary}" if turn.summary else ""
    return f"turn {turn.n} ({turn.kind}): {session.path / turn.image_file}{what}"


@app.command()
def edit(
    args: Optional[list[str]] = typer.Argument(
        None, metavar="[IMAGE] INSTRUCTION",
        help="INSTRUCTION with --session; IMAGE INSTRUCTION otherwise (or to start a "
             "session from an image); with --new, the PROMPT"),
    session: Optional[str] = typer.Option(None, "--session",
                                          help="session NAME under $LIMNER_HOME/sessions"),
    session_dir: Optional[Path] = typer.Option(None, "--session-dir",
                                               help="session directory (instead of a NAME)"),
    new: bool = typer.Option(False, "--new", help="start the session by generating PROMPT"),
    mask: Optional[Path] = typer.Option(None, "--mask",
                                        help="PNG whose fully transparent pixels may change"),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="output file (also copies a "
                                       "session turn there)"),
    reference: Optional[list[Path]] = typer.Option(None, "--reference", "-r",
                                                   help="reference image (repeat, up to 16)"),
    size: str = typer.Option("auto", "--size", help="WxH to change the canvas, or auto"),
    quality: str = typer.Option("auto", "--quality", help="low|medium|high|auto"),
    background: str = typer.Option("auto", "--background", help="auto|transparent|opaque"),
    fmt: Optional[str] = typer.Option(None, "--format", help="png|jpeg|webp"),
    compression: Optional[int] = typer.Option(None, "--compression", help="0-100, jpeg/webp"),
    seed: Optional[int] = typer.Option(None, "--seed"),
    input_fidelity: str = typer.Option("low", "--input-fidelity", help="low|high"),
    planner: str = typer.Option("rules", "--planner", help="rules|llm|auto"),
    model: Optional[str] = typer.Option(None, "--model", help="LLM preset name or path"),
    renderer: str = typer.Option("draft", "--renderer",
                                 help=RENDERER_HELP),
    device: Optional[str] = typer.Option(None, "--device", help="cuda|cpu"),
    dtype: Optional[str] = typer.Option(None, "--dtype", help=DTYPE_HELP),
    steps: Optional[int] = typer.Option(None, "--steps", help=STEPS_HELP),
    lora: Optional[list[str]] = typer.Option(None, "--lora", help=LORA_HELP),
    base: Optional[str] = typer.Option(None, "--base", help=BASE_HELP),
    text: str = typer.Option("auto", "--text", help=TEXT_HELP),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing -o file"),
) -> None:
    """Edit in plain language: a session turn, or an image file (with an optional mask)."""
    from limner.api import Limner

    args = list(args or [])
    if out is not None and fmt is None:
        fmt = _SUFFIX_FORMATS.get(out.suffix.lower())
        if fmt is None:
            _fail(f"cannot tell the format from {out.name!r}: use a .png/.jpg/.webp name "
                  "or --format png|jpeg|webp")
    if out is not None and out.exists() and not overwrite:
        _fail(f"{out} exists; pass --overwrite to replace it")
    lim = Limner(planner=planner, model=model, renderer=renderer, device=device,
                 **_neural_options(renderer, dtype=dtype, steps=steps,
                                   loras=tuple(lora) if lora else None, base=base))
    kw = dict(size=size, quality=quality, background=background, output_format=fmt or "png",
              output_compression=compression, input_fidelity=input_fidelity, seed=seed,
              text=text)
    refs = [str(r) for r in reference or []]
    if session is not None or session_dir is not None:
        data = _edit_session(lim, session, session_dir, args, new, mask, refs, kw)
    else:
        data = _edit_file(lim, args, mask, refs, kw, out, overwrite)
    if out is not None:
        from render.encode import write_atomic

        write_atomic(str(out), data, overwrite=overwrite)
        typer.echo(f"{out}")


def _edit_session(lim, name, path, args, new, mask, refs, kw) -> bytes:
    """A session turn: --new PROMPT, IMAGE INSTRUCTION (first turn), or INSTRUCTION."""
    from render.session import edit_turn, start_from_image, start_from_prompt

    notes: list = []
    if new:
        if len(args) != 1:
            _fail("edit --new takes one PROMPT: limner edit --session NAME --new \"prompt\"")
        s = _open_session(name, path, create=True)
        gen = {k: v for k, v in kw.items() if k not in ("input_fidelity",)}
        gen["seed"] = gen["seed"] or 0
        turn = start_from_prompt(lim, s, args[0], **gen)
    elif len(args) == 2:
        s = _open_session(name, path, create=True)
        image = Path(args[0])
        if not image.is_file():
            _fail(f"IMAGE {image}: no such file")
        start_from_image(s, str(image))
        turn = edit_turn(lim, s, args[1], mask=str(mask) if mask else None, references=refs,
                         notes=notes, **kw)
    elif len(args) == 1:
        s = _open_session(name, path)
        turn = edit_turn(lim, s, args[0], mask=str(mask) if mask else None, references=refs,
                         notes=notes, **kw)
    else:
        _fail("edit --session NAME needs an INSTRUCTION (or --new PROMPT, or IMAGE "
              "INSTRUCTION to start from an image)")
    typer.echo(_turn_line(s, turn))
    _warn(notes)
    return s.image_bytes(turn)


def _edit_file(lim, args, mask, refs, kw, out, overwrite) -> bytes:
    """IMAGE INSTRUCTION → the edited file (default name: IMAGE-edit.<format>)."""
    if len(args) != 2:
        _fail("edit needs IMAGE and INSTRUCTION (or --session NAME INSTRUCTION)")
    image = Path(args[0])
    if not image.is_file():
        _fail(f"IMAGE {image}: no such file")
    if mask is not None and not mask.is_file():
        _fail(f"--mask {mask}: no such file")
    result = lim.edit(args[1], image=str(image), mask=str(mask) if mask else None,
                      references=refs, **kw)
    _warn(result.notes)
    img = result[0]
    if out is None:
        ext = {"jpeg": "jpg"}.get(img.format, img.format)
        target = image.with_name(f"{image.stem}-edit.{ext}")
        if target.exists() and not overwrite:
            _fail(f"{target} exists; pass -o FILE or --overwrite")
        img.save(str(target), overwrite=overwrite)
        typer.echo(f"{target}  {img.image.width}x{img.image.height}")
    return img.data


@app.command()
def history(
    session: Optional[str] = typer.Option(None, "--session", help="session NAME"),
    session_dir: Optional[Path] = typer.Option(None, "--session-dir", help="session directory"),
    json_out: bool = typer.Option(False, "--json", help="print the turns as JSON"),
) -> None:
    """List a session's turns: * marks the current one, (undone) the redoable ones."""
    from dataclasses import asdict

    s = _open_session(session, session_dir)
    rows = s.history()
    if json_out:
        typer.echo(json.dumps([dict(asdict(t), state=st) for t, st in rows], indent=2,
                              ensure_ascii=False))
        return
    marks = {"current": "*", "active": " ", "redo": "~", "dropped": "x"}
    for t, st in rows:
        note = {"redo": "  (undone)", "dropped": "  (dropped)"}.get(st, "")
        typer.echo(f"{marks[st]} {t.n:>3}  {t.kind:<6} {t.instruction!r}  {t.image_file}"
                   f"{'  ' + t.summary if t.summary else ''}{note}")


@app.command()
def undo(
    session: Optional[str] = typer.Option(None, "--session", help="session NAME"),
    session_dir: Optional[Path] = typer.Option(None, "--session-dir", help="session directory"),
) -> None:
    """Step a session back one turn (the undone turn stays on disk, redoable)."""
    s = _open_session(session, session_dir)
    typer.echo(_turn_line(s, s.undo()))


@app.command()
def redo(
    session: Optional[str] = typer.Option(None, "--session", help="session NAME"),
    session_dir: Optional[Path] = typer.Option(None, "--session-dir", help="session directory"),
) -> None:
    """Step a session forward to the turn last undone."""
    s = _open_session(session, session_dir)
    typer.echo(_turn_line(s, s.redo()))


keys_app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                       help="signing keys for C2PA provenance")
app.add_typer(keys_app, name="keys")


@keys_app.command("init")
def keys_init(force: bool = typer.Option(False, "--force", help="replace existing keys")
              ) -> None:
    """Make a local ES256 CA + signing certificate under $LIMNER_HOME/keys; from then on
    every output is signed (C2PA). Existing keys are kept unless --force."""
    from render.provenance import init_keys

    info = init_keys(force=force)
    state = "created" if info["created"] else "kept existing keys (--force replaces them)"
    typer.echo(f"{state}: {info['directory']}  {info['subject']}  "
               f"sha256 {info['fingerprint'][:16]}")


@app.command()
def verify(
    image: Path = typer.Argument(..., help="png, jpeg or webp file"),
    json_out: bool = typer.Option(False, "--json", help="print the full report as JSON"),
) -> None:
    """Check an image's C2PA manifest: signer, validation state, and whether the pixels
    changed after signing. Exit code 0 when valid, 1 when unsigned or invalid."""
    from limner.api import Limner

    r = Limner().verify(str(image))
    if json_out:
        typer.echo(json.dumps(r, ensure_ascii=False, indent=2, default=str))
    elif not r["signed"]:
        typer.echo(f"{image}: unsigned ({r.get('detail', 'no C2PA manifest')})")
    else:
        yes = {True: "yes", False: "no", None: "unknown"}
        signer = r["signer"]
        fails = [f for f in r["failures"] if f != "signingCredential.untrusted"]
        typer.echo(f"{image}: {r['validation_state']}"
                   + (f" ({', '.join(fails)})" if fails else ""))
        typer.echo(f"  signer: {signer['common_name']} (issuer {signer['issuer']}, "
                   f"{signer['alg']})" + ("" if r["validation_state"] == "trusted"
                                          else "; certificate not in a trust list"))
        typer.echo(f"  generator: {r['claim_generator']}; actions: {', '.join(r['actions'])}"
                   f"; source type: {r['digital_source_type']}")
        typer.echo(f"  plan sha256: {r['plan_sha256']} (matches embedded Plan: "
                   f"{yes[r['plan_matches']]})")
        typer.echo(f"  pixels changed: {yes[r['pixels_changed']]}")
        _print_chain(r.get("ingredients") or [], "  ")
    raise typer.Exit(0 if r["valid"] else 1)


def _print_chain(ingredients: list, indent: str) -> None:
    """An edit's history: each parent / reference, and what its own manifest says."""
    for ing in ingredients:
        role = {"parentOf": "parent", "componentOf": "reference"}.get(ing["relationship"],
                                                                      ing["relationship"])
        said = (f": {', '.join(ing['actions'])} by {ing['claim_generator']}"
                if ing.get("actions") else ("" if ing["signed"] else ": no manifest"))
        typer.echo(f"{indent}{role} {ing['title']}{said}")
        _print_chain(ing.get("ingredients") or [], indent + "  ")


@app.command()
def describe(
    image: Path = typer.Argument(..., help="an image file"),
    question: Optional[str] = typer.Option(None, "--question", "-q",
                                           help="a question: how many X / what colour "
                                                "is X / what does it say are answered from "
                                                "the Plan and OCR; others need --vlm"),
    vlm: Optional[str] = typer.Option(None, "--vlm",
                                      help="VLM preset (configs/vlm.yaml) or model dir"),
    renderer: str = typer.Option("draft", "--renderer",
                                 help="a neural renderer whose pipeline holds a VLM "
                                      "(qwen-image) answers --question with it when no "
                                      "--vlm is given"),
    device: Optional[str] = typer.Option(None, "--device", help="cuda|cpu"),
    dtype: Optional[str] = typer.Option(None, "--dtype", help=DTYPE_HELP),
    json_out: bool = typer.Option(False, "--json", help="print the description as JSON"),
) -> None:
    """What is in an image: its Plan (limner files), text (OCR), colours, layout, and with
    a VLM a caption or an answer."""
    from limner.api import Limner

    lim = Limner(renderer=renderer, device=device, **_neural_options(renderer, dtype=dtype))
    d = lim.describe(str(image), question=question, vlm=vlm)
    if json_out:
        typer.echo(json.dumps(d, ensure_ascii=False, indent=2))
        return
    typer.echo(d["summary"])
    if d["limner"]:
        typer.echo(f"  limner file: seed {d['limner']['seed']}, renderer "
                   f"{d['limner']['renderer']}")
        for e in d["limner"]["elements"]:
            what = repr(e["content"]) if e["kind"] == "text" else e["label"]
            typer.echo(f"    {e['id']}: {e['kind']} {what} at {e['cell']}")
    for t in d["text"]:
        typer.echo(f"  text: {t['text']!r} ({t['engine']} {t['score']:.2f})")
    typer.echo("  colours: " + ", ".join(f"{c['name']} {c['hex']} {c['share']:.0%}"
                                         for c in d["colors"]))
    typer.echo("  layout: " + "; ".join(d["layout"]["summary"]))
    if d["provenance"]:
        typer.echo(f"  provenance: {d['provenance']['validation_state']}")
    for key in ("caption", "answer", "note"):
        if d.get(key):
            typer.echo(f"  {key}: {d[key]}")


def _user_error_types() -> tuple[type[BaseException], ...]:
    from limner.api import LimnerError
    from planner.schema import PlanError, SizeError
    from model.errors import ModelError

    return (UserError, LimnerError, PlanError, SizeError, ModelError)


def main(argv: list[str] | None = None) -> int:
    """Entry point: runs the app, turning user mistakes into one line and exit code 2."""
    try:
        # Without standalone mode click returns a typer.Exit's code instead of raising it.
        code = app(args=argv, standalone_mode=False, prog_name="limner")
        if isinstance(code, int) and code:
            return code
    except typer.Exit as e:
        return e.exit_code
    except typer.Abort:
        typer.echo("limner: aborted", err=True)
        return 130
    except click_exc.NoArgsIsHelpError as e:
        typer.echo(e.format_message() if hasattr(e, "format_message") else str(e))
        return 0
    except click_exc.UsageError as e:
        typer.echo(f"limner: error: {' '.join(e.format_message().split())}", err=True)
        return 2
    except click_exc.ClickException as e:
        typer.echo(f"limner: error: {' '.join(e.format_message().split())}", err=True)
        return e.exit_code or 1
    except _user_error_types() as e:
        msg = " ".join(str(e).split())
        typer.echo(f"limner: error: {msg}", err=True)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
