"""Tiled upscale: tiles cover the canvas, blend without seams, and stay within the budget."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from render.tiling import blend_tiles, ramp, tile_starts


@settings(max_examples=80, deadline=None)
@given(st.integers(16, 2000), st.integers(16, 512), st.data())
def test_tiles_cover_with_overlap(length, tile, data):
    overlap = data.draw(st.integers(0, tile - 1))
    starts = tile_starts(length, tile, overlap)
    assert starts[0] == 0
    assert starts[-1] + min(tile, length) == length
    for a, b in zip(starts, starts[1:]):
        assert 0 < b - a <= tile - overlap          # neighbours overlap by >= overlap


def test_ramp_positive_and_monotone():
    w = ramp(32, 8, 8)
    assert (w > 0).all() and w.max() == 1.0
    assert (np.diff(w[:8]) > 0).all() and (np.diff(w[-8:]) < 0).all()


def test_identity_tiles_reproduce_the_image():
    rng = np.random.default_rng(0)
    image = rng.random((70, 90, 3), dtype=np.float32)
    out = blend_tiles(image, (32, 32), 8, lambda tiles: tiles, batch=3)
    assert np.allclose(out, image, atol=1e-6)


def test_disagreeing_tiles_blend_without_seams():
    """Each tile comes back shifted by its own constant (the worst case of tiles that
    disagree). A hard paste jumps by the full difference at a join; the ramps spread it over
    the overlap, so no step between neighbouring pixels exceeds difference / overlap (x2)."""
    image = np.zeros((64, 160, 1), dtype=np.float32)
    offsets = iter(np.linspace(0.0, 1.0, 50))
    overlap = 16
    out = blend_tiles(image, (48, 48), overlap,
                      lambda tiles: [t + next(offsets) for t in tiles], batch=2)
    starts = tile_starts(160, 48, overlap)
    step_between_tiles = 1.0 / 49 * len(starts)     # largest offset gap between neighbours
    jumps = np.abs(np.diff(out, axis=1)).max()
    assert jumps <= 2 * step_between_tiles / overlap + 1e-6
    assert np.abs(np.diff(out, axis=0)).max() <= 2 * 1.0 / overlap


def test_batches_bound_the_tiles_per_call():
    sizes = []

    def process(tiles):
        sizes.append(len(tiles))
        return tiles

    blend_tiles(np.zeros((100, 100, 3), np.float32), (32, 32), 8, process, batch=4)
    assert max(sizes) <= 4 and sum(sizes) == len(tile_starts(100, 32, 8)) ** 2


def test_overlap_must_be_smaller_than_tile():
    with pytest.raises(ValueError):
        tile_starts(100, 32, 32)
