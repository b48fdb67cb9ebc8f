"""The one SignalR client: turns a validated ``Command`` into a REST call and its answer."""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import quote, urlencode

import urllib3

from functions.catalog.operations import DATED, Answer, ApplicationIn
from functions.catalog.rules import prefixed_hub
from functions.core.command import Command
from functions.core.errors import (
    FieldError,
    PayloadTooLarge,
    UpstreamError,
    UpstreamMisconfigured,
    UpstreamRejected,
    UpstreamServerError,
    UpstreamTimeout,
    UpstreamUnavailable,
    ValidationError,
)
from functions.core.json_input import JsonInputError, decode_json
from functions.core.log_text import log_safe
from functions.signalr.connection_string import ConnectionInfo
from functions.signalr.credentials import Credential, credential_for
from functions.signalr.sizes import MAX_BODY_BYTES, MAX_HEAD_BYTES, HeadTooLarge, head_size, largest_input
from functions.signalr.throttle import ThrottleGate
from functions.signalr.transport import (
    USER_AGENT,
    AnswerTimeout,
    RetryPolicy,
    Timeouts,
    Transport,
    TransportError,
)

log = logging.getLogger(__name__)

# :generateToken as the newest swagger defines it (no `application`: the hub segment carries it).
GENERATE_TOKEN_API_VERSION = DATED
PROBE_TIMEOUTS = Timeouts(connect=1.0, read=2.0)


# A JSON answer (a page of connections, a client's result) larger than this is refused, not read.
MAX_ANSWER_BYTES = 1024 * 1024
@dataclass(frozen=True)
class UpstreamResult:
    status: int
    body: Any = None  # the decoded JSON answer, for operations whose catalog entry has one


def _origin(base_url: str) -> str:
    """``scheme://host[:port]`` of a base URL (connection strings may add a path after it)."""
    scheme, _, rest = base_url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


# Characters ``quote(value, safe="")`` leaves as they are (RFC 3986 unreserved): a segment of only
# these needs no encoding, which is most hubs, users and groups and saves a quote() per segment.
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")


def encode_segment(value: str) -> str:
    """One path segment, percent-encoded (``/``, ``?``, ``#`` included)."""
    return value if _UNRESERVED.fullmatch(value) else quote(value, safe="")


def encode_path(template: str, values: dict[str, str]) -> str:
    """Fill a path template, percent-encoding every segment."""
    return template.format(**{name: encode_segment(value) for name, value in values.items()})


def _error_message(response: urllib3.BaseHTTPResponse) -> str:
    """The ``message`` of the service's ErrorDetail, made safe for a caller (one short line), or ''."""
    try:
        message = decode_json(response.data[:16384]).get("message")
    except (JsonInputError, AttributeError):
        return ""
    if not isinstance(message, str):
        return ""
    return "".join(c for c in message if c.isprintable())[:512]


def _retry_after(response: urllib3.BaseHTTPResponse) -> int | None:
    value = response.headers.get("Retry-After", "")
    try:
        seconds = float(value)
    except ValueError:
        return None
    return max(0, math.ceil(seconds)) if math.isfinite(seconds) else None


# Compact, ASCII-only, and never NaN or Infinity (not JSON; the input rules refuse them anyway).
# One encoder for every call: json.dumps with options builds a new one each time.
_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)


def _json_bytes(body: Any) -> bytes | None:
    return None if body is None else _ENCODER.encode(body).encode()


class SignalRClient:
    """Sends REST calls to one SignalR endpoint over pooled keep-alive connections."""

    def __init__(
        self,
        info: ConnectionInfo,
        credential: Credential | None = None,
        *,
        timeouts: Timeouts = Timeouts(),
        retry: RetryPolicy = RetryPolicy(),
    ) -> None:
        self.info = info
        self.credential = credential or credential_for(info)
        self.timeouts = timeouts
        self.retry = retry
        # One pause shared by every request to this endpoint (functions/signalr/throttle.py).
        self.gate = ThrottleGate()
        self.transport = Transport(_origin(info.server_url), retry, gate=self.gate)

    @property
    def clients(self) -> tuple[SignalRClient, ...]:
        return (self,)

    def for_negotiate(self) -> SignalRClient:
        """The endpoint a client is sent to (``functions.signalr.router`` picks among several)."""
        return self

    def report(self) -> None:
        """No background probes for one endpoint: the facade checks it on demand."""
        return None

    def url_for(self, command: Command) -> str:
        return self.info.server_url + self.path_for(command)

    @staticmethod
    def path_for(command: Command) -> str:
        """The percent-encoded upstream path (``/api/...``): the hub lower-cased as the SDK sends it,
        prefixed with the application where the operation carries it in the hub segment."""
        hub = command.hub
        if command.spec.application_location is ApplicationIn.HUB:
            hub = prefixed_hub(command.application, hub)
        values = {"hub": hub.lower(), **{k: v for k, v in command.args.items() if isinstance(v, str)}}
        return encode_path(command.spec.upstream_path, values)

    @staticmethod
    def body_for(command: Command) -> Any:
        if command.payload is None:
            return None
        # The dated API's bodies are camelCase (2024-12-01 swagger); v1 takes PascalCase.
        return command.payload.upstream_dated() if command.spec.api_version else command.payload.upstream()

    @staticmethod
    def query_for(command: Command) -> list[tuple[str, Any]]:
        """The catalog's query parameters that were given (repeated ones once per value), then the version."""
        query: list[tuple[str, Any]] = []
        for param in command.spec.query_params:
            if param.name in command.args:
                values = command.args[param.name] if param.repeated else [command.args[param.name]]
                query.extend((param.name, value) for value in values)
        if command.application and command.spec.application_location is ApplicationIn.QUERY:
            query.append(("application", command.application))
        if command.spec.api_version:
            query.append(("api-version", command.spec.api_version))
        return query

    def execute(
        self, command: Command, *, method: str | None = None, extra_query: list[tuple[str, Any]] | None = None
    ) -> UpstreamResult:
        """Send ``command``; its answer when the catalog calls the status a success or a 404 an answer."""
        spec = command.spec
        query = self.query_for(command) + list(extra_query or [])
        body = _json_bytes(self.body_for(command))
        if body is not None and len(body) > MAX_BODY_BYTES:
            field = spec.body.queue_field if spec.body is not None else "body"
            raise PayloadTooLarge(f"'{field}' is {len(body)} bytes as sent to SignalR Service (JSON, non-ASCII "
                                  f"escaped); the service takes at most {MAX_BODY_BYTES}")
        try:
            response = self._send(method or spec.method, self.path_for(command), query, body, spec.name)
        except HeadTooLarge as e:
            raise ValidationError([FieldError(
                largest_input(command), f"is too long: the request to SignalR Service would have {e.size} bytes "
                f"of request line and headers, and the service takes at most {MAX_HEAD_BYTES}")]) from None
        status = response.status
        if 200 <= status < 300:
            # Any 2xx means the service did it (RFC 9110 15.3); one it does not document for this
            # operation (say 202 where the swagger promises 204) is answered as the catalog's own.
            if status not in spec.success:
                log.info("SignalR %s answered %s; passed on as %s", spec.name, status, spec.success[0])
                status = spec.success[0]
            body = None if spec.answer is Answer.NONE else self._json_answer(response, spec.name)
            return UpstreamResult(status, body)
        if status == 404 and spec.not_found is not None:
            return UpstreamResult(status)
        failure = spec.failures.get(status)
        if failure is not None:
            # The facade's reading of a status the swagger leaves undocumented (docs/reference/fidelity.md):
            # the caller is told which status it read, and the service's own message.
            log.info("SignalR %s answered %s", spec.name, status)
            detail = _error_message(response)
            raise failure(f"{failure.title} (SignalR Service answered {status})" + (f": {detail}" if detail else ""))
        raise self._failure(response, spec.name)

    @staticmethod
    def _json_answer(response: urllib3.BaseHTTPResponse, name: str) -> Any:
        if len(response.data) > MAX_ANSWER_BYTES:
            log.warning("SignalR %s answered with more than %s bytes", name, MAX_ANSWER_BYTES)
            raise UpstreamError("SignalR Service answered with more data than the facade passes on")
        try:
            return decode_json(response.data)
        except JsonInputError as e:
            log.warning("SignalR %s answered with JSON the facade cannot use: %s", name, log_safe(e))
            raise UpstreamError("SignalR Service answered with JSON the facade cannot use") from None

    def generate_client_token(self, hub: str, user_id: str, minutes: int) -> str:
        """A client access token minted by the service (the Entra-only path of negotiate).

        ``hub`` is the hub the client connects to, application prefix included: the swagger
        defines no ``application`` on ``:generateToken``.
        """
        path = encode_path("/api/hubs/{hub}/:generateToken", {"hub": hub.lower()})
        query: list[tuple[str, Any]] = [("userId", user_id), ("minutesToExpire", minutes),
                                        ("api-version", GENERATE_TOKEN_API_VERSION)]
        try:
            response = self._send("POST", path, query, None, "generateToken")
        except HeadTooLarge as e:
            raise ValidationError([FieldError("user", f"is too long for SignalR Service ({e.size} bytes of "
                                                      "request line and headers)")]) from None
        if response.status != 200:
            raise self._failure(response, "generateToken")
        try:
            token = decode_json(response.data)["token"]
        except (JsonInputError, KeyError, TypeError) as e:
            raise UpstreamError("SignalR Service returned no client token") from e
        if not isinstance(token, str) or not token:
            raise UpstreamError("SignalR Service returned no client token")
        return token

    @cached_property
    def _probe_transport(self) -> Transport:
        # A probe is never retried: an anonymous caller may cost the service one cheap call, no more.
        return Transport(_origin(self.info.server_url), RetryPolicy(attempts=0), pool_size=2)

    def health(self) -> int:
        """The status of the service's health endpoint: one try, short timeouts (raises on no answer)."""
        return self._send("HEAD", "/api/v1/health", [], None, "health", transport=self._probe_transport,
                          timeouts=PROBE_TIMEOUTS).status

    def _send(
        self, method: str, path: str, query: list[tuple[str, Any]], body: bytes | None, name: str,
        *, transport: Transport | None = None, timeouts: Timeouts | None = None,
    ) -> urllib3.BaseHTTPResponse:
        """Send to ``server_url + path``; the token's audience is ``Endpoint``'s ``scheme://host`` + path."""
        url = self.info.server_url + path
        try:
            token = self.credential.bearer(self.info.audience_base + path)
        except Exception as e:  # azure-identity raises many kinds; none may leak details
            log.error("SignalR credential failed for %s: %s", name, type(e).__name__)
            raise UpstreamUnavailable("Could not obtain a credential for SignalR Service",
                                      retry_after=getattr(e, "retry_after", None)) from e
        full_url = url + ("?" + urlencode(query) if query else "")
        headers = {"Authorization": f"Bearer {token}"}
        size = head_size(method, full_url[len(_origin(self.info.server_url)):], {
            "User-Agent": USER_AGENT, **headers, **({"Content-Type": "application/json"} if body is not None else {})})
        if size > MAX_HEAD_BYTES:
            raise HeadTooLarge(size)
        # The throttle gate covers the pooled transport; the health probe (its own transport) is not held.
        gated = transport is None
        pause = self.gate.remaining() if gated else 0.0
        if pause > self.retry.max_retry_after:
            # The service asked everyone to wait longer than a caller should be held: not sent.
            raise UpstreamUnavailable(retry_after=math.ceil(pause))
        if pause:
            self.gate.wait()
        try:
            response = (transport or self.transport).send(method, full_url, body, headers,
                                                          timeouts or self.timeouts)
        except AnswerTimeout as e:
            log.warning("SignalR %s timed out waiting for an answer", name)
            raise UpstreamTimeout("SignalR Service did not answer in time") from e
        except TransportError as e:
            log.warning("SignalR %s could not connect: %s", name, log_safe(e))
            raise UpstreamUnavailable("SignalR Service could not be reached") from e
        if gated and response.status in (429, 503):
            # Retries are spent (or the wait was too long): the next requests wait too.
            self.gate.pause(_retry_after(response) or self.retry.backoff)
        return response

    def close(self) -> None:
        self.transport.close()
        if "_probe_transport" in self.__dict__:
            self._probe_transport.close()

    @staticmethod
    def _failure(response: urllib3.BaseHTTPResponse, name: str) -> UpstreamError | PayloadTooLarge:
        status = response.status
        if status in (401, 403):
            log.error("SignalR refused the facade's credentials (%s) on %s: check the connection "
                      "string and the identity's role assignment", status, name)
            return UpstreamMisconfigured(f"SignalR Service answered {status}")
        if status == 413:
            return PayloadTooLarge("SignalR Service refused the message as too large")
        if status in (429, 503):
            log.warning("SignalR %s throttled or unavailable (%s)", name, status)
            return UpstreamUnavailable(retry_after=_retry_after(response))
        if status >= 500:
            log.warning("SignalR %s failed with %s", name, status)
            return UpstreamServerError(f"SignalR Service answered {status}")
        # Anything else (a 3xx, a 4xx no catalog entry gives a meaning): a clear 502 that names the
        # status and the service's message, never a guess at what it meant.
        log.error("SignalR rejected %s with %s", name, status)
        message = _error_message(response)
        return UpstreamRejected(f"SignalR Service answered {status}" + (f": {message}" if message else ""))
