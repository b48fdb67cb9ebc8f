"""A development identity provider that signs Entra-ID-shaped access tokens.

It serves what the facade reads from Entra, on loopback only:

    /{tenant}/v2.0/.well-known/openid-configuration   issuer + jwks_uri ("organizations"
                                                      and "common" get the {tenantid} issuer)
    /{tenant}/discovery/v2.0/keys                     the published RSA keys, each naming
                                                      its issuer as Entra v2 keys do
    POST /dev/token  {"user": ..., "roles": [...]}    a token for the demo page's sign-in

In tests it runs in-process (``DevIdentityProvider(...).start()``); for the local stack it
runs as ``python -m devstack.idp --port N --audience A --state-dir DIR`` and writes its
private keys there (0600), so ``mint_from_state(DIR, ...)`` can mint tokens the running
stack accepts. Development only: never deployed, keys are throwaway.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from devstack.idp_http import DEV_USER_ID, handler_for

DEV_TENANT_ID = "5e7a1c0d-9b2f-4c3e-8d4a-1f2e3d4c5b6a"
DEV_AUDIENCE = "api://signalr-facade-dev"
DEV_CLIENT_ID = "0c9d8e7f-6a5b-4c3d-9e2f-1a0b9c8d7e6f"  # the calling app: azp / appid
V1_ISSUER = "https://sts.windows.net/{tenant}/"
MULTI_TENANT_PATHS = frozenset({"organizations", "common"})
_TEMPLATE_ISSUER = "{base}/{tenantid}/v2.0"  # Entra's key issuer; {base} is filled in when served


@dataclass
class DevKey:
    kid: str
    private_key: rsa.RSAPrivateKey
    issuer: str | None  # the JWKS "issuer" member; None publishes none
    published: bool = True


def _new_key(issuer: str | None, published: bool) -> DevKey:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    kid = base64.urlsafe_b64encode(hashlib.sha256(der).digest()[:20]).decode().rstrip("=")
    return DevKey(kid=kid, private_key=private_key, issuer=issuer, published=published)


class DevIdentityProvider:
    """An OpenID provider on 127.0.0.1 with per-instance RSA keys; see the module docstring."""

    def __init__(
        self,
        tenant_id: str = DEV_TENANT_ID,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        audience: str = DEV_AUDIENCE,
        keys: Iterable[DevKey] = (),
    ) -> None:
        self.tenant_id = tenant_id
        self.audience = audience
        self.host, self.port = host, port
        self.base_url = ""
        self.fetches: Counter[str] = Counter()  # "metadata" / "jwks" / "other" requests served
        self._keys: list[DevKey] = []
        self._current: DevKey | None = None
        self._available = True
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._keys.extend(keys)
        if self._keys:
            self._current = self._keys[-1]
        else:
            self.add_key(current=True)

    # -- addresses -----------------------------------------------------------------------

    @property
    def issuer(self) -> str:
        return self.issuer_for(self.tenant_id)

    def issuer_for(self, tenant: str) -> str:
        return f"{self.base_url}/{tenant}/v2.0"

    @property
    def metadata_url(self) -> str:
        return self.metadata_url_for(self.tenant_id)

    def metadata_url_for(self, tenant: str) -> str:
        """``tenant`` may be "organizations" for the multi-tenant configuration."""
        return f"{self.base_url}/{tenant}/v2.0/.well-known/openid-configuration"

    @property
    def jwks_url(self) -> str:
        return f"{self.base_url}/{self.tenant_id}/discovery/v2.0/keys"

    @property
    def metadata_fetches(self) -> int:
        return self.fetches["metadata"]

    @property
    def jwks_fetches(self) -> int:
        return self.fetches["jwks"]

    # -- keys ----------------------------------------------------------------------------

    @property
    def current_kid(self) -> str:
        assert self._current is not None
        return self._current.kid

    def add_key(
        self, *, issuer: str | None = _TEMPLATE_ISSUER, publish: bool = True, current: bool = False
    ) -> str:
        """Generate a key; by default published with Entra's ``{tenantid}`` issuer template,
        ``issuer=None`` publishes none, any other string is published as given."""
        key = _new_key(issuer, publish)
        with self._lock:
            self._keys.append(key)
            if current:
                self._current = key
        return key.kid

    def rotate(self, *, keep_old: bool = False) -> str:
        """Publish a new signing key and sign with it from now on; unpublish the old one."""
        old = self._current
        kid = self.add_key(current=True)
        if old is not None and not keep_old:
            old.published = False
        return kid

    def set_available(self, available: bool) -> None:
        """False: metadata and keys answer 503, as an outage of the provider would."""
        self._available = available

    def jwks(self) -> dict[str, Any]:
        with self._lock:
            keys = [k for k in self._keys if k.published]
        published = []
        for key in keys:
            jwk = RSAAlgorithm.to_jwk(key.private_key.public_key(), as_dict=True)
            jwk.update(kid=key.kid, use="sig")
            if key.issuer:
                jwk["issuer"] = key.issuer.replace("{base}", self.base_url)
            published.append(jwk)
        return {"keys": published}

    def openid_configuration(self, tenant: str) -> dict[str, Any]:
        issuer_tenant = "{tenantid}" if tenant in MULTI_TENANT_PATHS else tenant
        return {
            "issuer": self.issuer_for(issuer_tenant),
            "jwks_uri": f"{self.base_url}/{tenant}/discovery/v2.0/keys",
            "authorization_endpoint": f"{self.base_url}/{tenant}/oauth2/v2.0/authorize",
            "token_endpoint": f"{self.base_url}/{tenant}/oauth2/v2.0/token",
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "subject_types_supported": ["pairwise"],
        }

    # -- tokens --------------------------------------------------------------------------

    def mint(
        self,
        *,
        roles: Iterable[str] = (),
        scopes: Iterable[str] = (),
        user: str = DEV_USER_ID,
        tenant: str | None = None,
        audience: str | None = None,
        lifetime: int = 3600,
        version: int = 2,
        headers: Mapping[str, Any] | None = None,
        claims_override: Mapping[str, Any] | None = None,
        key: str | None = None,
    ) -> str:
        """An access token shaped like Entra's. In ``headers``/``claims_override`` a value of
        None removes that member; ``key`` picks a kid (published or not) to sign with."""
        tid = tenant or self.tenant_id
        now = int(time.time())
        claims: dict[str, Any] = {
            "aud": audience or self.audience,
            "iss": self.issuer_for(tid) if version == 2 else V1_ISSUER.format(tenant=tid),
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "oid": user,
            "sub": user,
            "tid": tid,
            "uti": uuid.uuid4().hex[:22],
            "ver": "2.0" if version == 2 else "1.0",
        }
        if version == 2:
            claims.update(azp=DEV_CLIENT_ID, azpacr="1")
        else:
            claims.update(appid=DEV_CLIENT_ID, appidacr="1")
        roles, scopes = list(roles), list(scopes)
        if roles:
            claims["roles"] = roles
        if scopes:
            claims["scp"] = " ".join(scopes)
        else:
            claims["idtyp"] = "app"
        signer = self._key(key)
        header: dict[str, Any] = {"typ": "JWT", "alg": "RS256", "kid": signer.kid}
        _merge(header, headers)
        _merge(claims, claims_override)
        algorithm = header.pop("alg", None) or "RS256"
        # PyJWT adds typ/alg itself; "typ": None in the call keeps a removed typ removed.
        header.setdefault("typ", None)
        return jwt.encode(claims, signer.private_key, algorithm=algorithm, headers=header)

    def _key(self, kid: str | None) -> DevKey:
        with self._lock:
            if kid is None:
                assert self._current is not None
                return self._current
            for key in self._keys:
                if key.kid == kid:
                    return key
        raise KeyError(f"no key with kid {kid}")

    # -- server --------------------------------------------------------------------------

    def start(self) -> DevIdentityProvider:
        self._server = ThreadingHTTPServer((self.host, self.port), handler_for(self))
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.base_url = f"http://{self.host}:{self.port}"
        # A short poll interval keeps stop() (shutdown waits for one poll) fast in tests.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="dev-idp", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> DevIdentityProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def route(self, path: str) -> tuple[str, dict[str, Any] | None]:
        """What a GET of ``path`` serves: (kind, document), document None for 404."""
        parts = path.split("?", 1)[0].strip("/").split("/")
        if len(parts) == 4 and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
            return "metadata", self.openid_configuration(parts[0])
        if len(parts) == 4 and parts[1:] == ["discovery", "v2.0", "keys"]:
            return "jwks", self.jwks()
        return "other", None

    # -- state for a separate `devstack token` process ------------------------------------

    def save_state(self, state_dir: str | os.PathLike[str]) -> Path:
        from devstack.idp_state import save_state

        return save_state(self, state_dir)

    @classmethod
    def from_state(cls, state_dir: str | os.PathLike[str]) -> DevIdentityProvider:
        """A provider (not serving) with the keys and addresses a running one saved."""
        from devstack.idp_state import load_state

        return load_state(state_dir, cls)


def mint_from_state(state_dir: str | os.PathLike[str], **kwargs: Any) -> str:
    """A token from the provider whose state ``python -m devstack.idp`` wrote to ``state_dir``."""
    return DevIdentityProvider.from_state(state_dir).mint(**kwargs)


def _merge(target: dict[str, Any], changes: Mapping[str, Any] | None) -> None:
    for name, value in (changes or {}).items():
        if value is None:
            target.pop(name, None)
        else:
            target[name] = value


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.idp", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--audience", default=DEV_AUDIENCE)
    parser.add_argument("--tenant", default=DEV_TENANT_ID)
    parser.add_argument("--state-dir", required=True)
    args = parser.parse_args(argv)

    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    idp = DevIdentityProvider(args.tenant, args.host, args.port, audience=args.audience).start()
    try:
        idp.save_state(args.state_dir)
        print(json.dumps({"metadata_url": idp.metadata_url, "issuer": idp.issuer, "jwks_url": idp.jwks_url}),
              flush=True)
        while not stopping.wait(1):
            pass
    finally:
        idp.stop()


if __name__ == "__main__":
    main()
