"""Tiled img2img upscale with overlap blending: native-size renders → 2K/4K canvases.

The image is first resized to the target size, then cut into overlapping tiles of the model's
native size; each tile is re-noised and denoised at low strength (SDEdit), and the tiles are
fused back by a per-pixel weighted average whose weights ramp linearly to zero across each
overlap. That average is MultiDiffusion's fusion rule (Bar-Tal et al. 2023,
arXiv:2302.08113, the least-squares solution for overlapping crops) applied once to the final
tiles instead of at every step, which keeps memory bounded by one batch of tiles: the full
canvas only ever exists as two float arrays (the sum and the weights).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Sequence

if TYPE_CHECKING:
    import numpy as np


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of ``tile`` pixels covering ``[0, length)``.

    Neighbours overlap by at least ``overlap`` pixels; starts are spread evenly, the first at
    0 and the last at ``length - tile``.
    """
    if tile >= length:
        return [0]
    if not 0 <= overlap < tile:
        raise ValueError(f"overlap must be in [0, tile); got {overlap} for tile {tile}")
    count = -(-(length - overlap) // (tile - overlap))  # ceil
    count = max(count, 2)
    span = length - tile
    return [round(i * span / (count - 1)) for i in range(count)]


def ramp(length: int, before: int, after: int) -> "np.ndarray":
    """1-D weights: rising over ``before`` pixels, flat, falling over ``after`` pixels.

    Weights stay > 0 so every pixel covered by a tile has weight.
    """
    import numpy as np

    w = np.ones(length, dtype=np.float32)
    if before:
        w[:before] = (np.arange(before, dtype=np.float32) + 0.5) / before
    if after:
        w[length - after:] = np.minimum(
            w[length - after:], (np.arange(after, 0, -1, dtype=np.float32) - 0.5) / after)
    return w


def _axis_weights(starts: list[int], tile: int) -> list["np.ndarray"]:
    out = []
    for i, s in enumerate(starts):
        before = starts[i - 1] + tile - s if i > 0 else 0
        after = s + tile - starts[i + 1] if i + 1 < len(starts) else 0
        out.append(ramp(tile, max(before, 0), max(after, 0)))
    return out


def blend_tiles(image: "np.ndarray", tile: tuple[int, int], overlap: int,
                process: Callable[[Sequence["np.ndarray"]], Sequence["np.ndarray"]],
                batch: int = 1) -> "np.ndarray":
    """Process ``image`` tile by tile and fuse the results with overlap ramps.

    Args:
        image: float ``(H, W, C)`` array (already at the target size).
        tile: ``(tile_w, tile_h)``; clipped to the image.
        overlap: minimum overlap between neighbouring tiles, pixels.
        process: maps a list of ``(th, tw, C)`` tiles to processed tiles of the same shape
            (e.g. a batched img2img call).
        batch: tiles per ``process`` call (the memory bound).
    Returns:
        The fused ``(H, W, C)`` float array.
    """
    import numpy as np

    h, w = image.shape[:2]
    tw, th = min(tile[0], w), min(tile[1], h)
    xs, ys = tile_starts(w, tw, overlap), tile_starts(h, th, overlap)
    wx, wy = _axis_weights(xs, tw), _axis_weights(ys, th)
    jobs = [(x, y, np.outer(wy[j], wx[i])[..., None])
            for j, y in enumerate(ys) for i, x in enumerate(xs)]
    acc = np.zeros(image.shape, dtype=np.float32)
    norm = np.zeros((h, w, 1), dtype=np.float32)
    for k in range(0, len(jobs), max(1, batch)):
        chunk = jobs[k:k + max(1, batch)]
        outs = process([image[y:y + th, x:x + tw] for x, y, _ in chunk])
        for (x, y, weight), out in zip(chunk, outs):
            acc[y:y + th, x:x + tw] += np.asarray(out, dtype=np.float32) * weight
            norm[y:y + th, x:x + tw] += weight
    return acc / norm
