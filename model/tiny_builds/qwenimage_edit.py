"""Tiny Qwen-Image-Edit-2511 (QwenImageEditPlusPipeline; QwenImageEditInpaintPipeline shares
its components).

The tiny Qwen-Image's components (model/tiny_builds/qwenimage.py: transformer, VAE, Qwen2.5-VL
encoder, byte-level Qwen2Tokenizer) plus what the edit pipelines add: a ``Qwen2VLProcessor``
that turns each input image into vision tokens for the encoder. Its image processor is
``Qwen2VLImageProcessorPil`` with the tiny vision tower's patch layout (14 px patches merged
2x2, 2 frames per temporal patch, as Qwen2.5-VL's), limited to 56x56 pixels so every input
image costs the encoder 4 tokens; built without a video processor where torchvision is
missing (model/processors.py).
"""

from __future__ import annotations

from model.tiny_builds import qwenimage


def processor(tok):
    """A ``Qwen2VLProcessor`` over ``tok`` for the tiny Qwen2.5-VL vision tower."""
    from transformers import Qwen2VLImageProcessorPil, Qwen2VLProcessor

    from model.processors import build_image_only

    images = Qwen2VLImageProcessorPil(patch_size=14, merge_size=2, temporal_patch_size=2,
                                      min_pixels=56 * 56, max_pixels=56 * 56)
    return build_image_only(Qwen2VLProcessor, images, tok)


def build() -> dict:
    """The components of a tiny ``QwenImageEditPlusPipeline`` (random init, float32, CPU)."""
    parts = qwenimage.build()
    return dict(parts, processor=processor(parts["tokenizer"]))
