"""C2PA provenance: sign limner's outputs and verify any file's manifest.

Keys: ``limner keys init`` makes a local ES256 certificate authority and a leaf signing
certificate under ``$LIMNER_HOME/keys`` (python ``cryptography``). A user's own certificate
chain and key are used instead when named by ``$LIMNER_SIGN_CERT`` / ``$LIMNER_SIGN_KEY``
(optional ``$LIMNER_SIGN_ALG``) or by ``$LIMNER_HOME/provenance.yaml`` (keys ``cert``,
``key``, ``alg``). With neither, nothing is signed and outputs stay byte-deterministic.

Each manifest holds: claim generator limner/<version>; a ``c2pa.actions`` assertion with one
``c2pa.created`` action and the renderer's IPTC digital source type (an edit instead has
``c2pa.opened`` of its parent, ``c2pa.placed`` per reference image and ``c2pa.edited``, the
parent and references signed in as ingredients, so ``verify`` shows the chain); and a custom
assertion
``org.limner.plan`` with the sha256 of the Plan's canonical JSON and of the decoded pixels
(so verify can tell a pixel edit from a metadata edit).

c2pa-python is imported only inside the functions that sign or read.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from model.config import limner_home
from render.base import RenderError

if TYPE_CHECKING:
    from planner.schema import Plan

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
PLAN_ASSERTION = "org.limner.plan"
MIME = {"png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg", "webp": "image/webp"}
ALGS = ("es256", "es384", "es512", "ps256", "ps384", "ps512", "ed25519")
CA_FILE, CA_KEY, CERT_FILE, KEY_FILE = "ca.pem", "ca.key", "signer-chain.pem", "signer.key"


class ProvenanceError(RenderError):
    """Missing or unusable signing credentials, or an unsupported format (a user mistake:
    the CLI prints it on one line)."""


@dataclass(frozen=True)
class Ingredient:
    """A file an output was made from: the edited ``parentOf`` image or a ``componentOf``
    reference. ``data``: its bytes as given; ``fmt``: png | jpeg | webp."""

    data: bytes
    fmt: str
    title: str
    relationship: str = "parentOf"


@dataclass(frozen=True)
class Credentials:
    """A PEM certificate chain (leaf first) and its PEM private key."""

    chain_pem: bytes
    key_pem: bytes
    alg: str = "es256"
    source: str = "local"          # "local" (limner keys init) | a path the user gave


def keys_dir() -> Path:
    return limner_home() / "keys"


def _c2pa():
    try:
        import c2pa
    except ImportError as e:
        raise ProvenanceError(f"C2PA needs c2pa-python ({e}): "
                              "pip install 'limner[provenance]'") from None
    return c2pa


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("limner")
    except Exception:  # not installed (running from a checkout)
        return "0.1.0"


# --- keys ----------------------------------------------------------------------------------
def init_keys(force: bool = False, directory: Path | None = None) -> dict:
    """Create a local ES256 CA and leaf signing certificate (``limner keys init``).

    Args:
        force: replace existing keys; without it existing keys are kept (idempotent).
        directory: where to write them (default ``$LIMNER_HOME/keys``).
    Returns:
        ``{"directory", "created", "subject", "fingerprint"}``.
    """
    d = Path(directory or keys_dir())
    if not force and (d / CERT_FILE).is_file() and (d / KEY_FILE).is_file():
        return _describe_keys(d, created=False)
    d.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert, leaf_key, leaf_cert = _make_chain()
    from cryptography.hazmat.primitives import serialization as ser

    def key_pem(k) -> bytes:
        return k.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8,
                               ser.NoEncryption())

    chain = leaf_cert.public_bytes(ser.Encoding.PEM) + ca_cert.public_bytes(ser.Encoding.PEM)
    for name, data in ((CA_KEY, key_pem(ca_key)), (KEY_FILE, key_pem(leaf_key)),
                       (CA_FILE, ca_cert.public_bytes(ser.Encoding.PEM)), (CERT_FILE, chain)):
        _write_private(d / name, data, secret=name.endswith(".key"))
    return _describe_keys(d, created=True)


def _write_private(path: Path, data: bytes, secret: bool) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secret else 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _make_chain():
    """A self-signed CA and a leaf certificate fit for C2PA signing (see NOTES.md)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = _dt.datetime.now(_dt.timezone.utc) - _dt.timedelta(days=1)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "limner (local)")])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (x509.CertificateBuilder().subject_name(name("limner local CA"))
               .issuer_name(name("limner local CA")).public_key(ca_key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now)
               .not_valid_after(now + _dt.timedelta(days=3650))
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(False, False, False, False, False, True, True,
                                            False, False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                              critical=False)
               .sign(ca_key, hashes.SHA256()))
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf_cert = (x509.CertificateBuilder().subject_name(name("limner signer"))
                 .issuer_name(ca_cert.subject).public_key(leaf_key.public_key())
                 .serial_number(x509.random_serial_number()).not_valid_before(now)
                 .not_valid_after(now + _dt.timedelta(days=730))
                 .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                 .add_extension(x509.KeyUsage(True, False, False, False, False, False, False,
                                              False, False), critical=True)
                 .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                                critical=False)
                 .add_extension(x509.SubjectKeyIdentifier.from_public_key(
                     leaf_key.public_key()), critical=False)
                 .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                     ca_key.public_key()), critical=False)
                 .sign(ca_key, hashes.SHA256()))
    return ca_key, ca_cert, leaf_key, leaf_cert


def _describe_keys(d: Path, created: bool) -> dict:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    leaf = x509.load_pem_x509_certificates((d / CERT_FILE).read_bytes())[0]
    return {"directory": str(d), "created": created, "subject": leaf.subject.rfc4514_string(),
            "fingerprint": leaf.fingerprint(hashes.SHA256()).hex()}


def _user_paths() -> tuple[str | None, str | None, str | None, str]:
    """(cert, key, alg, where) from the environment, else $LIMNER_HOME/provenance.yaml."""
    cert, key = os.environ.get("LIMNER_SIGN_CERT"), os.environ.get("LIMNER_SIGN_KEY")
    if cert or key:
        return cert, key, os.environ.get("LIMNER_SIGN_ALG"), "LIMNER_SIGN_CERT/LIMNER_SIGN_KEY"
    cfg = limner_home() / "provenance.yaml"
    if cfg.is_file():
        import yaml

        raw = yaml.safe_load(cfg.read_text(encoding="utf-8")) or {}
        unknown = sorted(set(raw) - {"cert", "key", "alg"})
        if unknown:
            raise ProvenanceError(f"{cfg}: unknown key(s) {', '.join(unknown)}; "
                                  "allowed: alg, cert, key")
        return raw.get("cert"), raw.get("key"), raw.get("alg"), str(cfg)
    return None, None, None, ""


def signing_credentials() -> Credentials | None:
    """The configured signing credentials, or None when nothing is configured.

    Raises:
        ProvenanceError: when a user-named cert/key is missing or only one of them is given.
    """
    cert, key, alg, where = _user_paths()
    if cert or key:
        if not (cert and key):
            raise ProvenanceError(f"{where}: give both a certificate chain and a private key")
        for label, p in (("certificate", cert), ("key", key)):
            if not Path(p).is_file():
                raise ProvenanceError(f"{where}: {label} file {p} does not exist")
        alg = (alg or "es256").lower()
        if alg not in ALGS:
            raise ProvenanceError(f"{where}: alg must be one of {', '.join(ALGS)}; got {alg!r}")
        return Credentials(Path(cert).read_bytes(), Path(key).read_bytes(), alg, str(cert))
    d = keys_dir()
    if (d / CERT_FILE).is_file() and (d / KEY_FILE).is_file():
        return Credentials((d / CERT_FILE).read_bytes(), (d / KEY_FILE).read_bytes())
    return None


# --- signing -------------------------------------------------------------------------------
def plan_hash(plan: "Plan") -> str:
    """sha256 of the Plan's canonical JSON (key-sorted, compact)."""
    return hashlib.sha256(plan.canonical_json().encode("utf-8")).hexdigest()


def pixel_hash(data: bytes) -> str:
    """sha256 of the decoded pixels (mode, size and RGBA bytes), independent of metadata."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        px = im if im.mode in ("RGB", "RGBA") else im.convert("RGBA")
        head = f"{px.mode}:{px.width}x{px.height}:".encode()
        return hashlib.sha256(head + px.tobytes()).hexdigest()


def source_type_url(digital_source_type: str) -> str:
    """An IPTC digital source type as the full URL C2PA expects ("trainedAlgorithmicMedia"
    → "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia")."""
    return digital_source_type if "://" in digital_source_type else IPTC + digital_source_type


def _ingredient_label(i: int, ing: Ingredient) -> str:
    return "parent" if ing.relationship == "parentOf" else f"ingredient-{i}"


def manifest_definition(fmt: str, plan: "Plan", digital_source_type: str,
                        pixels_sha256: str, ingredients: tuple[Ingredient, ...] = ()) -> dict:
    """The manifest limner signs: claim generator, the actions, the Plan hash.

    Without ingredients the one action is ``c2pa.created``. An edit opens its parent
    (``c2pa.opened``), places each reference (``c2pa.placed``) and is ``c2pa.edited``."""
    version = _version()
    agent = {"name": "limner", "version": version}
    source = source_type_url(digital_source_type)
    if not ingredients:
        actions = [{"action": "c2pa.created", "digitalSourceType": source,
                    "softwareAgent": agent}]
    else:
        actions = [{"action": "c2pa.opened" if ing.relationship == "parentOf"
                    else "c2pa.placed",
                    "parameters": {"ingredientIds": [_ingredient_label(i, ing)]}}
                   for i, ing in enumerate(ingredients)]
        if not any(ing.relationship == "parentOf" for ing in ingredients):
            actions.insert(0, {"action": "c2pa.created", "digitalSourceType": source,
                               "softwareAgent": agent})
        else:
            actions.append({"action": "c2pa.edited", "digitalSourceType": source,
                            "softwareAgent": agent})
    return {
        "claim_generator_info": [{"name": "limner", "version": version}],
        "title": f"limner image ({fmt})",
        "format": MIME[fmt],
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": actions}},
            {"label": PLAN_ASSERTION,
             "data": {"plan_sha256": plan_hash(plan), "pixels_sha256": pixels_sha256,
                      "schema_version": plan.schema_version, "seed": plan.seed,
                      "planner": plan.planner}},
        ],
    }


def sign(data: bytes, fmt: str, plan: "Plan", digital_source_type: str,
         credentials: Credentials | None = None,
         ingredients: tuple[Ingredient, ...] = ()) -> bytes:
    """Embed a signed C2PA manifest in an encoded image.

    Args:
        data: the encoded file (png, jpeg or webp).
        fmt: its format. plan: the Plan it was drawn from.
        digital_source_type: IPTC code or URL of how it was made.
        credentials: default: the configured ones (see signing_credentials).
        ingredients: the parent image of an edit and its references (a signed one brings
            its own manifest along, so the chain can be followed).
    Returns:
        The signed file's bytes.
    Raises:
        ProvenanceError: unsupported format or no credentials configured.
    """
    c2pa = _c2pa()
    if fmt not in MIME:
        raise ProvenanceError(f"cannot sign format {fmt!r}; allowed: png, jpeg, webp")
    creds = credentials or signing_credentials()
    if creds is None:
        raise ProvenanceError("no signing key: run `limner keys init` or set "
                              "LIMNER_SIGN_CERT and LIMNER_SIGN_KEY")
    manifest = manifest_definition(fmt, plan, digital_source_type, pixel_hash(data),
                                   tuple(ingredients))
    info = c2pa.C2paSignerInfo(getattr(c2pa.C2paSigningAlg, creds.alg.upper()),
                               creds.chain_pem, creds.key_pem, None)
    signer = c2pa.Signer.from_info(info)
    # No claim thumbnail: the file is its own preview; it cost ~300 ms and ~50 kB per image.
    no_thumbnail = {"builder": {"thumbnail": {"enabled": False}}}
    context = c2pa.Context(c2pa.Settings.from_dict(no_thumbnail))
    try:
        with c2pa.Builder(json.dumps(manifest), context) as builder:
            for i, ing in enumerate(ingredients):
                builder.add_ingredient({"title": ing.title, "relationship": ing.relationship,
                                        "label": _ingredient_label(i, ing)},
                                       MIME.get(ing.fmt, "image/png"), io.BytesIO(ing.data))
            src, dst = io.BytesIO(data), io.BytesIO()
            builder.sign(signer, MIME[fmt], src, dst)
            return dst.getvalue()
    except c2pa.C2paError as e:
        raise ProvenanceError(f"signing failed ({creds.source}): {e}") from None
    finally:
        signer.close()


def sign_if_configured(data: bytes, fmt: str, plan: "Plan", digital_source_type: str,
                       ingredients: "tuple[Ingredient, ...] | Callable[[], tuple]" = ()
                       ) -> bytes:
    """Sign when a key is configured; otherwise return ``data`` unchanged (deterministic).

    ``ingredients`` may be a function that makes them, called only when signing."""
    creds = signing_credentials()
    if creds is None:
        return data
    made = tuple(ingredients() if callable(ingredients) else ingredients)
    return sign(data, fmt, plan, digital_source_type, creds, made)


# --- verifying -----------------------------------------------------------------------------
_HASH_FAILURES = ("assertion.dataHash.mismatch", "assertion.boxesHash.mismatch",
                  "assertion.bmffHash.mismatch", "assertion.collectionHash.mismatch")


def _load(source: str | Path | bytes) -> bytes:
    if isinstance(source, (bytes, bytearray)):
        return bytes(source)
    p = Path(source)
    if not p.is_file():
        raise ProvenanceError(f"image {source} does not exist")
    return p.read_bytes()


def sniff_format(data: bytes) -> str | None:
    """png | jpeg | webp from the file's magic bytes, else None."""
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def verify(source: str | Path | bytes) -> dict:
    """Read and validate a file's C2PA manifest.

    Args:
        source: a path or the file's bytes (png, jpeg or webp).
    Returns:
        ``signed`` (a manifest is present), ``validation_state`` ("valid", "trusted",
        "invalid" or "unsigned"), ``valid``, ``signer`` (issuer, common name, alg, time),
        ``claim_generator``, ``actions``, ``digital_source_type``, ``data_changed`` (the
        signed byte hash no longer matches), ``pixels_changed`` (decoded pixels differ from
        the ones signed; from the hash limner stores, else the byte hash), ``plan_sha256``,
        ``plan_matches`` (the embedded Plan is the one signed; None if unknown),
        ``failures`` (validation codes) and the raw active ``manifest``.
    Raises:
        ProvenanceError: missing file or an unsupported format.
    """
    c2pa = _c2pa()
    data = _load(source)
    fmt = sniff_format(data)
    if fmt is None:
        raise ProvenanceError("verify reads png, jpeg or webp files only")
    report = {"format": fmt, "signed": False, "validation_state": "unsigned", "valid": False}
    try:
        reader = c2pa.Reader(MIME[fmt], io.BytesIO(data))
    except c2pa.C2paError as e:
        report["detail"] = f"no C2PA manifest ({' '.join(str(e).split())[:120]})"
        return report
    with reader:
        state = reader.get_validation_state() or "Invalid"
        store = json.loads(reader.json())
    manifests = store.get("manifests", {})
    active = manifests.get(store.get("active_manifest") or "", {})
    results = (store.get("validation_results") or {}).get("activeManifest") or {}
    failures = [f.get("code") for f in results.get("failure", [])]
    report.update(_summarise(active))
    data_changed = any(code in _HASH_FAILURES for code in failures)
    ours = report.pop("_ours")
    if ours.get("pixels_sha256"):
        try:
            pixels_changed = pixel_hash(data) != ours["pixels_sha256"]
        except Exception:  # undecodable pixels: certainly not the ones signed
            pixels_changed = True
    else:
        pixels_changed = data_changed
    report.update(signed=True, validation_state=state.lower(),
                  valid=state.lower() in ("valid", "trusted"), data_changed=data_changed,
                  pixels_changed=pixels_changed, plan_sha256=ours.get("plan_sha256"),
                  plan_matches=_plan_matches(data, ours.get("plan_sha256")),
                  failures=failures, ingredients=_chain(active, manifests), manifest=active)
    return report


def _chain(manifest: dict, manifests: dict, depth: int = 0) -> list[dict]:
    """The files a manifest was made from, each with its own actions and ingredients when
    it carried a manifest (a limner image edited again): the edit history, newest first."""
    out = []
    for ing in manifest.get("ingredients") or []:
        entry = {"title": ing.get("title"), "relationship": ing.get("relationship"),
                 "format": ing.get("format"), "signed": bool(ing.get("active_manifest"))}
        parent = manifests.get(ing.get("active_manifest") or "")
        if parent and depth < 16:
            summary = _summarise(parent)
            summary.pop("_ours", None)
            entry.update(actions=summary["actions"], claim_generator=summary["claim_generator"],
                         ingredients=_chain(parent, manifests, depth + 1))
        out.append(entry)
    return out


def _summarise(active: dict) -> dict:
    """Signer, generator and actions of the active manifest, plus limner's own assertion."""
    sig = active.get("signature_info") or {}
    gen = (active.get("claim_generator_info") or [{}])[0]
    actions, ours = [], {}
    for a in active.get("assertions", []):
        if a.get("label", "").startswith("c2pa.actions"):
            actions += (a.get("data") or {}).get("actions", [])
        elif a.get("label") == PLAN_ASSERTION:
            ours = a.get("data") or {}
    created = next((a for a in actions if a.get("action") in ("c2pa.created", "c2pa.edited")),
                   {})
    return {"signer": {"issuer": sig.get("issuer"), "common_name": sig.get("common_name"),
                       "alg": sig.get("alg"), "time": sig.get("time")},
            "claim_generator": (f"{gen.get('name')}/{gen.get('version')}"
                                if gen.get("name") else active.get("claim_generator")),
            "actions": [a.get("action") for a in actions],
            "digital_source_type": created.get("digitalSourceType"), "_ours": ours}


def _plan_matches(data: bytes, signed_hash: str | None) -> bool | None:
    if not signed_hash:
        return None
    try:
        from render.encode import read_plan
    except ImportError:
        return None
    try:
        plan = read_plan(data)
    except Exception:  # unreadable metadata: it is not the Plan that was signed
        return False
    return None if plan is None else plan_hash(plan) == signed_hash
