"""C2PA provenance: keys, signing inside encode_image, verify, tamper detection, CLI."""

import io
import struct
import zlib

import pytest
from PIL import Image

from limner.cli import main
from planner.schema import Background, Canvas, ObjectElement, Plan, TextElement
from render import provenance as pv
from render.encode import encode_image, read_plan

DST = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


def _plan() -> Plan:
    return Plan(prompt="a poster that says OPEN with an apple", seed=3,
                canvas=Canvas(width=64, height=64,
                              background=Background(kind="color", color="#ffffff")),
                elements=(TextElement(id="t1", box=(0.1, 0.1, 0.9, 0.4), content="OPEN"),
                          ObjectElement(id="o1", box=(0.3, 0.5, 0.7, 0.9), label="apple")))


def _encode(fmt="png") -> bytes:
    im = Image.new("RGB", (64, 64), (250, 250, 250))
    im.paste((200, 30, 30), (20, 30, 44, 60))
    return encode_image(im, _plan(), seed=3, renderer="draft", digital_source_type=DST,
                        fmt=fmt)


def _chunks(data: bytes):
    pos = 8
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        yield kind, data[pos + 8:pos + 8 + n]
        pos += 12 + n


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(
        ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def _unfilter(raw: bytes, width: int, height: int, bpp: int) -> list[bytearray]:
    """PNG scanlines without their filters (PNG spec section 9)."""
    stride, rows, prev = width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return rows


def change_one_pixel(png: bytes, x: int = 5, y: int = 0) -> bytes:
    """Alter one pixel inside the signed file's image data (rewritten unfiltered), keeping
    every other chunk (the C2PA manifest included) as it was."""
    chunks = list(_chunks(png))
    ihdr = dict(chunks)[b"IHDR"]
    width, height = struct.unpack(">II", ihdr[:8])
    bpp = {2: 3, 6: 4}[ihdr[9]]
    rows = _unfilter(zlib.decompress(b"".join(b for k, b in chunks if k == b"IDAT")),
                     width, height, bpp)
    rows[y][x * bpp] ^= 0x40                              # the red byte of pixel (x, y)
    raw = b"".join(b"\x00" + bytes(r) for r in rows)
    out, done = bytearray(png[:8]), False
    for kind, body in chunks:
        if kind == b"IDAT":
            if not done:
                out += _chunk(b"IDAT", zlib.compress(bytes(raw), 9))
                done = True
            continue
        out += _chunk(kind, body)
    return bytes(out)


def add_text_chunk(png: bytes) -> bytes:
    """Insert a metadata chunk before IEND: the bytes change, the pixels do not."""
    return png[:-12] + _chunk(b"tEXt", b"Comment\x00edited later") + png[-12:]


def test_unsigned_and_deterministic_without_a_key():
    a, b = _encode(), _encode()
    assert a == b
    report = pv.verify(a)
    assert report["signed"] is False and report["validation_state"] == "unsigned"
    assert pv.sign_if_configured(a, "png", _plan(), DST) == a


def test_keys_init_is_idempotent_and_force_replaces(tmp_path):
    first = pv.init_keys()
    again = pv.init_keys()
    assert first["created"] and not again["created"]
    assert again["fingerprint"] == first["fingerprint"]
    forced = pv.init_keys(force=True)
    assert forced["created"] and forced["fingerprint"] != first["fingerprint"]
    key = pv.keys_dir() / pv.KEY_FILE
    assert oct(key.stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_signed_output_verifies(fmt):
    pv.init_keys()
    data = _encode(fmt)
    r = pv.verify(data)
    assert r["signed"] and r["valid"] and r["validation_state"] == "valid", r["failures"]
    assert r["claim_generator"].startswith("limner/")
    assert r["actions"] == ["c2pa.created"] and r["digital_source_type"] == DST
    assert r["signer"]["common_name"] == "limner signer"
    assert r["plan_sha256"] == pv.plan_hash(_plan()) and r["plan_matches"] is True
    assert r["pixels_changed"] is False and r["data_changed"] is False
    assert read_plan(data) == _plan()      # the Plan metadata survives signing


def test_one_changed_pixel_is_reported():
    pv.init_keys()
    signed = _encode("png")
    tampered = change_one_pixel(signed)
    assert tampered != signed
    a = Image.open(io.BytesIO(signed)).convert("RGB")
    b = Image.open(io.BytesIO(tampered)).convert("RGB")
    diff = [(x, y) for x in range(64) for y in range(64)
            if a.getpixel((x, y)) != b.getpixel((x, y))]
    assert diff == [(5, 0)]
    r = pv.verify(tampered)
    assert r["signed"] and not r["valid"] and r["validation_state"] == "invalid"
    assert r["pixels_changed"] is True and r["data_changed"] is True
    assert "assertion.dataHash.mismatch" in r["failures"]


def test_metadata_edit_is_not_a_pixel_change():
    pv.init_keys()
    r = pv.verify(add_text_chunk(_encode("png")))
    assert not r["valid"] and r["data_changed"] is True and r["pixels_changed"] is False


def test_user_supplied_certificate(tmp_path, monkeypatch):
    info = pv.init_keys(directory=tmp_path / "mine")
    monkeypatch.setenv("LIMNER_SIGN_CERT", str(tmp_path / "mine" / pv.CERT_FILE))
    monkeypatch.setenv("LIMNER_SIGN_KEY", str(tmp_path / "mine" / pv.KEY_FILE))
    assert not (pv.keys_dir() / pv.CERT_FILE).exists()
    creds = pv.signing_credentials()
    assert creds is not None and creds.source.endswith(pv.CERT_FILE)
    assert pv.verify(_encode())["valid"] and info["created"]
    monkeypatch.setenv("LIMNER_SIGN_KEY", str(tmp_path / "missing.key"))
    with pytest.raises(pv.ProvenanceError, match="missing.key does not exist"):
        _encode()


def test_config_file_strict(tmp_path):
    (pv.limner_home() / "provenance.yaml").write_text("cert: a.pem\nkye: b.key\n")
    with pytest.raises(pv.ProvenanceError, match="unknown key.*kye"):
        pv.signing_credentials()


def test_cli_keys_and_verify(tmp_path, capsys):
    assert main(["keys", "init"]) == 0
    assert "created" in capsys.readouterr().out
    assert main(["keys", "init"]) == 0
    assert "kept" in capsys.readouterr().out
    assert main(["keys", "init", "--force"]) == 0
    capsys.readouterr()
    good = tmp_path / "good.png"
    good.write_bytes(_encode())
    assert main(["verify", str(good)]) == 0
    out = capsys.readouterr().out
    assert "valid" in out and "limner signer" in out and "pixels changed: no" in out
    bad = tmp_path / "bad.png"
    bad.write_bytes(change_one_pixel(good.read_bytes()))
    assert main(["verify", str(bad)]) == 1
    assert "pixels changed: yes" in capsys.readouterr().out
    assert main(["verify", str(tmp_path / "nope.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err


def test_limner_outputs_carry_the_renderers_source_type():
    from limner.api import Limner
    from render.draft import DraftRenderer

    pv.init_keys()
    lim = Limner()
    result = lim.render([_plan()], output_format="webp")
    r = lim.verify(result[0].data)
    assert r["valid"] and r["digital_source_type"] == DraftRenderer.digital_source_type
    assert r["plan_matches"] is True


def test_changed_jpeg_scan_data_is_reported():
    pv.init_keys()
    data = bytearray(_encode("jpeg"))
    sos = data.rfind(b"\xff\xda")             # start of the entropy-coded image data
    data[sos + 40] ^= 0x01
    r = pv.verify(bytes(data))
    assert r["signed"] and not r["valid"] and r["data_changed"] and r["pixels_changed"]
