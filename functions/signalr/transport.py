"""The HTTP layer under the SignalR client: a pooled session, timeouts, and retries.

Retries live here and only here. What is retried:
- connection failures (the request never reached the service): any method;
- 429 and 503 (the service said it did not do it): any method, honouring Retry-After up
  to a cap; a longer Retry-After is handed back to the caller instead of waited out;
- 500/502/504: only idempotent methods, because a send may already have gone out.
A read timeout is never retried: the request may have reached the service.

A 429/503 also pauses the session's ``ThrottleGate`` (functions/concurrency.py): every
request through the session, not only the throttled one, waits for ``Retry-After`` (or the
backoff) before it goes out, so concurrent batch items back off together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, ResponseError
from urllib3.util.retry import Retry

from ..concurrency import ThrottleGate

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait to connect, and then for each read."""

    connect: float = 3.05
    read: float = 10.0

    def as_tuple(self) -> tuple[float, float]:
        return (self.connect, self.read)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3  # retries after the first try
    backoff: float = 0.2  # seconds, doubled each retry
    backoff_max: float = 2.0
    max_retry_after: float = 10.0  # a longer Retry-After goes back to the caller


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
        # Everyone using this session waits, not only this request: no retry storm.
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
                # Not worth holding a function for: give the answer back with its Retry-After,
                # and keep the other requests through this session from asking in the meantime.
                if self.gate is not None and self.throttled(response):
                    self.gate.pause(wait)
                raise MaxRetryError(_pool, url, ResponseError("Retry-After exceeds the cap"))
        return super().increment(method, url, response, error, _pool, _stacktrace)


def build_session(
    policy: RetryPolicy = RetryPolicy(), pool_size: int = 32, gate: ThrottleGate | None = None
) -> requests.Session:
    retry = SignalRRetry(
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
    session = requests.Session()
    session.trust_env = False  # no proxy or netrc surprises: the upstream is configured explicitly
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
