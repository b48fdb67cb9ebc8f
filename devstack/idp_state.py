"""Saving a running development identity provider's keys, so another process can mint tokens.

``python -m devstack.idp --state-dir DIR`` writes its keys there (files 0600, directory 0700);
``python -m devstack token`` loads them to mint a token the running stack accepts.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

if TYPE_CHECKING:
    from devstack.idp import DevIdentityProvider

STATE_FILE = "idp.json"


def save_state(idp: DevIdentityProvider, state_dir: str | os.PathLike[str]) -> Path:
    directory = Path(state_dir)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    entries = []
    for key in idp._keys:
        pem = key.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        name = f"idp-{key.kid}.pem"
        _write_private(directory / name, pem)
        entries.append({"kid": key.kid, "file": name, "issuer": key.issuer, "published": key.published})
    state = {
        "base_url": idp.base_url,
        "tenant_id": idp.tenant_id,
        "audience": idp.audience,
        "current_kid": idp.current_kid,
        "metadata_url": idp.metadata_url,
        "keys": entries,
    }
    path = directory / STATE_FILE
    _write_private(path, json.dumps(state, indent=2).encode())
    return path


def load_state(state_dir: str | os.PathLike[str], provider: type[DevIdentityProvider]) -> DevIdentityProvider:
    from devstack.idp import DevKey

    directory = Path(state_dir)
    state = json.loads((directory / STATE_FILE).read_text())
    keys = []
    for entry in state["keys"]:
        private_key = serialization.load_pem_private_key((directory / entry["file"]).read_bytes(), None)
        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise ValueError(f"{entry['file']} is not an RSA private key")
        keys.append(DevKey(entry["kid"], private_key, entry["issuer"], entry["published"]))
    idp = provider(state["tenant_id"], audience=state["audience"], keys=keys)
    idp.base_url = state["base_url"]
    idp._current = idp._key(state["current_kid"])
    return idp


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # also when the file already existed with wider permissions
        os.write(fd, data)
    finally:
        os.close(fd)
