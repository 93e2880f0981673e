"""Helpers for the server tests: a real uvicorn server on a free 127.0.0.1 port in a
background thread, and small image helpers."""

from __future__ import annotations

import base64
import io
import socket
import threading
import time

from limner.api import Limner
from limner.server import ServerOptions, create_app, make_server


class RunningServer:
    """A uvicorn server on a socket bound here (so the port cannot be taken meanwhile)."""

    def __init__(self, limner: Limner, options: ServerOptions):
        self.app = create_app(limner, options)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = make_server(self.app, "127.0.0.1", self.port, log_level="warning")
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)

    @property
    def service(self):
        return self.app.state.limner

    def client(self, api_key: str = "unused", **kw):
        from openai import OpenAI

        return OpenAI(base_url=f"{self.url}/v1", api_key=api_key, max_retries=0, **kw)

    def stop(self, timeout: float = 30) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)
        self.sock.close()


def png_bytes(size=(64, 64), color=(200, 30, 30, 255), mode="RGBA") -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new(mode, size, color if mode == "RGBA" else color[:3]).save(buf, "PNG")
    return buf.getvalue()


def decode_b64(b64: str):
    from PIL import Image

    im = Image.open(io.BytesIO(base64.b64decode(b64)))
    im.load()
    return im
