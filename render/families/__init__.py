"""The registry of model families: key -> module, imported on first use.

Adding a family = a module here (a ``Family`` subclass instance named ``FAMILY``, see
base.py), a preset in configs/renderers.yaml, a tiny build in model/tiny_builds/ and its key
in ``model.tiny._BUILDS``. Nothing else changes.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

from render.base import RenderError
from render.families.base import Capabilities, Embeds, Family, Pipelines

FAMILIES = {
    "sdxl": "render.families.sdxl",
    "sd3": "render.families.sd3",
    "flux": "render.families.flux",
    "flux-kontext": "render.families.flux_kontext",
    "pixart": "render.families.pixart",
    "qwenimage": "render.families.qwenimage",
    "qwenimage21": "render.families.qwenimage21",
    "qwenimage-edit": "render.families.qwenimage_edit",
    "zimage": "render.families.zimage",
    "flux2": "render.families.flux2",
    "flux2-klein": "render.families.flux2_klein",
    "ideogram4": "render.families.ideogram4",
    "glm-image": "render.families.glm_image",
    "janus-pro": "render.families.janus_pro",
    "fibo": "render.families.fibo",
    "fibo-edit": "render.families.fibo_edit",
}

__all__ = ["Capabilities", "Embeds", "FAMILIES", "Family", "Pipelines", "family_for_directory",
           "family_for_checkpoint", "family_for_pipeline", "get_family"]


def get_family(key: str) -> Family:
    """The family ``key`` (``sdxl``, ``flux``, ...).

    Raises:
        RenderError: an unknown key, naming the known ones.
    """
    if key not in FAMILIES:
        raise RenderError(f"unknown model family {key!r}; known: {', '.join(FAMILIES)}")
    return importlib.import_module(FAMILIES[key]).FAMILY


def family_for_directory(path: str | Path) -> Family:
    """The family of a ``save_pretrained`` pipeline directory, matched by the exact class
    names in its model_index.json and the config values each family names.

    Raises:
        RenderError: no model_index.json, or no family (or more than one) matches.
    """
    path = Path(path)
    index_file = path / "model_index.json"
    if not index_file.is_file():
        raise RenderError(f"{path} is not a diffusers pipeline directory: it has no "
                          "model_index.json (save one with save_pretrained, or pass a "
                          "preset name or a .safetensors checkpoint)")
    try:
        index = json.loads(index_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise RenderError(f"{index_file} is not readable JSON: {e}") from None
    found = [f for f in map(get_family, FAMILIES) if f.matches(index, path)]
    if len(found) == 1:
        return found[0]
    if found:
        raise RenderError(f"{path} matches several families ({', '.join(f.key for f in found)})"
                          ": their matching rules overlap")
    held = {k: v[1] for k, v in index.items() if isinstance(v, list) and len(v) == 2 and v[1]}
    raise RenderError(
        f"{path} holds a {index.get('_class_name')} ({', '.join(sorted(set(held.values())))})"
        f", which no supported family matches; supported pipelines: "
        f"{', '.join(sorted(c for f in map(get_family, FAMILIES) for c in f.pipelines.values() if c))}")


def family_for_checkpoint(path: str | Path) -> Family:
    """The family of a single-file .safetensors checkpoint, read from its tensor names.

    Raises:
        RenderError: an unreadable file, or no family holding single files matches.
    """
    from model.diffusion import checkpoint_keys

    keys = checkpoint_keys(path)
    found = [f for f in map(get_family, FAMILIES) if f.matches_checkpoint(keys)]
    if len(found) == 1:
        return found[0]
    able = [f.key for f in map(get_family, FAMILIES) if f.capabilities.single_file]
    raise RenderError(f"{path}: its tensor names match {'several' if found else 'no'} "
                      f"family checkpoint layouts; single files load for: {', '.join(able)} "
                      "(for other families, give a diffusers pipeline directory)")


def family_for_pipeline(pipe) -> Family:
    """The family of a loaded (or meta-device) pipeline, by its class name."""
    name = type(pipe).__name__
    for key in FAMILIES:
        family = get_family(key)
        if name in {c for c in family.pipelines.values() if c}:
            return family
    raise RenderError(f"no model family uses {name}; known: {', '.join(FAMILIES)}")
