"""Token-signing keys from an OpenID provider, cached the way Microsoft.Identity.Web does.

- The OpenID configuration (issuer, jwks_uri) is fetched once per process and kept.
- The key set is kept for ``refresh_interval`` (12 h), then refreshed by the first request
  that notices; other requests keep using the old set meanwhile.
- An unknown ``kid`` triggers at most one refresh per ``min_refresh_interval`` (5 min),
  however many requests ask at once: attempts are serialised and throttled, failed ones too.
  (Like Microsoft.Identity.Web's RequestRefresh, the first such refresh may follow a regular
  fetch closely: a key rolled just after our last fetch is picked up at once.)
- A failed refresh keeps the last good keys. Only with no keys at all does a failure
  surface, as :class:`SigningKeysUnavailable` (fail closed, 503), and retries are throttled
  by ``unavailable_retry_interval`` so a down endpoint is not hammered by every request.
- A fast first request: ``prefetch()`` loads the keys when the worker loads the app (see
  ``functions.core.warmup``), and when the key URL is known in advance (``jwks_url``; Entra's
  is ``{authority}/{tenant}/discovery/v2.0/keys``) the keys are fetched at the same time as
  the OpenID configuration instead of after it: one round trip, not two. They are used only
  if the configuration then names that same ``jwks_uri``; otherwise its own is fetched.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from jwt import PyJWK
from jwt.exceptions import PyJWTError

from functions.core.errors import SigningKeysUnavailable

SIGNING_ALGORITHM = "RS256"


def _elapsed(since: float | None, now: float) -> float:
    return math.inf if since is None else now - since


class KeyFetchError(Exception):
    """Raised when the OpenID configuration or the key set cannot be fetched or used."""


@dataclass(frozen=True)
class OpenIDConfiguration:
    issuer: str
    jwks_uri: str


@dataclass(frozen=True)
class SigningKey:
    kid: str
    key: Any  # a cryptography RSAPublicKey
    # Entra v2 keys name the issuer they may sign for (possibly with "{tenantid}");
    # PyJWK does not expose it, so it is read from the raw JWK.
    issuer: str | None = None


# Entra's v2 configuration and key URLs for one tenant (or "organizations"):
# https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc#find-your-apps-openid-configuration-document-uri
_CONFIGURATION_SUFFIX = "/v2.0/.well-known/openid-configuration"
_KEYS_SUFFIX = "/discovery/v2.0/keys"


def known_jwks_url(metadata_url: str) -> str | None:
    """The key URL an Entra-shaped configuration URL will name, or None for any other shape."""
    if not metadata_url.endswith(_CONFIGURATION_SUFFIX) or "?" in metadata_url:
        return None
    return metadata_url[: -len(_CONFIGURATION_SUFFIX)] + _KEYS_SUFFIX


class _Background:
    """Runs ``fetch`` in a daemon thread; ``result()`` waits for it and re-raises its error."""

    def __init__(self, fetch: Callable[[], Any]) -> None:
        self._fetch = fetch
        self._value: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="jwks-fetch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._fetch()
        except BaseException as e:  # handed to the waiting thread
            self._error = e

    def result(self, timeout: float) -> Any:
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise KeyFetchError("signing keys could not be fetched in time")
        if self._error is not None:
            raise self._error
        return self._value


def _http_url(value: Any) -> bool:
    return isinstance(value, str) and urlparse(value).scheme in ("http", "https")


def key_fetch_pool() -> Any:
    """One urllib3 pool manager for the identity provider's documents: at a cold start the
    configuration and the key set share one connection (one TLS handshake against Entra), and
    urllib3 is already loaded by the SignalR transport, so fetching imports nothing more (not
    urllib.request, PyJWKClient's transport, nor requests). TLS is checked against certifi's CA
    bundle, as requests does."""
    import certifi
    import urllib3

    return urllib3.PoolManager(num_pools=4, maxsize=2, cert_reqs="CERT_REQUIRED", ca_certs=certifi.where())


def fetch_json(url: str, timeout: float, what: str, pool: Any = None) -> Any:
    """GET a JSON document; KeyFetchError for anything but a 200 with JSON."""
    import json

    from urllib3.exceptions import HTTPError

    try:
        # No redirects, like PyJWKClient since 2.14: the configured URL is the one trusted. No retries:
        # the cache above decides when to ask again.
        response = (pool or key_fetch_pool()).request("GET", url, timeout=timeout, redirect=False, retries=False)
        if response.status != 200:
            raise KeyFetchError(f"{what} answered {response.status}")
        return json.loads(response.data)
    except (HTTPError, OSError, ValueError) as e:
        raise KeyFetchError(f"{what} could not be fetched") from e


def fetch_openid_configuration(url: str, timeout: float, pool: Any = None) -> OpenIDConfiguration:
    document = fetch_json(url, timeout, "OpenID configuration", pool)
    if not isinstance(document, dict):
        raise KeyFetchError("OpenID configuration is not a JSON object")
    issuer, jwks_uri = document.get("issuer"), document.get("jwks_uri")
    if not (isinstance(issuer, str) and issuer) or not (isinstance(jwks_uri, str) and _http_url(jwks_uri)):
        raise KeyFetchError("OpenID configuration lacks issuer or jwks_uri")
    return OpenIDConfiguration(issuer=issuer, jwks_uri=jwks_uri)


def parse_signing_keys(document: Mapping[str, Any]) -> dict[str, SigningKey]:
    """The RS256 signing keys of a JWKS document, by ``kid``; others are skipped."""
    keys: dict[str, SigningKey] = {}
    raw_keys = document.get("keys")
    for raw in raw_keys if isinstance(raw_keys, list) else []:
        if not isinstance(raw, dict) or raw.get("kty") != "RSA":
            continue
        kid = raw.get("kid")
        if not (isinstance(kid, str) and kid) or raw.get("use", "sig") != "sig":
            continue
        # A key bound to another algorithm must not verify RS256 (GHSA-jq35-7prp-9v3f).
        if raw.get("alg", SIGNING_ALGORITHM) != SIGNING_ALGORITHM:
            continue
        try:
            jwk = PyJWK(raw, algorithm=SIGNING_ALGORITHM)
        except PyJWTError:
            continue
        issuer = raw.get("issuer")
        keys[kid] = SigningKey(kid=kid, key=jwk.key, issuer=issuer if isinstance(issuer, str) else None)
    return keys


class SigningKeyCache:
    """The signing keys of one OpenID provider; safe to share between threads."""

    def __init__(
        self,
        metadata_url: str,
        *,
        jwks_url: str | None = None,
        refresh_interval: float = 12 * 3600,
        min_refresh_interval: float = 300,
        unavailable_retry_interval: float = 30,
        timeout: float = 10,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not _http_url(metadata_url):
            raise ValueError("metadata_url must be an http(s) URL")
        if jwks_url is not None and not _http_url(jwks_url):
            raise ValueError("jwks_url must be an http(s) URL")
        self.metadata_url = metadata_url
        self.jwks_url = jwks_url
        self.refresh_interval = refresh_interval
        self.min_refresh_interval = min_refresh_interval
        self.unavailable_retry_interval = unavailable_retry_interval
        self.timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._metadata: OpenIDConfiguration | None = None
        self._pool: Any = None  # a urllib3.PoolManager, built on the first fetch
        self._keys: dict[str, SigningKey] | None = None
        self._fetched_at = 0.0
        self._last_attempt: float | None = None  # any fetch, successful or not
        self._last_forced: float | None = None  # fetches asked for by an unknown kid
        self.fetch_attempts = 0

    @property
    def issuer(self) -> str:
        """The provider's issuer as its configuration states it (may hold ``{tenantid}``)."""
        if self._metadata is None:
            self._load_initial()
        assert self._metadata is not None
        return self._metadata.issuer

    def get(self, kid: str) -> SigningKey | None:
        """The key for ``kid``, or None when the provider does not (or no longer) publish it."""
        keys = self._keys
        if keys is None:
            keys = self._load_initial()
        elif self._clock() - self._fetched_at >= self.refresh_interval:
            keys = self._refresh_stale()
        key = keys.get(kid)
        return key if key is not None else self._refresh_for(kid)

    def prefetch(self) -> None:
        """Load the keys now, off the request path (worker start). A failure here is not held
        against the first request: it tries once itself, then the usual throttle applies."""
        with self._lock:
            if self._keys is not None:
                return
            previous = self._last_attempt
            try:
                self._fetch(self._clock())
            except KeyFetchError:
                self._last_attempt = previous

    # -- refresh paths ---------------------------------------------------------------

    def _load_initial(self) -> dict[str, SigningKey]:
        with self._lock:
            if self._keys is not None:
                return self._keys
            now = self._clock()
            if self._last_attempt is not None:
                wait = self.unavailable_retry_interval - (now - self._last_attempt)
                if wait > 0:
                    raise SigningKeysUnavailable(retry_after=max(1, math.ceil(wait)))
            try:
                return self._fetch(now)
            except KeyFetchError as e:
                retry = max(1, math.ceil(self.unavailable_retry_interval))
                raise SigningKeysUnavailable(retry_after=retry) from e

    def _refresh_stale(self) -> dict[str, SigningKey]:
        assert self._keys is not None
        # Whoever holds the lock is already refreshing; everyone else keeps the old keys.
        if self._lock.acquire(blocking=False):
            try:
                if _elapsed(self._last_attempt, self._clock()) >= self.min_refresh_interval:
                    self._try_fetch()
            finally:
                self._lock.release()
        return self._keys

    def _refresh_for(self, kid: str) -> SigningKey | None:
        with self._lock:
            assert self._keys is not None
            now = self._clock()
            if kid not in self._keys and _elapsed(self._last_forced, now) >= self.min_refresh_interval:
                self._last_forced = now
                self._try_fetch()
            return self._keys.get(kid)

    def _try_fetch(self) -> None:
        """Refresh the keys; on failure keep the last good ones (rollover may be mid-way)."""
        try:
            self._fetch(self._clock())
        except KeyFetchError:
            pass

    def _fetch(self, now: float) -> dict[str, SigningKey]:
        """Fetch the key set, and first the configuration if still unknown (with the keys of a
        known URL fetched alongside it). Call with the lock held."""
        self._last_attempt = now
        self.fetch_attempts += 1
        if self._pool is None:
            self._pool = key_fetch_pool()
        early = None
        if self._metadata is None:
            jwks_url, pool = self.jwks_url, self._pool
            if jwks_url is not None:
                early = _Background(lambda: fetch_json(jwks_url, self.timeout, "signing keys", pool))
            self._metadata = fetch_openid_configuration(self.metadata_url, self.timeout, self._pool)
        if early is not None and self._metadata.jwks_uri == self.jwks_url:
            document = early.result(self.timeout + 1)
        else:  # the configuration is the authority on where the keys are
            document = fetch_json(self._metadata.jwks_uri, self.timeout, "signing keys", self._pool)
        if not isinstance(document, dict):
            raise KeyFetchError("the key set is not a JSON object")
        keys = parse_signing_keys(document)
        if not keys:
            raise KeyFetchError("the key set holds no usable RS256 signing key")
        self._keys = keys
        self._fetched_at = self._clock()
        return keys
