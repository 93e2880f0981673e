"""Helpers the neural-path tests share: a spy on diffusers pipeline calls and a plain photo
with a mask, for checking what a pipeline received and that pixels outside a mask stay."""

from __future__ import annotations


def spy_pipeline_calls(monkeypatch, *names: str) -> list:
    """``[(class name, call kwargs), ...]`` of every call of the named diffusers pipeline
    classes, in order; the real call still runs."""
    import diffusers

    seen: list = []
    for name in names:
        cls = getattr(diffusers, name)
        original = cls.__call__

        def spy(self, *args, _original=original, _name=name, **kwargs):
            seen.append((_name, kwargs))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "__call__", spy)
    return seen


def masked_photo(tmp_path, side: int = 32):
    """A plain photo (two ramps, no limner metadata) and a mask whose transparent square
    (4..20) is the region to edit. Returns ``(photo path, mask path, pixels, keep)``, where
    ``keep`` is True outside the square."""
    import numpy as np
    from PIL import Image

    ramp = np.linspace(0, 255, side, dtype=np.uint8)
    pixels = np.stack([np.tile(ramp, (side, 1)), np.tile(ramp[::-1], (side, 1)),
                       np.full((side, side), 90, np.uint8)], axis=-1)
    photo, mask_path = tmp_path / "photo.png", tmp_path / "mask.png"
    Image.fromarray(pixels, "RGB").save(photo)
    mask = Image.new("RGBA", (side, side), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (4, 4, 20, 20))
    mask.save(mask_path)
    keep = np.ones((side, side), bool)
    keep[4:20, 4:20] = False
    return photo, mask_path, pixels, keep
