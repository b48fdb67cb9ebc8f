"""A development identity provider that signs Entra-ID-shaped access tokens.

It serves what the facade reads from Entra, on loopback only:

    /{tenant}/v2.0/.well-known/openid-configuration   issuer + jwks_uri ("organizations"
                                                      and "common" get the {tenantid} issuer)
    /{tenant}/discovery/v2.0/keys                     the published RSA keys, each naming
                                                      its issuer as Entra v2 keys do
    POST /dev/token  {"user": ..., "roles": [...]}    a token for the demo page's sign-in
    POST /{tenant}/oauth2/v2.0/token                  the OAuth 2.0 client-credentials grant, as Entra's
                                                      (grant_type=client_credentials, client_id,
                                                      client_secret, scope=<audience>/.default): any
                                                      client id and secret; roles from the clients table
                                                      (every permission for a client it does not list)

In tests it runs in-process (``DevIdentityProvider(...).start()``); for the local stack it
runs as ``python -m devstack.idp --port N --audience A --state-dir DIR`` and writes its
private keys there (0600), so ``mint_from_state(DIR, ...)`` can mint tokens the running
stack accepts. Development only: never deployed, keys are throwaway.

Dependencies run one way: this module uses :mod:`devstack.idp.state` (keys and files) and
:mod:`devstack.idp.http` (the HTTP face) and :mod:`devstack.idp.tokens` (claims), which
know nothing of it.
"""

from __future__ import annotations

import argparse
import json
import os
import ssl
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import jwt
from jwt.algorithms import RSAAlgorithm

from devstack.idp.http import handler_for
from devstack.idp.state import DevKey, SavedProvider, load_state, new_key, save_state
from devstack.idp.tokens import access_token_claims, merge
from devstack.loopback import LoopbackHTTPServer
from devstack.stop_flag import StopFlag
from functions.catalog.operations import Permission

DEV_TENANT_ID = "5e7a1c0d-9b2f-4c3e-8d4a-1f2e3d4c5b6a"
DEV_AUDIENCE = "api://signalr-facade-dev"
DEV_CLIENT_ID = "0c9d8e7f-6a5b-4c3d-9e2f-1a0b9c8d7e6f"  # the calling app: azp / appid
DEV_USER_ID = "3f2e1d0c-b9a8-4765-8432-10fedcba9876"  # oid of the default caller
# What a token gets when no role and no scope is asked for (CLI, demo sign-in): every
# permission the catalog knows, so a new one is included without editing this file.
ALL_PERMISSIONS: tuple[str, ...] = tuple(permission.value for permission in Permission)
V1_ISSUER = "https://sts.windows.net/{tenant}/"
MULTI_TENANT_PATHS = frozenset({"organizations", "common"})
_TEMPLATE_ISSUER = "{base}/{tenantid}/v2.0"  # Entra's key issuer; {base} is filled in when served


class DevIdentityProvider:
    """An OpenID provider on 127.0.0.1 with per-instance RSA keys; see the module docstring.

    ``response_delay`` (seconds) holds every GET answer back, as a real provider's round trip
    over the internet would (the first-request benchmark uses 50 ms).
    """

    def __init__(
        self,
        tenant_id: str = DEV_TENANT_ID,
        port: int = 0,
        *,
        audience: str = DEV_AUDIENCE,
        keys: Iterable[DevKey] = (),
        response_delay: float = 0.0,
        clients: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        self.tenant_id = tenant_id
        self.audience = audience
        self.port = port
        self.base_url = ""
        self.response_delay = response_delay
        # client id -> app roles its client-credentials tokens carry; a client not listed gets every permission
        self.clients = {client: list(roles) for client, roles in (clients or {}).items()}
        self.tls_base_url = ""  # https://127.0.0.1:<port> when also served over TLS (start(tls=...))
        self._tls_server: LoopbackHTTPServer | None = None
        self.fetches: Counter[str] = Counter()  # "metadata" / "jwks" / "other" requests served
        self._keys: list[DevKey] = list(keys)
        self._lock = threading.Lock()
        self._available = True
        self._server: LoopbackHTTPServer | None = None
        if not self._keys:
            self._keys.append(new_key(_TEMPLATE_ISSUER))
        self._current = self._keys[-1]
        # reset() returns to these; keys added since are kept as spares, so tests that add keys
        # pay for RSA generation once per session, not once per test.
        self._initial = (list(self._keys), self._current)
        self._spares: list[DevKey] = []

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
        return self._current.kid

    def signing_key(self, kid: str | None = None) -> DevKey:
        """The key with ``kid`` (published or not), or the current one."""
        with self._lock:
            if kid is None:
                return self._current
            for key in self._keys:
                if key.kid == kid:
                    return key
        raise KeyError(f"no key with kid {kid}")

    def add_key(
        self, *, issuer: str | None = _TEMPLATE_ISSUER, publish: bool = True, current: bool = False
    ) -> str:
        """Add a key; by default published with Entra's ``{tenantid}`` issuer template,
        ``issuer=None`` publishes none, any other string is published as given."""
        with self._lock:
            spare = self._spares.pop() if self._spares else None
        key = new_key(issuer, publish, spare.private_key if spare else None)
        with self._lock:
            self._keys.append(key)
            if current:
                self._current = key
        return key.kid

    def rotate(self, *, keep_old: bool = False) -> str:
        """Publish a new signing key and sign with it from now on; unpublish the old one."""
        old = self._current
        kid = self.add_key(current=True)
        if not keep_old:
            old.published = False
        return kid

    def set_available(self, available: bool) -> None:
        """False: metadata and keys answer 503, as an outage of the provider would."""
        self._available = available

    def reset(self) -> None:
        """Back to the keys it started with, available, nothing counted (one provider, many tests)."""
        keys, current = self._initial
        with self._lock:
            self._spares.extend(k for k in self._keys if k not in keys)
            self._keys = list(keys)
            for key in keys:
                key.published = True
            self._current = current
            self.fetches.clear()
        self._available = True
        self.response_delay = 0.0

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

    def openid_configuration(self, tenant: str, base: str | None = None) -> dict[str, Any]:
        """``base``: the address the document was asked at (the TLS one names its own endpoints; the issuer
        is always the one the facade trusts, so a token is the same whichever way it was asked for)."""
        issuer_tenant = "{tenantid}" if tenant in MULTI_TENANT_PATHS else tenant
        base = base or self.base_url
        return {
            "issuer": self.issuer_for(issuer_tenant),
            "jwks_uri": f"{base}/{tenant}/discovery/v2.0/keys",
            "authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/{tenant}/oauth2/v2.0/token",
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
        client_id: str = DEV_CLIENT_ID,
    ) -> str:
        """An access token shaped like Entra's. In ``headers``/``claims_override`` a value of
        None removes that member; ``key`` picks a kid (published or not) to sign with."""
        tid = tenant or self.tenant_id
        issuer = self.issuer_for(tid) if version == 2 else V1_ISSUER.format(tenant=tid)
        claims = access_token_claims(issuer=issuer, tenant=tid, audience=audience or self.audience, user=user,
                                     client_id=client_id, roles=roles, scopes=scopes, lifetime=lifetime,
                                     version=version)
        signer = self.signing_key(key)
        header: dict[str, Any] = {"typ": "JWT", "alg": "RS256", "kid": signer.kid}
        merge(header, headers)
        merge(claims, claims_override)
        algorithm = header.pop("alg", None) or "RS256"
        # PyJWT adds typ/alg itself; "typ": None in the call keeps a removed typ removed.
        header.setdefault("typ", None)
        return jwt.encode(claims, signer.private_key, algorithm=algorithm, headers=header)

    def sign_in(self, user: str | None, roles: list[str] | None) -> str:
        """The demo page's sign-in: every permission unless roles are named."""
        return self.mint(roles=ALL_PERMISSIONS if roles is None else roles, user=user or DEV_USER_ID)

    # -- server --------------------------------------------------------------------------

    def client_credentials(self, tenant: str, form: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        """The OAuth 2.0 client-credentials grant (RFC 6749, 4.4), shaped as Entra's v2 token endpoint
        (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow): any client id
        and secret (or client assertion) is accepted, on loopback only like the whole provider."""
        if form.get("grant_type") != "client_credentials":
            return _oauth_error("unsupported_grant_type", "only grant_type=client_credentials is served here")
        client_id = form.get("client_id", "")
        if not client_id or not (form.get("client_secret") or form.get("client_assertion")):
            return _oauth_error("invalid_request", "client_id and client_secret (or client_assertion) are required")
        wanted = f"{self.audience}/.default"
        if form.get("scope", "").split() != [wanted]:
            return _oauth_error("invalid_scope", f"ask for scope={wanted} (this API's audience + '/.default')")
        if tenant in MULTI_TENANT_PATHS:
            return _oauth_error("invalid_request", "the client-credentials grant needs a tenant id in the path")
        try:
            tid = str(uuid.UUID(tenant))
        except ValueError:
            return _oauth_error("invalid_request", "the path's tenant is not a tenant id")
        roles = self.clients.get(client_id, list(ALL_PERMISSIONS))
        lifetime = 3599
        # An app's token: its service principal is the caller (oid/sub), derived from the client id.
        token = self.mint(roles=roles, user=str(uuid.uuid5(uuid.NAMESPACE_URL, f"dev-idp:{client_id}")), tenant=tid,
                          client_id=client_id, lifetime=lifetime)
        return 200, {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime,
                     "access_token": token}

    def route(self, path: str, base: str | None = None) -> tuple[str, dict[str, Any] | None]:
        """What a GET of ``path`` serves: (kind, document), document None for 404."""
        parts = path.split("?", 1)[0].strip("/").split("/")
        if len(parts) == 4 and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
            return "metadata", self.openid_configuration(parts[0], base)
        if len(parts) == 4 and parts[1:] == ["discovery", "v2.0", "keys"]:
            return "jwks", self.jwks()
        return "other", None

    def answer_get(self, path: str, base: str | None = None) -> tuple[int, dict[str, Any]]:
        """The HTTP answer to a GET: counted, delayed, 503 while unavailable, 404 if unknown."""
        kind, document = self.route(path) if base is None else self.route(path, base)
        with self._lock:
            self.fetches[kind] += 1
        if self.response_delay:
            time.sleep(self.response_delay)
        if document is None:
            return 404, {"error": "not_found"}
        if not self._available:
            return 503, {"error": "temporarily_unavailable"}
        return 200, document

    def start(self, *, tls: ssl.SSLContext | None = None, tls_port: int = 0) -> DevIdentityProvider:
        """Serve on ``port``; with ``tls``, the same documents and token endpoint over https on ``tls_port``
        too (for clients that insist on https authorities: MSAL, azure-identity)."""
        self._server = LoopbackHTTPServer(handler_for(self.answer_get, self.sign_in, self.client_credentials),
                                          name="dev-idp", port=self.port)
        self.port = self._server.port
        self.base_url = self._server.url
        self._server.start()
        if tls is not None:
            handler = handler_for(lambda path: self.answer_get(path, self.tls_base_url), self.sign_in,
                                  self.client_credentials)
            self._tls_server = LoopbackHTTPServer(handler, name="dev-idp-tls", port=tls_port, tls=tls)
            self.tls_base_url = self._tls_server.url
            self._tls_server.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._tls_server is not None:
            self._tls_server.stop()
            self._tls_server = None

    def __enter__(self) -> DevIdentityProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- state for a separate `devstack token` process ------------------------------------

    def save_state(self, state_dir: str | os.PathLike[str]) -> Path:
        with self._lock:
            keys = list(self._keys)
        saved = SavedProvider(self.base_url, self.tenant_id, self.audience, self.current_kid, keys)
        return save_state(state_dir, saved)

    @classmethod
    def from_state(cls, state_dir: str | os.PathLike[str]) -> DevIdentityProvider:
        """A provider (not serving) with the keys and addresses a running one saved."""
        saved = load_state(state_dir)
        idp = cls(saved.tenant_id, audience=saved.audience, keys=saved.keys)
        idp.base_url = saved.base_url
        idp._current = idp.signing_key(saved.current_kid)
        return idp


def _oauth_error(code: str, description: str) -> tuple[int, dict[str, Any]]:
    """An OAuth 2.0 error answer (RFC 6749, 5.2)."""
    return 400, {"error": code, "error_description": description}


def load_clients(path: str | os.PathLike[str] | None) -> dict[str, list[str]]:
    """The clients table: a JSON object, client id -> list of app roles (a client not listed gets every one)."""
    if not path:
        return {}
    table = json.loads(Path(path).read_text())
    if not isinstance(table, dict) or not all(isinstance(r, list) and all(isinstance(x, str) for x in r)
                                              for r in table.values()):
        raise SystemExit(f"{path}: must be a JSON object of client id -> list of app role names")
    return table


def mint_from_state(state_dir: str | os.PathLike[str], **kwargs: Any) -> str:
    """A token from the provider whose state ``python -m devstack.idp`` wrote to ``state_dir``."""
    return DevIdentityProvider.from_state(state_dir).mint(**kwargs)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.idp", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0, help="on 127.0.0.1 (default: a free one)")
    parser.add_argument("--audience", default=DEV_AUDIENCE)
    parser.add_argument("--tenant", default=DEV_TENANT_ID)
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--tls-port", type=int, default=None,
                        help="also serve over https on this port (0: a free one), with a certificate written to "
                             "the state directory (tls-cert.pem: trust it with REQUESTS_CA_BUNDLE)")
    parser.add_argument("--clients", default=None,
                        help="JSON file: client id -> app roles for client-credentials tokens (unlisted: every one)")
    args = parser.parse_args(argv)

    from devstack.idp.tls import server_context, write_dev_certificate

    stopping = StopFlag().on_signals()
    tls = None
    if args.tls_port is not None:
        write_dev_certificate(args.state_dir)
        tls = server_context(args.state_dir)
    idp = DevIdentityProvider(args.tenant, args.port, audience=args.audience, clients=load_clients(args.clients))
    idp.start(tls=tls, tls_port=args.tls_port or 0)
    try:
        idp.save_state(args.state_dir)
        print(json.dumps({"metadata_url": idp.metadata_url, "issuer": idp.issuer, "jwks_url": idp.jwks_url,
                          "tls_url": idp.tls_base_url or None}), flush=True)
        while not stopping.wait(1):
            pass
    finally:
        idp.stop()

