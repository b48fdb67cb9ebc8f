"""The HTTP layer under the SignalR client: pooled connections, timeouts, and retries.

urllib3's connection pool, used directly: the facade sends one kind of request (a JSON body,
one bearer header) to one origin, and needs none of what a ``requests.Session`` adds on every
call (cookie jars, hooks, proxy and netrc settings, request preparation). Measured on loopback
that layer costs about as much CPU as the HTTP exchange itself (`python -m bench --only warm`
reports both a bare ``requests`` call and a bare urllib3 call beside the facade).

Retries live here and only here. What is retried:
- connection failures (the request never reached the service): any method;
- 429 and 503 (the service said it did not do it): any method, honouring Retry-After up
  to a cap; a longer Retry-After is handed back to the caller instead of waited out;
- 500/502/504: only idempotent methods, because a send may already have gone out.
A read timeout or a connection dropped after the request went out is never retried: the
request may have reached the service.

A 429/503 also pauses the transport's ``ThrottleGate`` (functions.signalr.throttle): every
request through it, not only the throttled one, waits for ``Retry-After`` (or the backoff)
before it goes out, so concurrent batch items back off together.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import urllib3
from urllib3.exceptions import HTTPError, MaxRetryError, ReadTimeoutError, ResponseError
from urllib3.util.retry import Retry

from functions.signalr.throttle import ThrottleGate

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})
USER_AGENT = "signalr-facade"


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait to connect, and then for each read."""

    connect: float = 3.05
    read: float = 10.0

    @cached_property
    def for_urllib3(self) -> urllib3.Timeout:
        return urllib3.Timeout(connect=self.connect, read=self.read)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3  # retries after the first try
    backoff: float = 0.2  # seconds, doubled each retry
    backoff_max: float = 2.0
    max_retry_after: float = 10.0  # a longer Retry-After goes back to the caller


class TransportError(Exception):
    """No answer: the connection failed or broke (the message names only the kind of failure)."""


class AnswerTimeout(TransportError):
    """The request went out and no answer came in time: it may have reached the service."""


class SignalRRetry(Retry):
    """urllib3 Retry with the facade's rules on which statuses and methods may be repeated."""

    def __init__(self, *args: Any, max_retry_after: float = 10.0, gate: ThrottleGate | None = None,
                 min_pause: float = 0.2, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_retry_after = max_retry_after
        self.gate = gate
        self.min_pause = min_pause

    def new(self, **kwargs: Any) -> SignalRRetry:
        retry = super().new(**kwargs)
        retry.max_retry_after = self.max_retry_after
        retry.gate = self.gate
        retry.min_pause = self.min_pause
        return retry

    def throttled(self, response: Any) -> bool:
        return response is not None and response.status in (429, 503)

    def sleep(self, response: Any = None) -> None:
        if self.gate is None or not self.throttled(response):
            super().sleep(response)
            return
        # Everyone using this transport waits, not only this request: no retry storm.
        wait = self.get_retry_after(response)
        self.gate.pause(max(wait if wait is not None else self.get_backoff_time(), self.min_pause))
        self.gate.wait()

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code in (429, 503):
            return True
        return status_code in (500, 502, 504) and method.upper() in IDEMPOTENT_METHODS

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        if response is not None:
            wait = self.get_retry_after(response)
            if wait is not None and wait > self.max_retry_after:
                # Not worth holding a function for: urllib3 hands this answer back (raise_on_status
                # is off) with its Retry-After, and the other requests through this transport
                # are kept from asking in the meantime.
                if self.gate is not None and self.throttled(response):
                    self.gate.pause(wait)
                raise MaxRetryError(_pool, url, ResponseError("Retry-After exceeds the cap"))
        return super().increment(method, url, response, error, _pool, _stacktrace)


def retry_for(policy: RetryPolicy, gate: ThrottleGate | None = None) -> SignalRRetry:
    return SignalRRetry(
        total=policy.attempts,
        connect=policy.attempts,
        read=0,
        status=policy.attempts,
        other=0,
        redirect=0,
        allowed_methods=None,
        backoff_factor=policy.backoff,
        backoff_max=policy.backoff_max,
        respect_retry_after_header=True,
        raise_on_status=False,
        raise_on_redirect=False,
        max_retry_after=policy.max_retry_after,
        gate=gate,
        min_pause=policy.backoff,
    )


class Transport:
    """Requests to one origin (``scheme://host[:port]``) over a pool of keep-alive connections; thread-safe."""

    def __init__(self, origin: str, policy: RetryPolicy = RetryPolicy(), pool_size: int = 32,
                 gate: ThrottleGate | None = None) -> None:
        self.origin = origin
        tls: dict[str, Any] = {}
        if origin.startswith("https://"):
            import certifi  # the CA bundle requests trusted before: the same roots as the rest of the app

            tls = {"cert_reqs": "CERT_REQUIRED", "ca_certs": certifi.where()}
        # block=False: a burst beyond the pool opens extra connections rather than waiting for one.
        self.pool = urllib3.connection_from_url(origin, maxsize=pool_size, block=False,
                                                retries=retry_for(policy, gate), **tls)

    def send(self, method: str, url: str, body: bytes | None, headers: dict[str, str],
             timeouts: Timeouts) -> urllib3.BaseHTTPResponse:
        """Send to ``url`` (an absolute URL on this origin); the answer, its body read.

        Raises ``AnswerTimeout`` when no answer came in time, ``TransportError`` when none came at all.
        """
        if not url.startswith(self.origin):
            raise ValueError("the URL is not on this transport's origin")
        target = url[len(self.origin):] or "/"
        headers = {"User-Agent": USER_AGENT, **headers}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            return self.pool.urlopen(method, target, body=body, headers=headers, timeout=timeouts.for_urllib3,
                                     redirect=False, assert_same_host=False, preload_content=True)
        except MaxRetryError as e:
            # Retries spent on failures that had no answer (an answer comes back, raise_on_status is off).
            if isinstance(e.reason, ReadTimeoutError):
                raise AnswerTimeout("read timeout") from e
            raise TransportError(type(e.reason).__name__) from e
        except ReadTimeoutError as e:
            raise AnswerTimeout("read timeout") from e
        except (HTTPError, OSError) as e:
            raise TransportError(type(e).__name__) from e

    def close(self) -> None:
        self.pool.close()
