"""Which SignalR endpoints are up: background probes plus what requests learn on the way.

As the SignalR SDK's health checks do (Azure/azure-signalr, ``ServiceEndpoint.Online``), each
endpoint is probed on an interval with the service's health endpoint (``HEAD /api/v1/health``,
one try, short timeouts). A connection failure, a timeout or a 5xx marks it down; a request
that meets the same marks it down at once, so the next send skips it without waiting for the
probe. Only a probe that gets an answer below 500 brings it back; a request that marks an
endpoint down wakes the prober, and while any is down the probes come every second.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from functions.core.errors import FacadeError, UpstreamServerError, UpstreamTimeout, UpstreamUnavailable
from functions.core.log_text import log_safe
from functions.signalr.transport import TransportError

log = logging.getLogger(__name__)

PROBE_INTERVAL = 5.0  # seconds between probes of every endpoint while all are up
# While one is down, probes come this often, so a blip (one dropped connection) costs about a second.
RECOVERY_INTERVAL = 1.0


class EndpointState:
    """Up or down, since when and why (a short reason, never a secret); thread-safe."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._up = True  # optimistic until a probe or a request says otherwise, as the SDK starts
        self._since = time.time()
        self._reason: str | None = None

    @property
    def up(self) -> bool:
        return self._up

    def mark_down(self, reason: str) -> None:
        with self._lock:
            if self._up:
                self._up, self._since, self._reason = False, time.time(), reason
                log.warning("SignalR endpoint %s is down: %s", log_safe(self.name), log_safe(reason))

    def mark_up(self) -> None:
        with self._lock:
            if not self._up:
                self._up, self._since, self._reason = True, time.time(), None
                log.warning("SignalR endpoint %s is up again", log_safe(self.name))

    def report(self) -> dict[str, str]:
        with self._lock:
            report = {"status": "up" if self._up else "down",
                      "since": datetime.fromtimestamp(self._since, UTC).isoformat(timespec="seconds")}
            if self._reason:
                report["reason"] = self._reason
            return report


def outage_reason(error: BaseException) -> str | None:
    """Why ``error`` means the endpoint is unreachable (None: it answered, e.g. 4xx or 429)."""
    if isinstance(error, UpstreamTimeout):
        return "timed out"
    if isinstance(error, UpstreamServerError):
        return "answered 5xx"
    if isinstance(error, UpstreamUnavailable) and isinstance(error.__cause__, TransportError):
        return "connection failed"
    return None


class HealthProber:
    """A daemon thread that probes every endpoint each ``interval`` seconds until stopped."""

    def __init__(self, probes: Sequence[tuple[EndpointState, Callable[[], int]]], interval: float,
                 recovery_interval: float = RECOVERY_INTERVAL) -> None:
        self._probes = probes
        self.interval = interval
        self.recovery_interval = min(recovery_interval, interval)
        self._stopped = False
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="signalr-endpoint-probe", daemon=True)

    def start(self) -> HealthProber:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def wake(self) -> None:
        """Probe now (a request just found an endpoint in trouble)."""
        self._wake.set()

    def probe_all(self) -> None:
        for state, probe in self._probes:
            try:
                status = probe()
            except FacadeError as error:
                state.mark_down(outage_reason(error) or error.title)
                continue
            except Exception as error:  # a probe's bug must not end the thread
                state.mark_down(type(error).__name__)
                continue
            if status >= 500:
                state.mark_down(f"health answered {status}")
            else:
                state.mark_up()

    def _run(self) -> None:
        while not self._stopped:
            self.probe_all()
            any_down = any(not state.up for state, _ in self._probes)
            self._wake.wait(self.recovery_interval if any_down else self.interval)
            self._wake.clear()
