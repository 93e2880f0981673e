"""The GPU simulation's machinery (scripts/simulate_gpu.py) on small meta models.

The full-size run is a benchmark (the script); these check that what it counts is right:
FLOPs of a linear layer against the hand count, replayed calls, live activation bytes, the
strict architecture file, and one family end to end at a reduced depth and size.
"""

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sim():
    spec = importlib.util.spec_from_file_location("simulate_gpu", ROOT / "scripts" /
                                                  "simulate_gpu.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["simulate_gpu"] = module
    spec.loader.exec_module(module)
    return module


def test_linear_flops_match_the_hand_count_and_replays_add_the_same(sim):
    import torch

    with torch.device("meta"):
        layer = torch.nn.Linear(64, 32)
    sim.memoize_forward(layer, "denoiser")
    x = torch.empty(8, 64, device="meta")
    sim._METER = meter = sim.Meter()
    try:
        with meter:
            layer(x)
            once = meter.total_flops
            out = layer(x)                     # replayed: same shape, not run again
    finally:
        sim._METER = None
    assert once == 2 * 8 * 64 * 32              # one multiply-add = 2 FLOPs
    assert meter.total_flops == 2 * once
    assert meter.calls == {"denoiser": 2}
    assert out.shape == (8, 32) and out.device.type == "meta"


def test_live_bytes_count_what_is_alive_and_the_peak(sim):
    import torch

    live = sim.LiveBytes()
    with live.mode:
        a = torch.empty(1000, dtype=torch.float32, device="meta")     # 4000 bytes
        b = torch.empty(500, dtype=torch.bfloat16, device="meta")     # 1000 bytes
        view = a.view(10, 100)                                       # same storage
        assert live.live == 5000
        del a, b
        assert live.live == 4000                                     # the view keeps a
        del view
    assert live.live == 0 and live.peak == 5000


def test_fused_attention_on_meta_keeps_no_score_matrix(sim):
    import torch
    import torch.nn.functional as F

    q = torch.empty(1, 4, 1024, 64, device="meta", dtype=torch.bfloat16)
    live = sim.LiveBytes()
    with sim.meta_patches(), live.mode:
        out = F.scaled_dot_product_attention(q, q, q)
    assert out.shape == q.shape
    assert live.peak < 4 * 1024 * 1024 * 2       # far below one (4, 1024, 1024) bf16 matrix


def test_architectures_load_strictly(tmp_path):
    from model.architectures import check_component, load_architectures
    from model.config import ConfigError

    archs = load_architectures()
    assert {"sdxl", "flux-dev", "qwen-image", "z-image-turbo", "flux2-klein-4b"} <= set(archs)
    for name, arch in archs.items():
        for key, comp in arch.components.items():
            check_component(comp, f"{name}.{key}")
    bad = tmp_path / "a.yaml"
    bad.write_text("x:\n  pipeline: FluxPipeline\n  repo: r\n  dtype: bfloat16\n"
                   "  sampling: {steps: 1, guidance: 0}\n  colour: red\n"
                   "  components: {vae: {cls: AutoencoderKL}}\n")
    with pytest.raises(ConfigError, match="colour"):
        load_architectures(bad)
    typo = archs["flux-dev"].components["transformer"]
    typo = type(typo)(cls=typo.cls, config={**typo.config, "num_layer": 3})
    with pytest.raises(ConfigError, match="num_layer"):
        check_component(typo, "flux-dev.transformer")
    t5 = archs["flux-dev"].components["text_encoder_2"]
    with pytest.raises(ConfigError, match="d_modle"):
        check_component(type(t5)(cls=t5.cls, config={"d_modle": 8}), "t5")


def test_one_family_end_to_end_at_reduced_size(sim):
    from model.architectures import load_architectures

    arch = load_architectures()["flux-schnell"]
    shallow = {"num_layers": 1, "num_single_layers": 1, "num_hidden_layers": 1}
    row = sim.simulate("flux-schnell", arch, layers=shallow, size=(256, 256), tiled=False)
    for key in ("family", "params", "flops_bare", "flops_limner", "flops_limner_noregional",
                "peak_bytes_bare", "peak_bytes_limner", "predicted_s_h200"):
        assert key in row
    assert row["errors"] == {}
    assert row["flops_bare"] > 0 and row["flops_limner"] > 0
    assert row["peak_bytes_bare"] > 0 and row["peak_bytes_limner"] > 0
    steps = row["steps"]
    assert row["calls_bare"]["denoiser"] == steps
    # Regional prompting lengthens the text sequence: each denoiser call costs more.
    assert row["denoiser_tflop_per_call_limner"] > row["denoiser_tflop_per_call_limner_noregional"]
    assert set(row["offload"]) == {"24GB", "48GB", "80GB"}


def test_qwen_image_21_slot_mask_rebuilt_on_meta_is_the_pipelines(sim):
    """Qwen-Image-2.1's transformer reads its image-slot mask's values; the script rebuilds it
    for meta runs as text positions then the target's slots. That is the mask the real
    pipeline passes for a text-to-image call (tiny build, CPU), and the meta forward runs."""
    import diffusers
    import torch

    from model.tiny import build_tiny

    pipe = build_tiny("qwenimage21")
    cls = type(pipe.transformer)
    seen = []
    original = cls.forward

    def spy(self, *args, **kwargs):
        seen.append((kwargs["img_mask"].clone(), kwargs["img_shapes"]))
        return original(self, *args, **kwargs)

    cls.forward = spy
    try:
        pipe(prompt="a red apple", height=64, width=64, num_inference_steps=1,
             output_type="latent", output_resolution=64)
    finally:
        cls.forward = original
    mask, shapes = seen[0]
    slots = (64 // 16) * (64 // 16) // 4
    assert shapes == [[(1, 4, 4)]]
    want = torch.zeros_like(mask)
    want[:, -slots:] = True
    assert torch.equal(mask, want)

    with torch.device("meta"):
        meta = diffusers.QwenImage21Transformer2DModel(**pipe.transformer.config)
    sim.meta_image_slots(type(meta))
    try:
        with torch.no_grad():
            out = meta(hidden_states=torch.empty(1, 16, 4, device="meta"),
                       encoder_hidden_states=torch.empty(1, 9, 16, device="meta"),
                       timestep=torch.empty(1, device="meta"), img_shapes=[[(1, 4, 4)]],
                       img_mask=torch.empty(1, 9 + slots, dtype=torch.bool, device="meta"),
                       return_dict=False)[0]
    finally:
        cls.forward = original
    # (B, text + image tokens, C): the pipeline keeps the last 16, the target image
    assert out.shape == (1, 9 + 16, 4) and out.device.type == "meta"


def test_ar_decode_step_grows_by_the_attention_over_its_cache(sim):
    """An autoregressive decode step (GLM-Image's classes, tiny): the FLOPs added by 100 more
    cached positions are exactly the attention over them (QK and AV per layer, per head), and
    the step's peak holds the KV cache of its length."""
    from types import SimpleNamespace

    import torch
    from transformers import GlmImageConfig, GlmImageForConditionalGeneration

    layers, heads, hd, batch = 2, 4, 16, 2
    config = GlmImageConfig(
        text_config=dict(vocab_size=256, hidden_size=heads * hd, intermediate_size=128,
                         num_hidden_layers=layers, num_attention_heads=heads,
                         num_key_value_heads=2, vision_vocab_size=64, pad_token_id=0,
                         eos_token_id=1,
                         rope_parameters=dict(rope_type="default", rope_theta=1e4,
                                              partial_rotary_factor=0.5,
                                              mrope_section=[2, 1, 1])),
        vision_config=dict(depth=1, hidden_size=32, num_heads=2, intermediate_size=32),
        vq_config=dict(embed_dim=32, num_embeddings=64, latent_channels=32))
    with torch.device("meta"):
        gen = GlmImageForConditionalGeneration(config).to(torch.bfloat16).eval()
    spec = SimpleNamespace(language_model="model.language_model", head="lm_head",
                           step_input=None, batch=batch)
    short, long = (sim.measure(sim.ar_forward(gen, spec, 1, n, torch.bfloat16))
                   for n in (10, 110))
    assert short.error is None and long.error is None
    assert long.flops - short.flops == layers * 2 * 2 * batch * heads * hd * 100
    lm = gen.model.language_model
    assert long.peak >= sim.kv_bytes(lm.config, batch, 111, 2) > short.peak
    assert sim.kv_bytes(lm.config, batch, 111, 2) == 2 * layers * batch * 2 * hd * 111 * 2


def test_ar_families_simulate_with_their_published_entries():
    from model.architectures import load_architectures

    archs = load_architectures()
    for name in ("glm-image", "janus-pro"):
        spec = archs[name].generator
        assert spec is not None and spec.component in archs[name].components
        assert spec.new_tokens > 0 and spec.source
    assert archs["flux-dev"].generator is None


def test_edit_only_family_gets_limner_edit_rows(sim):
    """Qwen-Image-Edit-2511 (edit-only, preset qwen-image-edit) at a reduced depth and size:
    no text-to-image limner rows; limner's edit path (whole-image with 0 and 2 references,
    a masked region edit) and the same calls by hand both run on meta, the images reaching
    the VL encoder and the VAE, the sampler running the preset's steps with true CFG."""
    from model.architectures import load_architectures
    from model.diffusion import load_renderer_presets

    arch = load_architectures()["qwen-image-edit-2511"]
    assert arch.preset == "qwen-image-edit"
    shallow = {"num_layers": 1, "num_hidden_layers": 1, "depth": 1}
    row = sim.simulate("qwen-image-edit-2511", arch, layers=shallow, size=(64, 64),
                       tiled=False)
    assert row["errors"] == {}
    assert row["flops_limner"] is None and "edit-only" in row["limner_path"]
    edits = row["edits"]
    assert set(edits) == {"edit_0refs", "edit_2refs", "region"}
    tier = load_renderer_presets()["qwen-image-edit"].tier("medium")
    for case, e in edits.items():
        assert e["flops_bare"] > 0 and e["flops_limner"] > 0 and e["peak_bytes_limner"] > 0
        steps = tier.steps if case != "region" else int(tier.steps * tier.strength)
        assert e["calls_limner"]["denoiser"] == 2 * steps == e["calls_bare"]["denoiser"]
    # the references are read: the VAE encodes every image, and they cost FLOPs
    assert edits["edit_2refs"]["calls_limner"]["vae.encoder"] == 3
    assert edits["edit_0refs"]["calls_limner"]["vae.encoder"] == 1
    for tag in ("bare", "limner"):
        assert edits["edit_2refs"][f"flops_{tag}"] > edits["edit_0refs"][f"flops_{tag}"]


def test_kontext_edit_rows_read_one_context_image(sim):
    """FLUX.1 Kontext's limner-edit rows at a reduced depth and size: every edit runs on
    meta through limner and by hand; however many references, the model reads one context
    image (one VAE encode), and a region edit runs the preset's strength share of the steps."""
    from model.architectures import load_architectures
    from model.diffusion import load_renderer_presets

    arch = load_architectures()["flux-kontext-dev"]
    shallow = {"num_layers": 1, "num_single_layers": 1, "num_hidden_layers": 1}
    row = sim.simulate("flux-kontext-dev", arch, layers=shallow, size=(64, 64), tiled=False)
    assert row["errors"] == {} and set(row["edits"]) == {"edit_0refs", "edit_2refs", "region"}
    tier = load_renderer_presets()["flux-kontext"].tier("medium")
    for case in ("edit_0refs", "edit_2refs"):
        for tag in ("bare", "limner"):
            calls = row["edits"][case][f"calls_{tag}"]
            assert calls["vae.encoder"] == 1 and calls["denoiser"] == tier.steps
    region = row["edits"]["region"]
    assert region["calls_limner"]["denoiser"] == region["calls_bare"]["denoiser"]
    assert region["flops_limner"] > 0 and region["peak_bytes_limner"] > 0
