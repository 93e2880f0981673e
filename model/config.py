"""Strict YAML presets: configs/*.yaml → frozen dataclasses.

An unknown key is an error naming the key, the file and the allowed keys (STYLE.md): a typo in
a preset must never be silently ignored.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"


class ConfigError(ValueError):
    """A preset file or entry that does not fit its dataclass."""


def limner_home() -> Path:
    """Where keys, caches and sessions live: $LIMNER_HOME, default ~/.limner."""
    return Path(os.environ.get("LIMNER_HOME") or Path.home() / ".limner")


def build(cls: type[T], data: dict[str, Any], where: str) -> T:
    """Build dataclass ``cls`` from ``data``, refusing unknown or missing keys.

    Nested dataclass fields are built recursively from nested mappings.
    """
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; "
                          f"allowed: {', '.join(sorted(fields))}")
    kwargs = {}
    for name, value in data.items():
        ftype = fields[name].type
        target = _dataclass_type(cls, name, ftype)
        kwargs[name] = build(target, value, f"{where}.{name}") if target and isinstance(
            value, dict) else value
    try:
        return cls(**kwargs)
    except TypeError as e:
        raise ConfigError(f"{where}: {e}") from None


def _dataclass_type(cls: type, name: str, ftype: Any) -> type | None:
    import typing

    hints = typing.get_type_hints(cls)
    t = hints.get(name, ftype)
    return t if dataclasses.is_dataclass(t) else None


def load_presets(filename: str, cls: type[T], directory: Path | None = None) -> dict[str, T]:
    """Load ``configs/<filename>``: a mapping of preset name → fields of ``cls``."""
    import yaml

    path = (directory or CONFIG_DIR) / filename
    with open(path, encoding="utf-8") as f:
        raw = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of preset names")
    return {name: build(cls, entry, f"{path.name}:{name}") for name, entry in raw.items()}
