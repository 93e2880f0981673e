"""The contract every model family meets, run over every tiny build in ``model.tiny.FAMILIES``
(a new family gets it for free), in the dtype its preset names (bf16; fp16 where the preset
says so), on CPU, through the public API (``Limner``) and the CLI.

After every call each loaded module still has the dtype and device it was loaded with, and
whenever the sampling call guides with a negative prompt, the negative conditioning is the
negative prompt's (not a copy of the positive).

A family that cannot draw from a prompt alone (``Family.draws_from_text`` false: no
``text2img`` pipeline, e.g. Qwen-Image-Edit) must refuse every text-to-image call with a
clear error; its pictures to edit are then made by the draft renderer, and every edit path
(Plan diff, user mask, whole-image instruction) runs on it.
"""

import dataclasses

import numpy as np
import pytest
import torch
from PIL import Image

from limner.api import Limner
from model.diffusion import load_renderer_presets
from model.tiny import FAMILIES
from render.families import family_for_directory

PROMPT = 'a sign that says "HI" above a red apple'


def preset_dtype(path: str) -> str:
    family = family_for_directory(path)
    return load_renderer_presets()[family.presets[0]].dtype


def state(pipe) -> dict:
    return {k: (m.dtype, m.device) for k, m in pipe.components.items()
            if isinstance(m, torch.nn.Module)}


@pytest.fixture(params=FAMILIES, scope="module")
def loaded(request, tiny_dir):
    path = tiny_dir(request.param)
    dtype = preset_dtype(path)
    lim = Limner(renderer=path, device="cpu", dtype=dtype, steps=2, native=(32, 32))
    before = state(lim.renderer.pipe)
    assert {d for d, _ in before.values()} == {getattr(torch, dtype)}
    return request.param, path, dtype, lim, before, {}


@pytest.fixture
def guided_calls(loaded, monkeypatch):
    """Records the conditioning of every sampling call the renderer makes: embeddings, or
    for a family whose pipeline encodes the prompt with its images, the prompt texts."""
    lim = loaded[3]
    family = lim.renderer.family
    seen = []
    if family.prompt_with_images:
        original_call = lim.renderer._text_call

        def spy_call(*args, **kwargs):
            call = original_call(*args, **kwargs)
            seen.append(call)
            return call

        monkeypatch.setattr(lim.renderer, "_text_call", spy_call)
        return seen
    original = family.call_kwargs

    def spy(e):
        seen.append(e)
        return original(e)

    monkeypatch.setattr(family, "call_kwargs", spy)
    return seen


def spy_decoder(pipe) -> list:
    """Records every VAE decode output of ``pipe`` (until the next spy replaces it)."""
    seen = []
    vae = pipe.vae
    original = type(vae).decode

    def decode(*args, **kwargs):
        out = original(vae, *args, **kwargs)
        seen.append((out[0] if isinstance(out, tuple) else out.sample).detach())
        return out

    vae.decode = decode
    return seen


def decoded_alpha(decoded: list) -> np.ndarray:
    """The last decode's fourth channel as 8-bit alpha (the pipeline's [-1, 1] -> [0, 255])."""
    x = decoded[-1].float()
    x = x[0, 3, 0] if x.dim() == 5 else x[0, 3]     # (B, C, T, H, W) video-style VAEs
    return ((x / 2 + 0.5).clamp(0, 1) * 255).round().numpy().astype(int)


def check_negatives(seen, guided: bool):
    """Whenever a call guided with a negative prompt, it was the negative prompt's."""
    assert seen
    for e in seen:
        if isinstance(e, dict):      # prompt texts (prompt_with_images)
            assert ("negative_prompt" in e) == guided
            if guided:
                assert e["negative_prompt"] != e["prompt"]
            continue
        assert (e.neg_tokens is not None) == guided
        if guided:
            assert e.neg_tokens.shape == e.tokens.shape
            assert not torch.equal(e.neg_tokens, e.tokens)


def masked_edit_of_a_plain_image_keeps_the_rest(lim, tmp_path) -> None:
    """A masked edit of a plain image (no limner metadata): pixels outside the mask stay."""
    plain_png, mask_png = tmp_path / "plain.png", tmp_path / "mask.png"
    Image.new("RGB", (32, 32), (40, 90, 160)).save(plain_png)
    mask = Image.new("RGBA", (32, 32), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (8, 8, 24, 24))
    mask.save(mask_png)
    masked = lim.edit("add a yellow star", image=str(plain_png), mask=str(mask_png))
    out = np.asarray(masked[0].image.convert("RGB"))
    keep = np.ones((32, 32), bool)
    keep[8:24, 8:24] = False
    assert (out[keep] == (40, 90, 160)).all()


def test_edit_only_family_refuses_text_to_image_and_edits(loaded, guided_calls, tmp_path):
    """The route for a family without text-to-image: every text path is refused by name;
    the picture comes from the draft; the Plan-diff, masked and whole-image edits run."""
    from render.base import RenderError

    key, path, dtype, lim, before, shared = loaded
    r = lim.renderer
    if r.family.draws_from_text:
        assert r.family.pipelines["text2img"] and r.family.loaded_pipeline == \
            r.family.pipelines["text2img"]
        return
    assert r.family.pipelines["text2img"] is None and r.capabilities.instruction_edit
    for call in (lambda: lim.generate(PROMPT, size="32x32", seed=1, n=2),
                 lambda: lim.generate("a red apple on a transparent background",
                                      size="32x32", seed=4)):
        with pytest.raises(RenderError, match="cannot draw one from a prompt alone"):
            call()
    made = Limner().generate(PROMPT, size="32x32", seed=1)
    shared["plain"], shared["file"] = arr(made[0].image), made[0].data   # for the CLI test
    first = tmp_path / "first.png"
    made[0].save(str(first))
    region = lim.edit("make the apple blue", image=str(first))      # Plan diff -> inpaint
    assert region[0].image.size == (32, 32)
    assert state(r.pipe) == before
    masked_edit_of_a_plain_image_keeps_the_rest(lim, tmp_path)
    assert state(r.pipe) == before
    whole = lim.edit("make it watercolor", image=str(first))        # whole-image
    assert whole[0].image.size == (32, 32)
    assert "watercolor" in (whole[0].plan.style.preset or "") + whole[0].plan.style.text
    assert state(r.pipe) == before
    check_negatives(guided_calls, r.family.guidance(r.tier("auto"), r.options)[0])


def arr(image):
    return np.asarray(image).astype(np.int16)


def test_every_path_keeps_dtypes_and_pixels(loaded, guided_calls, tmp_path, monkeypatch):
    key, path, dtype, lim, before, shared = loaded
    r = lim.renderer
    if not r.family.draws_from_text:     # routed: test_edit_only_family_refuses_...
        assert r.family.pipelines["text2img"] is None
        return

    # text-to-image / SDEdit from the draft, n > 1 == n singles; a family that takes
    # references gives image 2 image 1's subject crops (consistent subjects), so there image
    # 1 is the one a single render matches
    two = lim.generate(PROMPT, size="32x32", seed=1, n=2)
    assert [im.image.size for im in two.images] == [(32, 32)] * 2
    assert state(r.pipe) == before
    shared["plain"], shared["file"] = arr(two[0].image), two[0].data   # for the next test
    reads = 0 if r.capabilities.references else 1
    single = lim.generate(PROMPT, size="32x32", seed=1 + reads)
    assert np.array_equal(arr(two[reads].image), arr(single[0].image))
    assert not np.array_equal(arr(two[0].image), arr(two[1].image))
    # a canvas above the native size (32x32 here): sampled at native, then tiled
    big = lim.generate("a red apple next to a blue cup", size="48x32", seed=3)
    assert big[0].image.size == (48, 32)
    assert state(r.pipe) == before

    # transparent: keyed (a key colour cut out: fully clear and fully opaque pixels), or
    # for a family with native alpha the decoder's own fourth channel, unkeyed
    import render.keying

    decoded = spy_decoder(r.pipe) if r.capabilities.alpha else None
    keyings, extract = [], render.keying.extract_alpha
    with monkeypatch.context() as m:
        m.setattr(render.keying, "extract_alpha",
                  lambda *a, **k: keyings.append(1) or extract(*a, **k))
        clear = lim.generate("a red apple on a transparent background", size="32x32", seed=4)
    alpha = np.asarray(clear[0].image)[..., 3]
    assert clear[0].image.mode == "RGBA" and bool(keyings) != r.capabilities.alpha
    if decoded is None:
        assert alpha.min() == 0 and alpha.max() == 255
    else:
        assert np.abs(alpha.astype(int) - decoded_alpha(decoded)).max() <= 1
        r.pipe.vae.__dict__.pop("decode")          # the spy goes
    assert state(r.pipe) == before

    # ring inpaint around the text layer (families with inpainting)
    r.options, saved = dataclasses.replace(r.options, harmonise_inpaint=True), r.options
    try:
        ringed = lim.generate(PROMPT, size="32x32", seed=1)
    finally:
        r.options = saved
    assert ringed[0].image.size == (32, 32)
    assert state(r.pipe) == before

    # a plan-diff edit: pixels outside the changed region are kept
    first = tmp_path / "first.png"
    two[0].save(str(first))
    edited = lim.edit("make the apple blue", image=str(first))
    assert edited[0].image.size == (32, 32)
    assert state(r.pipe) == before

    # a masked edit of a plain image
    masked_edit_of_a_plain_image_keeps_the_rest(lim, tmp_path)
    assert state(r.pipe) == before

    # whenever a call guided with a negative prompt, it was the negative prompt's
    check_negatives(guided_calls, r.family.guidance(r.tier("auto"), r.options)[0])


def test_cli_lora_and_single_file(loaded, tmp_path, capsys):
    """The CLI: edit; --lora PATH[:SCALE] (scale 0 is the plain model, scale 1 changes
    pixels); --renderer FILE.safetensors (the same pixels as the directory it was written
    from); or a one-line error for a family without them."""
    from limner.cli import main
    from model.tiny import save_tiny_lora, save_tiny_single_file

    key, path, dtype, lim, before, shared = loaded
    caps = lim.renderer.capabilities
    if "plain" not in shared:
        maker = lim if lim.renderer.family.draws_from_text else Limner()
        one = maker.generate(PROMPT, size="32x32", seed=1)[0]
        shared["plain"], shared["file"] = arr(one.image), one.data
    plain = shared["plain"]
    common = [PROMPT, "--size", "32x32", "--seed", "1", "--device", "cpu", "--dtype", dtype,
              "--steps", "2"]
    first, edited = tmp_path / "first.png", tmp_path / "edited.png"
    first.write_bytes(shared["file"])       # a limner file: it carries its Plan
    assert main(["edit", str(first), "make the apple blue", "-o", str(edited), "--renderer",
                 path, *common[3:]]) == 0
    assert Image.open(edited).size == (32, 32)
    if caps.lora:
        lora = save_tiny_lora(path, tmp_path / "lora")
    else:   # refused before the file is read
        lora = tmp_path / "lora.safetensors"
        lora.write_bytes(b"")
    out = tmp_path / "lora.png"
    capsys.readouterr()
    code = main(["generate", *common, "--renderer", path, "--lora", f"{lora}:1.0",
                 "-o", str(out)])
    if not caps.lora:
        err = capsys.readouterr().err.strip()
        assert code == 2 and "takes no LoRA" in err and err.count("\n") == 0
    else:
        assert code == 0
        assert np.abs(arr(Image.open(out)) - plain).max() > 2   # (1 step at 32 px)
        off = Limner(renderer=path, device="cpu", dtype=dtype, steps=2, loras=[(lora, 0.0)])
        same = arr(off.generate(PROMPT, size="32x32", seed=1)[0].image)
        # (peft's layer adds 0 x LoRA to the base output; in fp16 that can move a
        # rounding by one level)
        assert np.abs(same - plain).max() <= 1
        assert state(off.renderer.pipe) == before

    single = save_tiny_single_file(path, tmp_path / f"{key}.safetensors")
    if single is None:   # no tiny layout for this family: a foreign file is a clear error
        from safetensors.torch import save_file

        single = tmp_path / "foreign.safetensors"
        save_file({"some.weight": torch.zeros(2)}, str(single))
        capsys.readouterr()
        code = main(["generate", *common, "--renderer", str(single), "-o",
                     str(tmp_path / "x.png")])
        err = capsys.readouterr().err.strip()
        assert code == 2 and "single files load for" in err and err.count("\n") == 0
        return
    out = tmp_path / "single.png"
    assert main(["generate", *common, "--renderer", str(single), "--base", path,
                 "-o", str(out)]) == 0
    assert np.array_equal(arr(Image.open(out).convert("RGB")), plain)
