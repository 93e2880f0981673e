"""Tiny SD3/SD3.5: ``StableDiffusion3Pipeline`` with a 1-block MMDiT over 16 latent channels
(the real count: SD3's inpaint pipeline checks it)."""

from __future__ import annotations

from model.tiny_builds.common import (TEXT_WIDTH, clip_text, clip_tokenizer, t5_encoder,
                                      t5_tokenizer, vae)


def build() -> dict:
    """The components of a tiny ``StableDiffusion3Pipeline`` (random init, float32, CPU)."""
    from diffusers import FlowMatchEulerDiscreteScheduler, SD3Transformer2DModel

    tok, t5 = clip_tokenizer(), t5_tokenizer()
    transformer = SD3Transformer2DModel(
        sample_size=16, patch_size=2, in_channels=16, num_layers=1, attention_head_dim=8,
        num_attention_heads=4, caption_projection_dim=TEXT_WIDTH,
        joint_attention_dim=TEXT_WIDTH, pooled_projection_dim=2 * TEXT_WIDTH,
        out_channels=16)
    return dict(transformer=transformer, scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0),
                vae=vae(16, shift_factor=0.0609, scaling_factor=1.5035),
                text_encoder=clip_text(True, len(tok)), tokenizer=tok,
                text_encoder_2=clip_text(True, len(tok)), tokenizer_2=clip_tokenizer(),
                text_encoder_3=t5_encoder(len(t5)), tokenizer_3=t5,
                image_encoder=None, feature_extractor=None)


def single_file_state(transformer) -> dict:
    """``transformer``'s weights in the original SD3/SD3.5 single-file layout (the
    ``model.diffusion_model.*`` keys of Stability's checkpoints), the inverse of diffusers'
    ``convert_sd3_transformer_checkpoint_to_diffusers``: a tiny checkpoint users' tools would
    write, for testing ``--renderer model.safetensors``."""
    import torch

    d = {k: v.detach().contiguous() for k, v in transformer.state_dict().items()}
    out: dict = {}

    def swap(w):   # (shift, scale) <-> (scale, shift): its own inverse
        a, b = w.chunk(2, dim=0)
        return torch.cat([b, a], dim=0)

    def take(new: str, old: str, fn=None) -> None:
        for suffix in ("weight", "bias"):
            if f"{old}.{suffix}" in d:
                w = d[f"{old}.{suffix}"]
                out[f"{new}.{suffix}"] = fn(w) if fn else w

    out["pos_embed"] = d["pos_embed.pos_embed"]
    take("x_embedder.proj", "pos_embed.proj")
    take("t_embedder.mlp.0", "time_text_embed.timestep_embedder.linear_1")
    take("t_embedder.mlp.2", "time_text_embed.timestep_embedder.linear_2")
    take("context_embedder", "context_embedder")
    take("y_embedder.mlp.0", "time_text_embed.text_embedder.linear_1")
    take("y_embedder.mlp.2", "time_text_embed.text_embedder.linear_2")
    n = len(transformer.transformer_blocks)
    for i in range(n):
        b, j, last = f"transformer_blocks.{i}", f"joint_blocks.{i}", i == n - 1
        for suffix in ("weight", "bias"):
            out[f"{j}.x_block.attn.qkv.{suffix}"] = torch.cat(
                [d[f"{b}.attn.to_{c}.{suffix}"] for c in "qkv"])
            out[f"{j}.context_block.attn.qkv.{suffix}"] = torch.cat(
                [d[f"{b}.attn.add_{c}_proj.{suffix}"] for c in "qkv"])
        for new, old in (("x_block.attn.ln_q", "attn.norm_q"), ("x_block.attn.ln_k", "attn.norm_k"),
                         ("context_block.attn.ln_q", "attn.norm_added_q"),
                         ("context_block.attn.ln_k", "attn.norm_added_k")):
            take(f"{j}.{new}", f"{b}.{old}")
        take(f"{j}.x_block.attn.proj", f"{b}.attn.to_out.0")
        take(f"{j}.x_block.adaLN_modulation.1", f"{b}.norm1.linear")
        take(f"{j}.context_block.adaLN_modulation.1", f"{b}.norm1_context.linear",
             swap if last else None)
        take(f"{j}.x_block.mlp.fc1", f"{b}.ff.net.0.proj")
        take(f"{j}.x_block.mlp.fc2", f"{b}.ff.net.2")
        if not last:
            take(f"{j}.context_block.attn.proj", f"{b}.attn.to_add_out")
            take(f"{j}.context_block.mlp.fc1", f"{b}.ff_context.net.0.proj")
            take(f"{j}.context_block.mlp.fc2", f"{b}.ff_context.net.2")
    take("final_layer.linear", "proj_out")
    take("final_layer.adaLN_modulation.1", "norm_out.linear", swap)
    return {f"model.diffusion_model.{k}": v for k, v in out.items()}
