"""Bench: the diffusion renderer against the bare diffusers call on the same model and steps.

For each family a tiny random-init pipeline (model/tiny.py) is saved and loaded back through
the user's path (``DiffusionRenderer.from_preset(DIR)``). Timed, interleaved, median of
``--repeats`` after a warm-up:

- ``bare``: the diffusers pipeline call a user would make without limner for the same work:
  the family's img2img pipeline with one prompt, the same init image, strength and steps
  (PixArt: its text-to-image call over the same number of executed steps);
- ``limner``: ``renderer.render(plan)``: draft init, segment prompts, regional attention,
  text layer (and the same denoising work);
- ``limner -regional``: the same with regional prompting off (where the overhead goes).

Prints the overhead ratio limner / bare (goal ≤ 1.03 on tiny CPU models); on CUDA also
seconds per image. Usage: ``python scripts/bench_diffusion.py [--families flux sdxl]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def make_plan(size: tuple[int, int], seed: int = 0):
    from planner.schema import Background, Canvas, ObjectElement, Plan, TextElement

    return Plan(seed=seed, quality="medium",
                canvas=Canvas(width=size[0], height=size[1],
                              background=Background(kind="color", color="#88aacc")),
                elements=(ObjectElement(id="apple-1", box=(0.1, 0.4, 0.5, 0.9), label="apple",
                                        color="red"),
                          ObjectElement(id="cup-1", box=(0.55, 0.45, 0.9, 0.9), label="cup",
                                        color="blue"),
                          TextElement(id="t", box=(0.1, 0.05, 0.9, 0.3), content="SALE")))


def bare_call(renderer, plan, init, prompt):
    """The plain diffusers call doing the same denoising work as the renderer, given the
    init image and prompt (prepared outside the timing: a bare user brings their own): the
    family's img2img pipeline, or for a family without one the text-to-image pipeline over
    the steps SDEdit runs. Keyword arguments the pipeline does not take are left out."""
    import inspect

    import torch

    tier = renderer.tier(plan.quality)
    gen = torch.Generator("cpu").manual_seed(plan.seed)
    w, h = plan.size
    pipe = renderer.pipes.get("img2img")
    kw = dict(prompt=prompt, guidance_scale=tier.guidance, generator=gen, output_type="np",
              height=h, width=w, max_sequence_length=renderer.preset.max_sequence_length,
              use_resolution_binning=False, clean_caption=False)
    if pipe is None:
        pipe = renderer.pipe
        kw["num_inference_steps"] = max(1, int(tier.steps * tier.strength))
    else:
        kw.update(image=init, strength=tier.strength, num_inference_steps=tier.steps)
    takes = inspect.signature(pipe.__call__).parameters
    return pipe(**{k: v for k, v in kw.items() if k in takes and v is not None}).images


def timed(fn, repeats: int, clock=time.process_time) -> list[float]:
    """CPU seconds of this process per call (on a shared machine, wall time mostly measures
    the neighbours; with one torch thread CPU time is the work done)."""
    out = []
    for _ in range(repeats):
        t = clock()
        fn()
        out.append(clock() - t)
    return out


def bench_family(family: str, args) -> dict:
    from model.tiny import save_tiny
    from render.base import RenderOptions
    from render.diffusion import DiffusionRenderer, prompt_segments

    with tempfile.TemporaryDirectory() as tmp:
        path = save_tiny(family, Path(tmp) / family)
        r = DiffusionRenderer.from_preset(str(path), device=args.device, steps=args.steps)
        plan = make_plan((args.size, args.size))
        flat = dataclasses.replace(r.options, regional=False)
        full = r.options
        init = r._draft(plan, plan.size, RenderOptions())
        prompt = prompt_segments(plan)[0][0]
        cases = {
            "bare": lambda: bare_call(r, plan, init, prompt),
            "limner": lambda: r.render(plan, RenderOptions()),
        }

        def no_regional():
            r.options = flat
            try:
                r.render(plan)
            finally:
                r.options = full

        cases["limner -regional"] = no_regional
        for fn in cases.values():  # warm-up: lazy pipelines, fonts, kernels
            fn()
        times: dict[str, list[float]] = {k: [] for k in cases}
        for _ in range(args.repeats):  # interleaved, so machine load hits all alike
            for k, fn in cases.items():
                times[k] += timed(fn, 1, time.perf_counter if args.device != "cpu"
                                  else time.process_time)
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--families", nargs="+", default=["sdxl", "sd3", "flux", "pixart"])
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)

    print(f"tiny models, {args.size}x{args.size}, {args.steps} steps, device {args.device}, "
          f"torch threads {torch.get_num_threads()}, median of {args.repeats} "
          f"({'CPU' if args.device == 'cpu' else 'wall'} time)")
    for family in args.families:
        m = bench_family(family, args)
        line = (f"{family:7s} bare {m['bare'] * 1000:8.1f} ms  limner {m['limner'] * 1000:8.1f} ms"
                f"  ratio {m['limner'] / m['bare']:.3f}  (without regional: "
                f"{m['limner -regional'] / m['bare']:.3f})")
        if args.device.startswith("cuda"):
            line += f"  {m['limner']:.3f} s/image"
        print(line, flush=True)


if __name__ == "__main__":
    main()
