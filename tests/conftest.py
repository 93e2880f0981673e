"""Suite-wide fixtures: every test runs with its own LIMNER_HOME (keys, caches, sessions)."""

import os
import random

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(REPO), "shared")
DEV_PROMPTS = os.path.join(SHARED, "eval", "dev_prompts.jsonl")


@pytest.fixture(autouse=True)
def _limner_home(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("limner_home")
    monkeypatch.setenv("LIMNER_HOME", str(home))
    random.seed(0)
    yield home


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory):
    """``tiny_dir(key)``: a tiny pipeline of ``model.tiny.FAMILIES[key]`` saved once per
    session (seed 0), shared by every test that loads one."""
    from model.tiny import save_tiny

    root = tmp_path_factory.mktemp("tiny-pipelines")
    saved: dict = {}

    def get(key: str) -> str:
        if key not in saved:
            saved[key] = str(save_tiny(key, root / key, seed=0))
        return saved[key]

    return get
