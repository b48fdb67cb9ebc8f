"""The facade's exception tree: one root, one subclass per failure, each mapped to one
HTTP status and one stable problem ``type`` (RFC 9457).

    FacadeError
    ├── ConfigurationError        the app's settings are unusable (500, logged, not echoed)
    ├── RequestError              the caller's request is wrong (4xx)
    │   ├── ValidationError         a field breaks a rule (400, field-level ``errors``)
    │   ├── PayloadTooLarge         body over the limit (413)
    │   ├── UnsupportedMediaType    body is not JSON (415)
    │   ├── OperationNotAllowed     the operation is not offered on this path (400)
    │   ├── NoSuchRoute             no function serves the path (404, from the catch-all function)
    │   ├── MethodNotAllowed        the path is served, not for this method (405 + Allow)
    │   ├── ContinuationRefused     SignalR refused a continuation token the caller sent back (400)
    │   └── IdempotencyKeyReused    an idempotency key already used for another request (422)
    ├── AuthenticationError       no usable credentials (401 + WWW-Authenticate)
    │   ├── MissingToken            no bearer token at all (bare ``Bearer`` challenge)
    │   └── InvalidToken            a token that fails validation (``invalid_token``)
    ├── PermissionDenied          authenticated, not allowed (403)
    ├── NotFound                  the thing asked about does not exist (404)
    ├── NotAttempted              a batch item left unsent after an earlier one failed (424)
    ├── GroupTooLarge             a group is over the cap of who-is-in-the-group (422)
    ├── IdempotencyKeyInUse       the first request with this key is still running (409 + Retry-After)
    ├── IdempotencyUnavailable    the idempotency store cannot be reached: nothing sent (503 + Retry-After)
    ├── SigningKeysUnavailable    no token-signing keys could be had (503 + Retry-After)
    ├── CallerLimited             the caller is over SIGNALR_CALLER_LIMIT (429 + Retry-After)
    └── UpstreamError             SignalR did not do it (5xx)
        ├── UpstreamRejected        SignalR refused the request as bad (502)
        ├── UpstreamMisconfigured   SignalR refused our credentials (502; retryable: a role may still propagate)
        ├── UpstreamServerError     SignalR failed with a 5xx (502)
        ├── UpstreamUnavailable     throttled or failing, try later (503 + Retry-After)
        ├── UpstreamTimeout         no answer in time (504)
        ├── ClientInvocationFailed  the client asked by :invoke answered with an error (502)
        └── ClientTimeout           the client asked by :invoke did not answer in time (504)

``detail`` is always safe to show a caller: it never carries a token, a key or an
upstream response body.

The one retry rule: each class says whether trying the same command again may succeed
(``retryable``). The queue retries those (then poisons them) and dead-letters the rest; a
queued batch re-queues its retryable items; an ordered batch stops at the first one. An
error the facade did not foresee is retryable, so that nothing is dead-lettered by mistake:
the poison queue keeps it. ``tests/unit/core/test_errors.py`` holds the rule per class.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One broken rule on one input field."""

    field: str
    message: str


class FacadeError(Exception):
    """Root of every error the facade raises on purpose."""

    status: int = 500
    slug: str = "internal-error"
    title: str = "Internal error"
    # Whether the same command may succeed when tried again (the one retry rule, see above).
    retryable: bool = True

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail or self.title
        super().__init__(self.detail)

    @property
    def type(self) -> str:
        return f"urn:signalr-facade:problem:{self.slug}"

    def headers(self) -> dict[str, str]:
        """Extra response headers this failure carries (challenges, Retry-After)."""
        return {}


class ConfigurationError(FacadeError):
    """Raised when a setting is missing or malformed; names the setting, never its value."""

    status = 500
    slug = "configuration"
    title = "The service is misconfigured"


class RequestError(FacadeError):
    """Raised when the caller's request cannot be served as sent."""

    retryable = False
    status = 400
    slug = "bad-request"
    title = "Bad request"


class ValidationError(RequestError):
    """Raised when one or more input fields break their rules."""

    slug = "validation"
    title = "The request has invalid fields"

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))


class PayloadTooLarge(RequestError):
    """Raised when a body exceeds the size SignalR accepts."""

    status = 413
    slug = "payload-too-large"
    title = "Payload too large"


class UnsupportedMediaType(RequestError):
    """Raised when a body is sent with a content type other than JSON."""

    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


class OperationNotAllowed(RequestError):
    """Raised when an operation is asked for where it is not offered (e.g. a check by queue)."""

    slug = "operation-not-allowed"
    title = "Operation not allowed here"


class NoSuchRoute(RequestError):
    """Raised when no function serves the path (the catch-all function answers it)."""

    status = 404
    slug = "no-such-route"
    title = "No such route"


class MethodNotAllowed(RequestError):
    """Raised when the path is served, but not for this method; ``Allow`` lists the methods that are."""

    status = 405
    slug = "method-not-allowed"
    title = "Method not allowed"

    def __init__(self, allowed: list[str]) -> None:
        self.allowed = allowed
        super().__init__(f"This route answers {', '.join(allowed)}")

    def headers(self) -> dict[str, str]:
        return {"Allow": ", ".join(self.allowed)}


class ContinuationRefused(RequestError):
    """Raised when SignalR refuses the continuation token a caller passed back (forged or expired)."""

    slug = "invalid-continuation-token"
    title = "The continuation token is not valid"


class IdempotencyKeyReused(RequestError):
    """Raised when an idempotency key comes back with another request than the one it was first used for."""

    status = 422
    slug = "idempotency-key-reused"
    title = "The idempotency key was used for another request"


class AuthenticationError(FacadeError):
    """Raised when the caller is not authenticated."""

    retryable = False
    status = 401
    slug = "unauthenticated"
    title = "Authentication required"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class MissingToken(AuthenticationError):
    """Raised when the request carries no bearer token."""


class InvalidToken(AuthenticationError):
    """Raised when a bearer token fails validation; ``detail`` never includes the token."""

    slug = "invalid-token"
    title = "The access token is invalid"

    def headers(self) -> dict[str, str]:
        description = self.detail.replace("\\", "").replace('"', "'")
        return {"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{description}"'}


class PermissionDenied(FacadeError):
    """Raised when an authenticated caller lacks the permission or hub access needed."""

    retryable = False
    status = 403
    slug = "forbidden"
    title = "Permission denied"


class NotFound(FacadeError):
    """Raised (or answered) when the connection, user or group asked about does not exist."""

    retryable = False
    status = 404
    slug = "not-found"
    title = "Not found"


class NotAttempted(FacadeError):
    """Raised for the items of an ordered batch after one that failed: they were never sent."""

    status = 424
    slug = "not-attempted"
    title = "Not attempted: an earlier item of the ordered batch failed"
class GroupTooLarge(FacadeError):
    """Raised when a group has more connections than who-is-in-the-group reads; page the list instead."""

    retryable = False
    status = 422
    slug = "group-too-large"
    title = "The group is too large to summarize"


class RetryAfterMixin:
    """Carries an optional ``Retry-After`` in seconds (each class's default in ``default_retry_after``);
    mixed in before ``FacadeError`` or one of its subclasses."""

    default_retry_after: int | None = None
    retry_after: int | None = None

    def __init__(self, detail: str | None = None, retry_after: int | None = None) -> None:
        super().__init__(detail)  # type: ignore[call-arg]  # FacadeError's, next in the MRO
        self.retry_after = retry_after if retry_after is not None else self.default_retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}


class IdempotencyKeyInUse(RetryAfterMixin, FacadeError):
    """Raised when a request's idempotency key is reserved by a request still running (or by a worker that
    died, until its lease ends); retryable: the repeat is answered once the first one is."""

    status = 409
    slug = "idempotency-key-in-use"
    title = "A request with this idempotency key is in progress"

    default_retry_after = 1


class IdempotencyUnavailable(RetryAfterMixin, FacadeError):
    """Raised when the idempotency store cannot be reached or refuses the facade: a keyed command is then
    not sent at all (an unguarded send could repeat one already made)."""

    status = 503
    slug = "idempotency-unavailable"
    title = "The idempotency store is unavailable"
    table_missing: bool = False  # the table itself is absent: the store creates it and tries again

    default_retry_after = 5


class SigningKeysUnavailable(RetryAfterMixin, FacadeError):
    """Raised when no token-signing keys are known and the key endpoint cannot be reached."""

    status = 503
    slug = "signing-keys-unavailable"
    title = "Token signing keys are unavailable"

    default_retry_after = 30


class CallerLimited(RetryAfterMixin, FacadeError):
    """Raised when a caller is over its budget of commands (functions/core/caller_limit.py); nothing was sent."""

    status = 429
    slug = "too-many-requests"
    title = "Too many commands from this caller"

    default_retry_after = 1


class UpstreamError(FacadeError):
    """Raised when SignalR does not carry out a request."""

    status = 502
    slug = "upstream-error"
    title = "SignalR Service error"


class UpstreamRejected(UpstreamError):
    """Raised when SignalR answers 4xx to a request the facade considered valid."""

    retryable = False
    slug = "upstream-rejected"
    title = "SignalR Service rejected the request"


class UpstreamMisconfigured(UpstreamError):
    """Raised when SignalR refuses the facade's own credentials (401/403): an operator problem."""

    slug = "upstream-auth"
    title = "The facade could not authenticate to SignalR Service"


class UpstreamServerError(UpstreamError):
    """Raised when SignalR answers with a server error; it may succeed later."""

    slug = "upstream-server-error"
    title = "SignalR Service failed"


class UpstreamUnavailable(RetryAfterMixin, UpstreamError):
    """Raised when SignalR is throttling, failing or unreachable; safe to try later."""

    status = 503
    slug = "upstream-unavailable"
    title = "SignalR Service is unavailable"



class UpstreamTimeout(UpstreamError):
    """Raised when SignalR did not answer in time; the request may or may not have run."""

    status = 504
    slug = "upstream-timeout"
    title = "SignalR Service timed out"


class ClientInvocationFailed(UpstreamError):
    """Raised when the client asked for a result answered with an error (its handler threw, or it has none)."""

    retryable = False
    slug = "client-error"
    title = "The client answered with an error"


class ClientTimeout(UpstreamError):
    """Raised when the client asked for a result did not answer before the service gave up."""

    status = 504
    slug = "client-timeout"
    title = "The client did not answer in time"


def error_classes() -> list[type[FacadeError]]:
    """Every class of the tree, root first, each after its parent (for docs and the per-class tests)."""
    found: list[type[FacadeError]] = []
    todo: list[type[FacadeError]] = [FacadeError]
    while todo:
        cls = todo.pop(0)
        found.append(cls)
        todo.extend(sorted(cls.__subclasses__(), key=lambda sub: sub.__name__))
    return found
