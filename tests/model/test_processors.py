"""VL processors load without torchvision: built from their image processor and tokenizer,
saved under the real class name, loaded back through a pipeline directory's model_index."""

import json

import pytest

pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def parts():
    from transformers import Qwen2VLImageProcessorPil

    from model.tiny_builds.llm_text import qwen_tokenizer

    return (Qwen2VLImageProcessorPil(patch_size=16, merge_size=2, temporal_patch_size=2,
                                     min_pixels=32 * 32, max_pixels=64 * 64),
            qwen_tokenizer())


@pytest.mark.parametrize("name", ["Qwen2VLProcessor", "Qwen3VLProcessor"])
def test_saved_processor_loads_back_from_a_pipeline_directory(tmp_path, parts, name):
    import transformers
    from PIL import Image

    from model.processors import build_image_only, has_torchvision, video_free_components

    cls = getattr(transformers, name)
    proc = build_image_only(cls, *parts)
    assert type(proc).__name__ == name and isinstance(proc, cls)
    proc.save_pretrained(tmp_path / "processor")
    saved = json.loads((tmp_path / "processor" / "processor_config.json").read_text())
    assert saved["processor_class"] == name          # a torchvision machine loads the real class
    (tmp_path / "model_index.json").write_text(json.dumps(
        {"_class_name": "AnyPipeline", "processor": ["transformers", name],
         "scheduler": ["diffusers", "FlowMatchEulerDiscreteScheduler"]}))
    found = video_free_components(tmp_path)
    if has_torchvision():
        assert found == {}
        return
    back = found["processor"]
    assert isinstance(back, cls) and set(found) == {"processor"}
    text = "<|vision_start|><|image_pad|><|vision_end|>a red cup"
    a = proc(text=[text], images=[Image.new("RGB", (64, 64), "red")], return_tensors="pt")
    b = back(text=[text], images=[Image.new("RGB", (64, 64), "red")], return_tensors="pt")
    assert a["input_ids"].tolist() == b["input_ids"].tolist()
    assert (a["pixel_values"] == b["pixel_values"]).all()
    # one 64x64 image: (64/16)^2 patches merged 2x2 -> 4 image tokens in the ids
    assert a["input_ids"][0].tolist().count(proc.image_token_id) == 4
