"""limner on Ray: `limner batch --ray` (Ray Data over a pool of renderer actors) and
`limner serve --ray` (a Ray Serve deployment of the same FastAPI app).

Ray is an optional extra (``pip install 'limner[ray]'``); it is imported only in here, only
when asked for. The batch logic (what to skip, how a unit renders, the manifest) is
limner.batch's: Ray only decides where units run, so files are byte-identical to a local run.

On a cluster the output directory must be on a filesystem every node sees (NFS, a mounted
bucket): actors write the image files, the driver appends the manifest rows.
"""

from __future__ import annotations

import json
import logging
import math
import os
from dataclasses import asdict, dataclass, replace
from typing import Any, Callable

from limner.api import LimnerError
from limner.batch import BatchOptions, Row, WorkUnit, make_limner, render_unit

INSTALL_HINT = "pip install 'limner[ray]'"


def require_ray():
    """Import Ray, or raise a LimnerError that says what to install.

    Returns:
        the ``ray`` module.
    """
    try:
        import ray
        import ray.data  # noqa: F401 - the batch path needs Ray Data, not just core
    except ImportError as e:
        raise LimnerError(f"--ray needs Ray, which is not installed ({e}); install it with: "
                          f"{INSTALL_HINT}", "ray", "ray_not_installed") from None
    return ray


def connect(address: str | None = None):
    """Join the Ray cluster at ``address`` (``auto``, ``ray://host:10001``, ...), or start a
    local one when None and RAY_ADDRESS is unset; reuse an existing connection.

    Returns:
        the ``ray`` module.
    """
    ray = require_ray()
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    return ray


@dataclass(frozen=True)
class RayOptions:
    """How a batch runs on Ray.

    Args:
        address: the cluster to join (None: RAY_ADDRESS, else a new local instance).
        actors: renderer actors in the pool; None: one per ``num_gpus`` GPUs when
            ``num_gpus`` > 0, else one per ``num_cpus`` CPUs of the cluster.
        num_gpus: GPUs per actor (each actor keeps its pipeline loaded on them).
        num_cpus: CPUs per actor.
        batch_size: work units per call to an actor (a unit is up to n images of one line).
    """

    address: str | None = None
    actors: int | None = None
    num_gpus: float = 0.0
    num_cpus: float = 1.0
    batch_size: int = 4


def pool_size(ray, opts: RayOptions) -> int:
    """How many actors to start: ``opts.actors``, else what the cluster's resources hold."""
    if opts.actors is not None:
        return max(1, opts.actors)
    res = ray.cluster_resources()
    if opts.num_gpus > 0:
        return max(1, int(res.get("GPU", 0) // opts.num_gpus))
    return max(1, int(res.get("CPU", 1) // max(opts.num_cpus, 1e-9)))


class RenderActor:
    """A Ray Data callable class: one Limner per actor, built once, used for every batch.

    Args:
        opts_json: the BatchOptions as JSON (plain data crosses process boundaries safely).
    """

    def __init__(self, opts_json: str):
        self.opts = BatchOptions(**json.loads(opts_json))
        self.lim = make_limner(self.opts)

    def __call__(self, batch: dict) -> dict:
        import numpy as np

        rows = [json.dumps(render_unit(self.lim, WorkUnit.from_json(u), self.opts),
                           ensure_ascii=False) for u in batch["unit"]]
        return {"rows": np.array(rows, dtype=object)}


def run_units(units: list[WorkUnit], opts: BatchOptions, ray_opts: RayOptions,
              sink: Callable[[list[Row]], None]) -> None:
    """Render work units on a Ray actor pool; ``sink`` gets each unit's manifest rows on the
    driver as they stream back (so the manifest grows while the batch runs).

    Args:
        units: what limner.batch.prepare left to do.
        opts: the batch's options (output directory, renderer, ...).
        ray_opts: cluster address and actor pool shape.
        sink: called with the rows of each finished unit.
    """
    if not units:
        return
    ray = connect(ray_opts.address)
    # actors on other nodes (or another cwd) must write to the same place
    opts = replace(opts, out_dir=os.path.abspath(opts.out_dir))
    from ray.data import ActorPoolStrategy, DataContext

    # limner shows its own progress bar and summary; Ray Data's would interleave with them
    DataContext.get_current().enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    # one block per actor call, so the pool balances work unit batches, not big blocks
    blocks = max(1, math.ceil(len(units) / max(1, ray_opts.batch_size)))
    ds = ray.data.from_items([{"unit": u.to_json()} for u in units],
                             override_num_blocks=min(blocks, 100_000))
    ds = ds.map_batches(
        RenderActor, fn_constructor_kwargs={"opts_json": json.dumps(asdict(opts))},
        batch_size=max(1, ray_opts.batch_size), batch_format="numpy",
        # no more actors than blocks: an idle actor may still load a whole pipeline
        compute=ActorPoolStrategy(size=min(pool_size(ray, ray_opts), blocks)),
        num_cpus=ray_opts.num_cpus, num_gpus=ray_opts.num_gpus or None)
    for row in ds.iter_rows():
        sink(json.loads(row["rows"]))


# --- serving ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ServeOptions:
    """A Ray Serve deployment of limner's HTTP app.

    Args:
        address: the cluster to join (None: RAY_ADDRESS, else a new local instance).
        replicas: fixed replica count (ignored when autoscaling bounds are given).
        min_replicas, max_replicas: autoscaling bounds; either one turns autoscaling on.
        num_gpus, num_cpus: per replica.
        target_ongoing_requests: the autoscaler's target of requests in flight per replica.
        host, port: where Serve's HTTP proxy listens.
    """

    address: str | None = None
    replicas: int = 1
    min_replicas: int | None = None
    max_replicas: int | None = None
    num_gpus: float = 0.0
    num_cpus: float = 1.0
    target_ongoing_requests: float = 2.0
    host: str = "127.0.0.1"
    port: int = 8000


class LimnerIngress:
    """A Serve replica: builds limner.server.create_app(**app_kwargs) on the replica itself,
    so each replica loads its own renderer (on its own GPU) instead of unpickling one."""

    def __init__(self, app_kwargs: dict):
        self.app_kwargs = app_kwargs

    def __serve_build_asgi_app__(self):
        from limner.server import create_app

        return create_app(**self.app_kwargs)


def deployment_config(opts: ServeOptions) -> dict[str, Any]:
    """The ``serve.deployment`` arguments for ServeOptions (fixed replicas or autoscaling).

    Raises:
        LimnerError: for bounds that cannot hold.
    """
    cfg: dict[str, Any] = {"ray_actor_options": {"num_cpus": opts.num_cpus,
                                                 "num_gpus": opts.num_gpus}}
    if opts.min_replicas is None and opts.max_replicas is None:
        if opts.replicas < 1:
            raise LimnerError(f"--replicas must be at least 1; got {opts.replicas}", "replicas")
        cfg["num_replicas"] = opts.replicas
        return cfg
    lo = 1 if opts.min_replicas is None else opts.min_replicas
    hi = max(lo, opts.replicas) if opts.max_replicas is None else opts.max_replicas
    if lo < 0 or hi < 1 or lo > hi:
        raise LimnerError(f"--min-replicas {lo} and --max-replicas {hi}: autoscaling needs "
                          f"0 <= min <= max and max >= 1", "min_replicas")
    cfg["autoscaling_config"] = {"min_replicas": lo, "max_replicas": hi,
                                 "initial_replicas": max(lo, 1),
                                 "target_ongoing_requests": opts.target_ongoing_requests}
    return cfg


def serve_app(app_kwargs: dict, opts: ServeOptions, blocking: bool = True):
    """Deploy limner's FastAPI app on Ray Serve (OpenAI-compatible as with ``limner serve``).

    Args:
        app_kwargs: keyword arguments of ``limner.server.create_app`` (renderer, planner, ...).
        opts: replicas, resources, autoscaling bounds and the HTTP address.
        blocking: block until interrupted (the CLI) or return once deployed (tests).
    Returns:
        the deployment handle (when not blocking).
    """
    connect(opts.address)
    from ray import serve

    cfg = deployment_config(opts)
    serve.start(http_options={"host": opts.host, "port": opts.port})
    deployment = serve.deployment(serve.ingress()(LimnerIngress), name="limner", **cfg)
    return serve.run(deployment.bind(app_kwargs), blocking=blocking, name="limner",
                     route_prefix="/")
