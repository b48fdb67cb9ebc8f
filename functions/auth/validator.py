"""Validates Entra ID bearer tokens the way Microsoft.Identity.Web does, and a little stricter.

Checks, in order (each failure is one short :class:`InvalidToken` reason, never the token):

1. ``Authorization: Bearer <token>``; otherwise :class:`MissingToken`.
2. At most 16 KB of base64url in three non-empty segments, refused unread otherwise.
3. Header: ``alg`` exactly RS256 (no none/HS*/PS*/RS384: the key type alone decides
   nothing), a ``kid``, no ``crit``. ``jku``/``x5u``/``jwk``/``x5c`` are never looked at:
   keys come only from the configured provider.
4. The key for ``kid`` from :class:`SigningKeyCache` (one throttled refresh if unknown).
5. Signature, then ``exp``/``iat``/``iss``/``aud``/``tid``/``sub`` present; ``nbf`` and ``iat``
   may be up to ``clock_skew`` (<= 300 s) in the future; ``exp`` gets no skew, so a token
   is refused from its ``exp`` second on (stricter than Microsoft.Identity.Web's 5 min).
6. ``tid`` served, ``iss`` exact for that tenant (:mod:`.issuers`), the key allowed to sign
   for that issuer, ``ver`` consistent with it, ``aud`` one of ``ENTRA_AUDIENCES``.
7. An access token, not an ID token: no ``nonce``/``at_hash``/``c_hash`` (ID-token-only
   claims) and the client claim access tokens always carry (``azp`` v2, ``appid`` v1).

A token with neither ``scp`` nor ``roles`` is valid but grants nothing: ``authenticate``
returns a principal without permissions and the caller answers 403 where one is needed
(Microsoft.Identity.Web: IDW10201 -> 403), while negotiate, which needs none, still works.

Validated principals are cached by the token's SHA-256 until the token's ``exp``, so a warm
request costs one hash and one dict lookup.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

import jwt

from functions.auth.issuers import IssuerPolicy, metadata_url_for
from functions.auth.keys import SIGNING_ALGORITHM, SigningKey, SigningKeyCache, known_jwks_url
from functions.auth.principal import Principal
from functions.auth.refusals import RefusalLog, looks_like_signalr_client_token, shown, unverified_part
from functions.auth.ttl_cache import TTLCache
from functions.core.errors import AuthenticationError, ConfigurationError, InvalidToken, MissingToken
from functions.core.settings import ENTRA_METADATA_URL, Settings

MAX_TOKEN_LENGTH = 16 * 1024
MAX_CLOCK_SKEW = 300
REQUIRED_CLAIMS = ("exp", "iat", "iss", "aud", "tid", "sub")
ID_TOKEN_CLAIMS = ("nonce", "at_hash", "c_hash")
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_DECODE_OPTIONS: Any = {
    "require": list(REQUIRED_CLAIMS),
    # Checked below with rules PyJWT does not know (per-tenant issuer, no skew on exp).
    "verify_exp": False,
    "verify_iss": False,
    "verify_aud": False,
}


NO_HEADER = "Send an access token as 'Authorization: Bearer <token>'"
WRONG_SCHEME = ("The Authorization header must be 'Bearer <token>': the scheme 'Bearer', one space, then the token "
                "(the header's value is not repeated here)")
SIGNALR_CLIENT_TOKEN = ("algorithm not accepted: this is a SignalR client token (from negotiate, for connecting to "
                        "the service), not an Entra access token for this API")
NOT_ENTRA = "algorithm not accepted: send an Entra ID access token for this API (RS256-signed)"


def bearer_token(authorization_header: str | None) -> str:
    """The token of a ``Bearer`` Authorization header (scheme case-insensitive, RFC 7235)."""
    value = (authorization_header or "").strip()
    scheme, _, token = value.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        # Never echo the header: without "Bearer " its first word IS the token.
        raise MissingToken(WRONG_SCHEME if value else NO_HEADER)
    return token


class TokenValidator:
    """Turns an Authorization header into a :class:`Principal`; thread-safe, share one."""

    def __init__(
        self,
        settings: Settings,
        *,
        keys: SigningKeyCache | None = None,
        clock_skew: float = MAX_CLOCK_SKEW,
        cache_size: int = 1024,
        clock: Callable[[], float] = time.time,
    ) -> None:
        problems = settings.auth_problems()
        if problems:
            raise ConfigurationError("; ".join(problems))
        if not 0 <= clock_skew <= MAX_CLOCK_SKEW:
            raise ValueError(f"clock_skew must be between 0 and {MAX_CLOCK_SKEW} seconds")
        if keys is None:
            try:
                metadata_url = metadata_url_for(settings)
                keys = SigningKeyCache(metadata_url, jwks_url=known_jwks_url(metadata_url))
            except ValueError as e:
                raise ConfigurationError(f"{ENTRA_METADATA_URL} must be an http(s) URL") from e
        self.keys = keys
        self.policy = IssuerPolicy.from_settings(settings)
        self.audiences = frozenset(settings.entra_audiences)
        self.clock_skew = clock_skew
        self._clock = clock
        self._cache: TTLCache[bytes, Principal] = TTLCache(cache_size, clock=clock)
        self.refusals = RefusalLog()

    def authenticate(self, authorization_header: str | None) -> Principal:
        token: str | None = None
        try:
            token = bearer_token(authorization_header)
            return self._authenticate(token)
        except AuthenticationError as error:
            self.refusals.refused(error.detail, token)
            raise

    def _authenticate(self, token: str) -> Principal:
        if len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken("token too large")
        if not _COMPACT_JWS.fullmatch(token):
            raise InvalidToken("malformed token")
        digest = hashlib.sha256(token.encode("ascii")).digest()
        principal = self._cache.get(digest)  # None once expired: then validated (and refused) anew
        if principal is None:
            principal, expires_at = self._validate(token)
            self._cache.put(digest, principal, expires_at)
        return principal

    def _validate(self, token: str) -> tuple[Principal, float]:
        key = self._signing_key(token)
        claims = self._verified_claims(token, key)
        expires_at = claims["exp"]
        if isinstance(expires_at, bool) or not isinstance(expires_at, int | float):
            raise InvalidToken("exp is not a number")
        if expires_at <= self._clock():
            raise InvalidToken("token expired")

        tid = self.policy.check_tenant(claims["tid"])
        template = self.keys.issuer
        version = self.policy.token_version(claims["iss"], tid, template)
        if claims.get("ver", version) != version:
            raise InvalidToken("ver does not match the issuer")
        self.policy.check_key_issuer(key.issuer, claims["iss"], tid, template)
        if not isinstance(claims["aud"], str) or claims["aud"] not in self.audiences:
            # Audiences are not secret: naming both is what lets a caller fix its scope.
            accepted = ", ".join(shown(a) for a in sorted(self.audiences))
            raise InvalidToken(f"audience not accepted: the token is for {shown(claims['aud'])}; this API accepts "
                               f"{accepted} (ask for the scope '<audience>/.default')")
        _require_access_token(claims, version)
        try:
            return Principal.from_claims(claims, version), float(expires_at)
        except ValueError as e:
            raise InvalidToken("malformed claims") from e

    def _signing_key(self, token: str) -> SigningKey:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError as e:
            raise InvalidToken("malformed token") from e
        except jwt.InvalidTokenError as e:  # kid not a string, unsupported crit
            raise InvalidToken("unsupported token header") from e
        if header.get("alg") != SIGNING_ALGORITHM:
            client_token = looks_like_signalr_client_token(unverified_part(token, 1))
            raise InvalidToken(SIGNALR_CLIENT_TOKEN if client_token else NOT_ENTRA)
        if "crit" in header:
            raise InvalidToken("unsupported critical header")
        kid = header.get("kid")
        if not kid:
            raise InvalidToken("kid missing")
        key = self.keys.get(kid)
        if key is None:
            raise InvalidToken("signing key not found")
        return key

    def _verified_claims(self, token: str, key: SigningKey) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key.key,
                algorithms=[SIGNING_ALGORITHM],
                options=_DECODE_OPTIONS,
                leeway=self.clock_skew,
            )
        except jwt.InvalidSignatureError as e:
            raise InvalidToken("signature verification failed") from e
        except jwt.MissingRequiredClaimError as e:
            raise InvalidToken(f"missing claim {e.claim}") from e
        except jwt.ImmatureSignatureError as e:
            raise InvalidToken("token not yet valid") from e
        except jwt.DecodeError as e:
            raise InvalidToken("malformed token") from e
        except jwt.InvalidTokenError as e:
            raise InvalidToken("token not valid") from e


def _require_access_token(claims: Mapping[str, Any], version: str) -> None:
    client_claim = "azp" if version == "2.0" else "appid"
    if any(name in claims for name in ID_TOKEN_CLAIMS) or not claims.get(client_claim):
        raise InvalidToken("not an access token")
