"""The VLM path on a tiny random-init Idefics3 (SmolVLM's class), loaded back through the
user's loading path (local directory, local_files_only)."""

import pytest
from PIL import Image

from model import vlm as vlm_mod
from model.vlm import VLMError, build_tiny_vlm, known_presets, load_vlm, resolve


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    return build_tiny_vlm(tmp_path_factory.mktemp("tiny_vlm"), seed=0)


@pytest.fixture(scope="module")
def tiny(tiny_dir):
    return load_vlm(str(tiny_dir))


def _image():
    im = Image.new("RGB", (80, 48), (240, 240, 240))
    im.paste((200, 20, 20), (10, 10, 40, 40))
    return im


def test_loaded_back_as_the_real_class(tiny, tiny_dir):
    assert type(tiny.model).__name__ == "Idefics3ForConditionalGeneration"
    assert type(tiny.processor).__name__ == "Idefics3Processor"
    assert (tiny_dir / "config.json").is_file()
    assert not tiny.model.training


def test_caption_and_answer_are_strings_and_deterministic(tiny):
    im = _image()
    cap = tiny.caption(im)
    assert isinstance(cap, str) and cap == tiny.caption(im)
    assert isinstance(tiny.ask(im, "what colour is the square?"), str)


def test_question_is_routed_into_the_prompt(tiny, monkeypatch):
    seen = []
    real = tiny.processor.apply_chat_template

    def spy(messages, **kw):
        seen.append(messages)
        return real(messages, **kw)

    monkeypatch.setattr(tiny.processor, "apply_chat_template", spy)
    tiny.ask(_image(), "how many squares?")
    tiny.caption(_image())
    texts = [[c.get("text") for c in m[0]["content"]] for m in seen]
    kinds = [[c["type"] for c in m[0]["content"]] for m in seen]
    assert texts[0][1] == "how many squares?" and kinds[0] == ["image", "text"]
    assert texts[1][1] == tiny.preset.caption_prompt


def test_describe_uses_the_vlm_and_caches_it(tiny_dir, monkeypatch):
    from limner.api import Limner
    from render import describe as describe_mod

    # OCR is tested in tests/render/test_describe.py; here only the VLM routing matters.
    monkeypatch.setattr(describe_mod, "read_text", lambda im: [])
    loads = []
    real = vlm_mod.load_vlm

    def counting(name, device=None):
        loads.append(name)
        return real(name, device)

    monkeypatch.setattr(vlm_mod, "load_vlm", counting)
    lim = Limner()
    d = lim.describe(_image(), question="is there a red square?", vlm=str(tiny_dir))
    assert isinstance(d["caption"], str) and isinstance(d["answer"], str)
    assert d["vlm"] == str(tiny_dir) and "note" not in d
    monkeypatch.setenv("LIMNER_VLM", str(tiny_dir))
    again = lim.describe(_image())
    assert again["caption"] == d["caption"] and again["answer"] is None
    assert loads == [str(tiny_dir)]                     # loaded once per Limner


def test_presets_and_errors(tmp_path):
    presets = known_presets()
    assert {"smolvlm", "qwen2-vl", "florence-2"} <= set(presets)
    assert presets["florence-2"].question_template is None
    with pytest.raises(VLMError, match="unknown VLM 'nope'.*smolvlm"):
        resolve("nope")
    # A preset whose weights are not in the local cache: a clear, offline error.
    with pytest.raises(VLMError, match="huggingface-cli download HuggingFaceTB"):
        load_vlm("smolvlm")


def test_florence_style_preset_refuses_questions(tiny):
    no_questions = vlm_mod.VLM(tiny.model, tiny.processor,
                               vlm_mod.VLMPreset(repo="x", question_template=None))
    with pytest.raises(VLMError, match="answers no free questions"):
        no_questions.ask(_image(), "why?")
