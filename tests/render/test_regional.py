"""Regional attention: each element's tokens reach only the image tokens in its box."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from model.tiny import build_tiny
from planner.schema import box_to_pixels
from render.regional import (CrossAttnRegionProcessor, FluxRegionProcessor, RegionLayout,
                             SD3RegionProcessor, Segment, joint_mask, region_cells,
                             regional_attention)

GRID = (4, 6)                    # (h, w) image tokens
BOX = (0.5, 0.0, 1.0, 0.5)       # the element's box: right half, top half
SEGS = [Segment(0, 5, (), True), Segment(5, 9, (BOX,), False)]


def layout(latent=GRID, items=1):
    return RegionLayout(items=[SEGS] * items, text_len=9, latent_size=latent)


def inside_box(grid=GRID):
    return region_cells((BOX,), False, grid).reshape(-1)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def changed_tokens(before, after):
    return (before - after).abs().amax(dim=-1)[0] > 1e-6


def test_region_cells_use_box_to_pixels():
    cells = region_cells((BOX,), False, GRID)
    x0, y0, x1, y1 = box_to_pixels(BOX, GRID[1], GRID[0])
    assert cells.sum() == (x1 - x0) * (y1 - y0)
    assert cells[y0:y1, x0:x1].all()


@settings(max_examples=60, deadline=None)
@given(st.floats(0, 0.9), st.floats(0, 0.9), st.floats(0.05, 1), st.floats(0.05, 1),
       st.integers(1, 40), st.integers(1, 40))
def test_region_cells_never_empty_and_complement(x0, y0, dw, dh, h, w):
    box = (x0, y0, min(1.0, x0 + dw * (1 - x0)), min(1.0, y0 + dh * (1 - y0)))
    if not (box[0] < box[2] and box[1] < box[3]):
        return
    inside = region_cells((box,), False, (h, w))
    assert inside.shape == (h, w) and inside.any()
    assert torch.equal(region_cells((box,), True, (h, w)), ~inside)


def test_grid_finds_each_level():
    lay = layout(latent=(17, 9))
    assert lay.grid(17 * 9) == (17, 9)
    assert lay.grid(9 * 5) == (9, 5)        # stride-2 conv rounds up
    assert lay.grid(5 * 3) == (5, 3)
    with pytest.raises(ValueError):
        lay.grid(7)


def test_cross_attention_routes_element_tokens_to_its_box():
    from diffusers.models.attention_processor import Attention, AttnProcessor2_0

    attn = Attention(query_dim=16, cross_attention_dim=8, heads=2, dim_head=8).eval()
    proc = CrossAttnRegionProcessor(AttnProcessor2_0(), layout())
    x = torch.randn(2, GRID[0] * GRID[1], 16)      # CFG batch: the mask repeats
    text = torch.randn(2, 9, 8)
    moved = text.clone()
    moved[:, 5:9] += 3.0
    with torch.no_grad():
        a, b = proc(attn, x, text), proc(attn, x, moved)
    assert torch.equal(changed_tokens(a, b), inside_box())
    # the global tokens still reach everything
    moved = text.clone()
    moved[:, 0:5] += 3.0
    with torch.no_grad():
        assert changed_tokens(a, proc(attn, x, moved)).all()


def test_cross_attention_keeps_padding_mask():
    from diffusers.models.attention_processor import Attention, AttnProcessor2_0

    attn = Attention(query_dim=16, cross_attention_dim=8, heads=2, dim_head=8).eval()
    proc = CrossAttnRegionProcessor(AttnProcessor2_0(), layout())
    x, text = torch.randn(1, 24, 16), torch.randn(1, 9, 8)
    pad = torch.zeros(1, 1, 9)
    pad[..., 3:5] = float("-inf")                  # PixArt-style padding bias
    moved = text.clone()
    moved[:, 3:5] += 5.0
    with torch.no_grad():
        assert torch.equal(proc(attn, x, text, pad), proc(attn, x, moved, pad))


def _joint_check(attn, proc, single: bool = False):
    n, t, dim = GRID[0] * GRID[1], 9, attn.to_q.in_features
    x, text = torch.randn(1, n, dim), torch.randn(1, t, dim)
    moved = text.clone()
    moved[:, 5:9] += 3.0

    def run(txt):
        if single:  # FLUX single block: one sequence, text first
            out = proc(attn, torch.cat([txt, x], 1))
            return out[:, t:], out[:, :t]
        return proc(attn, x, txt)

    with torch.no_grad():
        (img_a, txt_a), (img_b, txt_b) = run(text), run(moved)
    assert torch.equal(changed_tokens(img_a, img_b), inside_box())
    # the other segment's text tokens read nothing of the moved segment
    assert not changed_tokens(txt_a, txt_b)[:5].any()


def test_sd3_joint_attention_routes_and_matches_diffusers_when_open():
    net = build_tiny("sd3").transformer
    attn = net.transformer_blocks[0].attn
    _joint_check(attn, SD3RegionProcessor(attn.processor, layout()))
    open_layout = RegionLayout(items=[[Segment(0, 9, (), True)]], text_len=9,
                               latent_size=GRID)
    x, text = torch.randn(1, 24, attn.to_q.in_features), torch.randn(1, 9, 32)
    with torch.no_grad():
        ours = SD3RegionProcessor(attn.processor, open_layout)(attn, x, text)
        theirs = attn.processor(attn, x, text)
    assert torch.allclose(ours[0], theirs[0], atol=1e-5)


def test_flux_joint_attention_routes_in_double_and_single_blocks():
    net = build_tiny("flux").transformer
    double = net.transformer_blocks[0].attn
    _joint_check(double, FluxRegionProcessor(double.processor, layout()))
    single = net.single_transformer_blocks[0].attn
    _joint_check(single, FluxRegionProcessor(single.processor, layout()),
                 single=True)


def test_joint_mask_blocks():
    m = joint_mask(layout(), 24, text_first=False, device="cpu")[0, 0]
    assert m.shape == (33, 33)
    assert m[:24, :24].all()                        # image ↔ image open
    assert torch.equal(m[:24, 29], inside_box())     # image → element token
    assert not m[24:29, 29:33].any()                 # global text ↛ element text


def test_regional_attention_installs_and_restores():
    net = build_tiny("sdxl").unet
    before = {k: type(v) for k, v in net.attn_processors.items()}
    from render.families import get_family

    with regional_attention(net, layout(latent=(4, 4)), get_family("sdxl").region_processor):
        wrapped = {k for k, v in net.attn_processors.items()
                   if isinstance(v, CrossAttnRegionProcessor)}
        assert wrapped == {k for k in before if ".attn2." in k} and wrapped
    assert {k: type(v) for k, v in net.attn_processors.items()} == before


@pytest.mark.parametrize("key", ["sdxl", "flux", "pixart"])
def test_masks_are_built_before_the_denoiser_runs(tiny_dir, key, monkeypatch):
    """A compiled denoiser must not rebuild (or recompile for) masks: every mask is made
    before its forward and reaches the processors as tensors."""
    import render.regional as regional
    from model.diffusion import denoiser
    from planner.schema import Background, Canvas, ObjectElement, Plan
    from render.diffusion import DiffusionRenderer

    r = DiffusionRenderer.from_preset(tiny_dir(key), device="cpu", steps=2)
    inside = {"forward": False, "built": 0}
    real = regional.region_cells

    def cells(*args, **kwargs):
        assert not inside["forward"], "a region mask was built inside the denoiser's forward"
        inside["built"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(regional, "region_cells", cells)
    net = denoiser(r.pipe)
    pre = net.register_forward_pre_hook(lambda *a: inside.update(forward=True))
    post = net.register_forward_hook(lambda *a: inside.update(forward=False))
    plan = Plan(seed=1, canvas=Canvas(width=32, height=32, background=Background(
        kind="color", color="#88aacc")), elements=(
        ObjectElement(id="apple-1", box=(0.1, 0.1, 0.5, 0.5), label="apple", color="red"),))
    try:
        r.render(plan)
    finally:
        pre.remove()
        post.remove()
    assert inside["built"] > 0
