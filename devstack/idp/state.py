"""The development identity provider's keys, and saving them so another process can mint tokens.

``python -m devstack.idp --state-dir DIR`` writes its keys there (files 0600, directory 0700);
``python -m devstack token`` and the identity endpoint stand-in load them to mint tokens the
running stack accepts. This module knows keys and files only, nothing of the provider.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

STATE_FILE = "idp.json"


@dataclass
class DevKey:
    kid: str
    private_key: rsa.RSAPrivateKey
    issuer: str | None  # the JWKS "issuer" member; None publishes none
    published: bool = True


def new_key(issuer: str | None, published: bool = True, private_key: rsa.RSAPrivateKey | None = None) -> DevKey:
    """A key (a fresh RSA 2048 one unless ``private_key`` is given) with a kid derived from it."""
    private_key = private_key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    kid = base64.urlsafe_b64encode(hashlib.sha256(der).digest()[:20]).decode().rstrip("=")
    return DevKey(kid=kid, private_key=private_key, issuer=issuer, published=published)


@dataclass
class SavedProvider:
    """What a running provider saves: its addresses and every key, the current one named."""

    base_url: str
    tenant_id: str
    audience: str
    current_kid: str
    keys: list[DevKey] = field(default_factory=list)


def save_state(state_dir: str | os.PathLike[str], saved: SavedProvider) -> Path:
    directory = Path(state_dir)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    entries = []
    for key in saved.keys:
        pem = key.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        name = f"idp-{key.kid}.pem"
        _write_private(directory / name, pem)
        entries.append({"kid": key.kid, "file": name, "issuer": key.issuer, "published": key.published})
    state = {
        "base_url": saved.base_url,
        "tenant_id": saved.tenant_id,
        "audience": saved.audience,
        "current_kid": saved.current_kid,
        "keys": entries,
    }
    path = directory / STATE_FILE
    _write_private(path, json.dumps(state, indent=2).encode())
    return path


def load_state(state_dir: str | os.PathLike[str]) -> SavedProvider:
    directory = Path(state_dir)
    state = json.loads((directory / STATE_FILE).read_text())
    keys = []
    for entry in state["keys"]:
        private_key = serialization.load_pem_private_key((directory / entry["file"]).read_bytes(), None)
        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise ValueError(f"{entry['file']} is not an RSA private key")
        keys.append(DevKey(entry["kid"], private_key, entry["issuer"], entry["published"]))
    return SavedProvider(state["base_url"], state["tenant_id"], state["audience"], state["current_kid"], keys)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # also when the file already existed with wider permissions
        os.write(fd, data)
    finally:
        os.close(fd)
