"""Multimodal processors without torchvision.

transformers 5 builds the video half of a VL processor (Qwen2-VL, Qwen2.5-VL, Qwen3-VL,
Pixtral...) with torchvision, and the processor's class check refuses to construct the
processor at all when ``BaseVideoProcessor`` cannot be imported. limner never sends video:
it sends prompts and, for edits and references, images. So where torchvision is missing the
loader builds the processor from its image processor and tokenizer only — the same class
name, the same files on disk, the same token ids — and hands it to ``from_pretrained``.
With torchvision installed (a normal GPU machine) nothing here is used.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path


@functools.cache
def has_torchvision() -> bool:
    """Whether torchvision imports (asked once: a failed import is tried again each time)."""
    try:
        import torchvision  # noqa: F401
    except Exception:  # a wheel that does not match torch fails at import with many types
        return False
    return True


@functools.cache
def image_only(cls: type) -> type:
    """``cls`` (a ``ProcessorMixin`` subclass) without its ``video_processor`` attribute.

    The subclass keeps ``cls``'s name, so what it saves loads back as ``cls`` elsewhere.
    transformers reads a processor's parts from its ``__init__`` signature; this one's has
    no video processor, and the video argument ``cls.__init__`` forwards is dropped.
    """
    def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
        cls.__init__(self, image_processor, tokenizer, chat_template=chat_template, **kwargs)

    return type(cls.__name__, (cls,), {"__init__": __init__, "__module__": cls.__module__,
                                       "__doc__": f"{cls.__name__} for images and text only."})


def needs_video(cls: type) -> bool:
    get = getattr(cls, "get_attributes", None)
    return callable(get) and "video_processor" in get()


def build_image_only(cls: type, image_processor, tokenizer, chat_template=None, **kwargs):
    """A processor of class ``cls`` from its parts, video-free when torchvision is missing.
    ``kwargs``: the processor's own arguments (Pixtral's ``patch_size``...)."""
    if needs_video(cls) and not has_torchvision():
        cls = image_only(cls)
    return cls(image_processor=image_processor, tokenizer=tokenizer,
               chat_template=chat_template if chat_template is not None
               else getattr(tokenizer, "chat_template", None), **kwargs)


def video_free_components(directory: str | Path) -> dict:
    """Processors of a local diffusers pipeline directory that transformers cannot build here.

    Returns ``{component name: processor}`` for each component in ``model_index.json`` whose
    transformers class holds a video processor, loaded image-only; empty when torchvision is
    installed or nothing needs it. Pass the result to ``from_pretrained`` as keyword args.
    """
    index = Path(directory) / "model_index.json"
    if has_torchvision() or not index.is_file():
        return {}
    import transformers

    found = {}
    for name, spec in json.loads(index.read_text()).items():
        if not (isinstance(spec, list) and len(spec) == 2 and spec[0] == "transformers"):
            continue
        cls = getattr(transformers, spec[1], None)
        if cls is None or not needs_video(cls):
            continue
        found[name] = image_only(cls).from_pretrained(str(Path(directory) / name))
    return found
