"""The server answers more images than the renderer's model takes with a 400 in OpenAI's
error shape naming the renderer and its limit (tiny FLUX.1 Kontext, bf16 on CPU, the real
openai SDK), for a whole-image edit and for a multi-image composition; nothing is sampled."""

import io

import openai
import pytest
import torch
from PIL import Image
from serverkit import RunningServer

from limner.api import Limner
from limner.server import ServerOptions


def png(colour) -> tuple:
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), colour).save(buf, "PNG")
    return ("i.png", buf.getvalue(), "image/png")


@pytest.fixture(scope="module")
def kontext_server(tiny_dir):
    lim = Limner(renderer=tiny_dir("flux-kontext"), device="cpu", dtype="bfloat16", steps=2,
                 native=(32, 32))
    ran = []
    for m in lim.renderer.pipe.components.values():
        if isinstance(m, torch.nn.Module):
            m.register_forward_pre_hook(lambda *a: ran.append(1))
    srv = RunningServer(lim, ServerOptions(queue=4))
    ran.clear()      # (the server's start-up warm-up render)
    yield srv, ran
    srv.stop()


@pytest.mark.parametrize("size,limit", [(None, "at most 4 images"),
                                         ("64x64", "at most 3 reference images")])
def test_too_many_images_is_a_400_naming_the_limit(kontext_server, size, limit):
    srv, ran = kontext_server
    images = [png((40 * i, 90, 200)) for i in range(5)]
    kw = {"size": size} if size else {}
    with pytest.raises(openai.BadRequestError) as e:
        srv.client().images.edit(prompt="make it watercolor", image=images, **kw)
    body = e.value.body
    assert e.value.status_code == 400
    assert body["type"] == "invalid_request_error" and body["param"] == "image"
    assert limit in body["message"] and "flux-kontext" in body["message"]
    assert ran == []
