"""How the facade proves itself to SignalR: one small object per credential kind.

``bearer(url)`` returns the token for a request to ``url``. AccessKey tokens are bound to
the URL (``aud``), so they are cached per audience; Entra tokens are one per scope.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlsplit

import jwt

from functions.core.errors import ConfigurationError, UpstreamUnavailable
from functions.signalr.connection_string import ConnectionInfo

ENTRA_SCOPE = "https://signalr.azure.com/.default"
ACCESS_TOKEN_LIFETIME = 3600  # the official SDK's default
REUSE_FOR = 3000  # re-sign well before expiry so a slow request never carries a stale token
# Audiences vary per user, group and connection (ids up to 1,024 characters, percent-encoded
# up to three times longer), and each token repeats its audience: bound the cache by bytes.
MAX_CACHE_BYTES = 4 * 1024 * 1024
REFRESH_MARGIN = 300  # refresh an Entra token 5 minutes before it expires, as azure-identity does
MIN_REMAINING = 30  # never send a token with less left: a slow request must not arrive expired
UNAVAILABLE_RETRY_INTERVAL = 10  # with no token, ask the identity endpoint again after this long

log = logging.getLogger(__name__)


class Credential(Protocol):
    def bearer(self, url: str) -> str: ...


def audience_for(url: str) -> str:
    """The ``aud`` the service expects: scheme, host and path; no port, no query, no trailing '/'."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}{parts.path}".rstrip("/")


class AccessKeyCredential:
    """HS256 JWTs signed with the access key's UTF-8 bytes, as the official SDK signs them."""

    def __init__(
        self, access_key: str, *, lifetime: int = ACCESS_TOKEN_LIFETIME, cache_bytes: int = MAX_CACHE_BYTES
    ) -> None:
        self._key = access_key.encode("utf-8")
        self._lifetime = lifetime
        self._reuse_for = min(REUSE_FOR, lifetime * 5 // 6)
        self._cache: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._cache_bytes = cache_bytes
        self._cached_bytes = 0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "AccessKeyCredential(<redacted>)"

    def sign(self, audience: str, lifetime: int | None = None, **claims: Any) -> str:
        now = int(time.time())
        body = {"aud": audience, "iat": now, "nbf": now, "exp": now + (lifetime or self._lifetime), **claims}
        return jwt.encode(body, self._key, algorithm="HS256")

    def bearer(self, url: str) -> str:
        # Keyed by the request URL (percent-encoded, so ASCII), not its audience: a hit then costs
        # no URL parsing. Two URLs with one audience (only the port differs) just sign twice.
        now = time.monotonic()
        # A hit takes no lock (one dict read, atomic under the GIL; concurrent batch items would
        # otherwise queue on it), and so does not move the entry: eviction is first in, first out.
        cached = self._cache.get(url)
        if cached and now - cached[1] < self._reuse_for:
            return cached[0]
        token = self.sign(audience_for(url))
        size = len(url) + len(token)  # both ASCII: characters are bytes
        if size * 16 > self._cache_bytes:
            return token  # one entry this large would crowd out the rest: sign it each time
        with self._lock:
            previous = self._cache.pop(url, None)
            if previous is not None:
                self._cached_bytes -= len(url) + len(previous[0])
            self._cache[url] = (token, now)
            self._cached_bytes += size
            while self._cached_bytes > self._cache_bytes:
                old_url, (old_token, _) = self._cache.popitem(last=False)
                self._cached_bytes -= len(old_url) + len(old_token)
        return token

    @property
    def cached_bytes(self) -> int:
        """What the token cache holds now, in bytes of URL and token text."""
        return self._cached_bytes


class EntraCredential:
    """An azure-identity credential for the SignalR data plane, imported only when configured.

    The token is fetched once and reused until ``refresh_margin`` seconds before it expires
    (azure-identity's own refresh offset is 5 minutes too). Then one caller refreshes while
    the others keep the still-valid token; a failed refresh keeps it (last good token). Only
    with no usable token does a failure surface, as :class:`UpstreamUnavailable` with
    ``Retry-After``, and the identity endpoint is then asked again at most once per
    ``unavailable_retry_interval``, however many requests arrive.
    """

    def __init__(
        self,
        info: ConnectionInfo,
        *,
        refresh_margin: float = REFRESH_MARGIN,
        unavailable_retry_interval: float = UNAVAILABLE_RETRY_INTERVAL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._info = info
        self._credential: Any = None
        self._token: tuple[str, float] | None = None  # (token, expires_on in epoch seconds)
        self._failed_at: float | None = None
        self._refresh_margin = refresh_margin
        self._retry_interval = unavailable_retry_interval
        self._clock = clock
        self._lock = threading.Lock()
        self.fetch_attempts = 0

    def __repr__(self) -> str:
        return f"EntraCredential(auth_type={self._info.auth_type!r})"

    def _build(self) -> Any:
        # azure-identity is heavy: import it on first use, never at cold start with AccessKey.
        import azure.identity as identity

        info = self._info
        if info.client_cert:
            # ClientCertificateCredential in .NET; CertificateCredential in azure-identity for Python.
            # The parser made sure AuthType, ClientId and TenantId go with it and the file exists.
            if not (info.tenant_id and info.client_id):
                raise ConfigurationError("the SignalR connection string's ClientCert needs TenantId and ClientId")
            return identity.CertificateCredential(info.tenant_id, info.client_id, certificate_path=info.client_cert)
        if info.auth_type == "azure.msi" or (info.auth_type == "aad" and not info.client_secret):
            # Few, quick retries: a request is waiting, and it answers 503 + Retry-After instead
            # (azure-identity's default pipeline retries a refused connection for ~5 s).
            # A resource id goes to App Service's identity endpoint as mi_res_id (the Functions host's own
            # reading of managedIdentityResourceId); a client id as client_id.
            config = {"mi_res_id": info.managed_identity_resource_id} if info.managed_identity_resource_id else None
            return identity.ManagedIdentityCredential(
                client_id=info.client_id, identity_config=config, retry_total=2, retry_backoff_factor=0.2
            )
        if info.auth_type in ("azure.app", "aad"):
            tenant_id, client_id, secret = info.tenant_id, info.client_id, info.client_secret
            if not (tenant_id and client_id and secret):
                raise ConfigurationError("the SignalR connection string's AuthType=azure.app needs TenantId, "
                                         "ClientId and ClientSecret")
            return identity.ClientSecretCredential(tenant_id, client_id, secret)
        # A client id given without a credential setting still names the managed identity to use.
        return identity.DefaultAzureCredential(managed_identity_client_id=info.client_id)

    def bearer(self, url: str) -> str:
        token = self._token
        if token is not None and token[1] - self._clock() > self._refresh_margin:
            return token[0]
        if token is not None and token[1] - self._clock() > MIN_REMAINING:
            # Near expiry but still good: one caller refreshes, the others keep using it.
            if not self._lock.acquire(blocking=False):
                return token[0]
            try:
                self._refresh(throttled=True)
            finally:
                self._lock.release()
            return self._usable_token() or token[0]
        with self._lock:
            usable = self._usable_token()
            if usable is not None:
                return usable
            self._refresh(throttled=True)
            usable = self._usable_token()
            if usable is None:
                raise UpstreamUnavailable(
                    "Could not obtain a credential for SignalR Service", retry_after=self._retry_after()
                )
            return usable

    def prefetch(self) -> None:
        """Fetch the token now (at worker start, off the request path); failures are left for
        the first request to meet, with no throttle: it tries once itself."""
        with self._lock:
            if self._usable_token(margin=self._refresh_margin) is None:
                self._refresh(throttled=False)

    def _usable_token(self, margin: float = MIN_REMAINING) -> str | None:
        token = self._token
        return token[0] if token is not None and token[1] - self._clock() > margin else None

    def _retry_after(self) -> int:
        waited = 0.0 if self._failed_at is None else self._clock() - self._failed_at
        return max(1, math.ceil(self._retry_interval - waited))

    def _refresh(self, *, throttled: bool) -> None:
        """Ask azure-identity for a token (lock held); on failure keep what there is."""
        now = self._clock()
        if throttled and self._failed_at is not None and now - self._failed_at < self._retry_interval:
            return
        self.fetch_attempts += 1
        try:
            if self._credential is None:
                self._credential = self._build()
            access = self._credential.get_token(ENTRA_SCOPE)
        except Exception as e:  # azure-identity raises many kinds; the type name is all that is logged
            log.warning("SignalR credential: no token from %s (%s)", self._info.auth_type, type(e).__name__)
            if throttled:
                self._failed_at = now
            return
        self._token = (access.token, float(access.expires_on))
        self._failed_at = None


def credential_for(info: ConnectionInfo) -> Credential:
    if info.auth_type is None:
        if not info.access_key:
            raise ConfigurationError("connection string: AccessKey is required")
        return AccessKeyCredential(info.access_key)
    return EntraCredential(info)
