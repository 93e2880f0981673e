"""Fixtures for the server tests: one shared Limner, one running server per module."""

from __future__ import annotations

import pytest
from serverkit import RunningServer

from limner.api import Limner
from limner.server import ServerOptions


@pytest.fixture(scope="session")
def shared_limner() -> Limner:
    """One Limner (rules planner + draft renderer) for every server in the session, loaded
    once as the server does."""
    lim = Limner()
    _ = lim.planner, lim.renderer
    return lim


@pytest.fixture(scope="session")
def server(shared_limner):
    """The default server (worker processes for this plain draft Limner), shared by every
    module: starting its processes costs seconds."""
    srv = RunningServer(shared_limner, ServerOptions(workers=2, queue=16))
    yield srv
    srv.stop()
