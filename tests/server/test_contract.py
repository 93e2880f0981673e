"""Requests and responses checked against OpenAI's published contract (images-openapi.json).

Where limner extends the contract the test says so: any WxH size the Plan allows (so a
response's ``size`` may be outside OpenAI's three), a ``seed`` request field and ``limner``
response fields (extra properties, which the schemas allow).
"""

from __future__ import annotations

import base64
import copy
import json
import os
import re

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from serverkit import png_bytes

SPEC_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))), "shared", "openai", "images-openapi.json")
# The extract holds no error schema; this is the shape OpenAI's API documents for errors.
ERROR_SCHEMA = {
    "type": "object", "required": ["error"],
    "properties": {"error": {
        "type": "object", "required": ["message", "type", "param", "code"],
        "properties": {"message": {"type": "string", "minLength": 1},
                       "type": {"type": "string"},
                       "param": {"type": ["string", "null"]},
                       "code": {"type": ["string", "null"]}}}}}
SIZE_SCHEMA = {"type": "string", "pattern": "^[0-9]+x[0-9]+$"}


def _nullable(node):
    """OpenAPI 3.0's ``nullable: true`` (still used in this 3.1 document) as JSON Schema."""
    if isinstance(node, list):
        return [_nullable(x) for x in node]
    if not isinstance(node, dict):
        return node
    node = {k: _nullable(v) for k, v in node.items()}
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


def _load_spec(relax_size: bool) -> dict:
    with open(SPEC_PATH, encoding="utf-8") as fh:
        spec = _nullable(json.load(fh))
    if relax_size:      # limner's extension: any WxH by the Plan's rules
        schemas = spec["components"]["schemas"]
        for name in ("ImagesResponse", "ImageGenCompletedEvent", "ImageGenPartialImageEvent",
                     "ImageEditCompletedEvent", "ImageEditPartialImageEvent"):
            schemas[name]["properties"]["size"] = copy.deepcopy(SIZE_SCHEMA)
    return spec


def validator(name: str, relax_size: bool = False) -> Draft202012Validator:
    spec = _load_spec(relax_size)
    registry = Registry().with_resource(
        "urn:openai-images", Resource.from_contents(spec, default_specification=DRAFT202012))
    return Draft202012Validator({"$ref": f"urn:openai-images#/components/schemas/{name}"},
                                registry=registry)


def assert_valid(v: Draft202012Validator, instance) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in v.iter_errors(instance)]
    assert not errors, errors


def post(server, path, **kw) -> httpx.Response:
    return httpx.post(f"{server.url}{path}", timeout=60, **kw)


def sse_events(response: httpx.Response) -> list[dict]:
    out = []
    for block in response.text.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "data" in lines:
            event = json.loads(lines["data"])
            assert lines["event"] == event["type"]
            out.append(event)
    return out


def test_the_spec_examples_are_served(server):
    """OpenAI's own documented generation request works unchanged (model gpt-image-1.5)."""
    spec = _load_spec(False)
    curl = spec["paths"]["/images/generations"]["post"]["x-oaiMeta"]["examples"][0]["request"][
        "curl"]
    body = json.loads(re.search(r"-d '(\{.*?\})'", curl, re.S).group(1))
    assert_valid(validator("CreateImageRequest"), body)
    r = post(server, "/v1/images/generations", json=body)
    assert r.status_code == 200
    assert_valid(validator("ImagesResponse"), r.json())


@pytest.mark.parametrize("size,quality,background", [
    ("1024x1024", "low", "opaque"), ("1536x1024", "high", "transparent"),
    ("1024x1536", "auto", "auto")])
def test_generation_response_matches_contract(server, size, quality, background):
    body = {"model": "gpt-image-2", "prompt": "two blue cups on a table", "size": size,
            "quality": quality, "background": background, "output_format": "webp", "seed": 4}
    r = post(server, "/v1/images/generations", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert_valid(validator("ImagesResponse"), out)
    assert out["size"] == size and out["quality"] in ("low", "medium", "high")
    assert out["data"][0]["limner"]["plan"]["canvas"]["width"] == int(size.split("x")[0])


def test_other_sizes_are_the_one_documented_extension(server):
    r = post(server, "/v1/images/generations", json={"prompt": "a cup", "size": "768x512"})
    out = r.json()
    errors = list(validator("ImagesResponse").iter_errors(out))
    assert [list(e.absolute_path) for e in errors] == [["size"]]
    assert_valid(validator("ImagesResponse", relax_size=True), out)


VALID_SIZES = ["auto", "1024x1024", "1536x1024", "1024x1536", "256x256", "512x512",
               "768x512", "512x1536"]


@st.composite
def generation_requests(draw):
    body = {"prompt": draw(st.sampled_from(["a red apple", 'a sign that says "HI"',
                                            "three cats under a tree", "猫が二匹"])),
            "size": draw(st.sampled_from(VALID_SIZES[4:])),
            "n": draw(st.integers(1, 2))}
    optional = {
        "model": st.sampled_from(["gpt-image-2", "gpt-image-1", "dall-e-3", "limner", None]),
        "quality": st.sampled_from(["low", "medium", "high", "auto", "standard", "hd"]),
        "background": st.sampled_from(["transparent", "opaque", "auto"]),
        "output_format": st.sampled_from(["png", "jpeg", "webp"]),
        "moderation": st.sampled_from(["low", "auto"]),
        "user": st.text(max_size=8),
        "response_format": st.just("b64_json"),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            body[key] = draw(strategy)
    if body.get("output_format") in ("jpeg", "webp") and draw(st.booleans()):
        body["output_compression"] = draw(st.integers(0, 100))
    return body


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(body=generation_requests())
def test_any_contract_request_gets_a_contract_response(server, body):
    assert_valid(validator("CreateImageRequest"), body)
    r = post(server, "/v1/images/generations", json=body)
    if body.get("output_format") == "jpeg" and body.get("background") == "transparent":
        assert r.status_code == 400
        assert_valid(Draft202012Validator(ERROR_SCHEMA), r.json())
        return
    assert r.status_code == 200, r.text
    out = r.json()
    assert_valid(validator("ImagesResponse", relax_size=True), out)
    assert len(out["data"]) == body["n"]
    assert out["output_format"] == body.get("output_format", "png")


@pytest.mark.parametrize("body", [
    {"prompt": "a cup", "n": 0}, {"prompt": "a cup", "n": 11},
    {"prompt": "a cup", "partial_images": 4}, {"prompt": "a cup", "background": "clear"},
    {"prompt": "a cup", "moderation": "high"}, {"prompt": "a cup", "output_format": "gif"},
    {"prompt": "a cup", "n": "2"}, {"prompt": "a cup", "stream": "yes"}, {"n": 1}])
def test_server_and_contract_refuse_the_same_requests(server, body):
    assert list(validator("CreateImageRequest").iter_errors(body))
    r = post(server, "/v1/images/generations", json=body)
    assert r.status_code == 400
    assert_valid(Draft202012Validator(ERROR_SCHEMA), r.json())


def test_generation_stream_events_match_contract(server):
    body = {"prompt": 'a poster that says "GO"', "size": "1024x1024", "stream": True,
            "partial_images": 3}
    assert_valid(validator("CreateImageRequest"), body)
    r = post(server, "/v1/images/generations", json=body)
    assert r.headers["content-type"].startswith("text/event-stream")
    events = sse_events(r)
    assert [e["type"].split(".")[1] for e in events] == ["partial_image"] * 3 + ["completed"]
    for e in events:
        assert_valid(validator("ImageGenStreamEvent"), e)


def _data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def test_edit_json_body_matches_contract(server):
    body = {"model": "gpt-image-1.5", "prompt": "add a red ball",
            "images": [{"image_url": _data_url(png_bytes((256, 256)))},
                       {"image_url": _data_url(png_bytes((32, 32)))}],
            "mask": {"image_url": _data_url(png_bytes((256, 256), (0, 0, 0, 0)))},
            "size": "auto", "quality": "low", "input_fidelity": "low", "output_format": "png"}
    assert_valid(validator("EditImageBodyJsonParam"), body)
    r = post(server, "/v1/images/edits", json=body)
    assert r.status_code == 200, r.text
    assert_valid(validator("ImagesResponse", relax_size=True), r.json())
    stream = post(server, "/v1/images/edits", json={**body, "stream": True})
    events = sse_events(stream)
    assert events and events[-1]["type"] == "image_edit.completed"
    for e in events:
        assert_valid(validator("ImageEditStreamEvent", relax_size=True), e)


def test_edit_multipart_fields_match_contract(server):
    fields = {"prompt": "add a moon", "n": "1", "size": "auto", "quality": "medium",
              "output_format": "jpeg", "output_compression": "80", "background": "opaque"}
    files = [("image[]", ("a.png", png_bytes((128, 128), mode="RGB"), "image/png")),
             ("image[]", ("b.png", png_bytes((64, 64)), "image/png"))]
    r = post(server, "/v1/images/edits", data=fields, files=files)
    assert r.status_code == 200, r.text
    assert_valid(validator("ImagesResponse", relax_size=True), r.json())


def test_edit_limits_match_contract(server):
    one = {"image_url": _data_url(png_bytes((32, 32)))}
    for body in ({"prompt": "x", "images": [one] * 17}, {"prompt": "x", "images": []},
                 {"prompt": "x" * 32001, "images": [one]}, {"prompt": "x", "images": [one],
                                                            "input_fidelity": "max"}):
        assert list(validator("EditImageBodyJsonParam").iter_errors(body))
        r = post(server, "/v1/images/edits", json=body)
        assert r.status_code == 400, body.keys()
        assert_valid(Draft202012Validator(ERROR_SCHEMA), r.json())
