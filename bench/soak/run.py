"""Resilience run: steady load through the local host while things break.

    python -m bench.soak.run [--seconds 95] [--rate 20] [--queue-rate 5] [--seed 1]

For ``--seconds`` the function app (a child process, so its memory can be read) gets ``--rate``
authenticated HTTP requests per second (every operation, negotiate, health, some refusals) and
``--queue-rate`` queue commands per second, while its SignalR upstream (bench/faults.py) answers
503, 429 + Retry-After, slowly, too slowly, or drops the connection, and from 35 % to 60 % of the
run the identity provider's metadata and JWKS answer 503. During that outage fresh tokens signed
with the known key must keep working, and tokens signed with a brand-new key must fail closed
(401/503). From 65 % to 85 % a second SignalR endpoint is gone (every connection
closed unanswered): ``/api/health`` must show it down, sends go on through the first, and once it
is back it must be used again. Then the upstream recovers and the queues drain (bounded); every command sent must be
accounted for: delivered (a SignalR endpoint accepted it), dead-lettered or poison. At-least-once: a command
may be delivered twice (a retry after a timeout); duplicates are reported, not failed.

Must be 0: 500s, requests without an answer, undocumented statuses, 401s to valid tokens,
brand-new-key tokens accepted, lost queue commands, an endpoint outage unseen or an endpoint
left unused after it came back. Memory "levels off": a least-squares line
through the host's RSS samples of the last third of the run rises by less than
max(MEMORY_GROWTH_MIB, MEMORY_GROWTH_SHARE of the RSS) over that third (judged for runs of at
least MEMORY_MIN_SECONDS). Exit status 1 when any of these fails.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import requests

from bench.faults import FaultMix
from bench.soak.load import HttpLoad, HttpResults, queue_command
from bench.soak.stack import QUEUES, SoakStack

OUTAGE = (0.35, 0.60)  # share of the run during which the JWKS endpoint is down
ENDPOINT_OUTAGE = (0.65, 0.85)  # share of the run during which the second SignalR endpoint is gone
INVALID_SHARE = 0.05  # queue commands sent invalid on purpose (must be dead-lettered)
MEMORY_GROWTH_MIB = 6.0
MEMORY_GROWTH_SHARE = 0.04
MEMORY_MIN_SECONDS = 60.0
TOKEN_REFRESH = 2.0  # seconds: new tokens all along, so signatures are verified throughout


@dataclass
class QueueResults:
    sent: dict[str, bool] = field(default_factory=dict)  # correlation id -> valid
    dead_lettered: set[str] = field(default_factory=set)
    poisoned: set[str] = field(default_factory=set)
    delivered: Counter[str] = field(default_factory=Counter)
    pending: int = 0
    drain_seconds: float = 0.0

    @property
    def lost(self) -> set[str]:
        return set(self.sent) - set(self.delivered) - self.dead_lettered - self.poisoned

    @property
    def duplicates(self) -> int:
        return sum(count - 1 for count in self.delivered.values() if count > 1)


@dataclass
class SoakReport:
    seconds: float
    http: HttpResults
    queue: QueueResults
    new_key_probes: Counter[int]
    upstream_outcomes: Counter[str]
    rss_mib: list[tuple[float, float]]
    host_alive: bool
    endpoint_down_seen: int = 0  # /api/health answers during the endpoint outage that showed it down
    second_after_outage: int = 0  # commands the second endpoint accepted after it came back

    @property
    def memory_growth_mib(self) -> float | None:
        """Fitted RSS rise over the last third of the run; None when the run is too short to judge."""
        if self.seconds < MEMORY_MIN_SECONDS:
            return None
        tail = [(t, m) for t, m in self.rss_mib if t >= self.seconds * 2 / 3]
        if len(tail) < 5:
            return None
        mean_t, mean_m = sum(t for t, _ in tail) / len(tail), sum(m for _, m in tail) / len(tail)
        slope = sum((t - mean_t) * (m - mean_m) for t, m in tail) / sum((t - mean_t) ** 2 for t, _ in tail)
        return slope * (tail[-1][0] - tail[0][0])

    @property
    def memory_threshold_mib(self) -> float:
        peak = max((m for _, m in self.rss_mib), default=0.0)
        return max(MEMORY_GROWTH_MIB, MEMORY_GROWTH_SHARE * peak)

    def failures(self) -> list[str]:
        http, queue, growth = self.http, self.queue, self.memory_growth_mib
        checks = {
            "500 answers": http.statuses[500],
            "requests without an answer": sum(http.no_answer.values()),
            "undocumented statuses": sum(http.undocumented.values()),
            "401s to valid tokens": http.unauthorized,
            "brand-new-key tokens not refused with 401/503": sum(
                c for s, c in self.new_key_probes.items() if s not in (401, 503)),
            "queue commands lost": len(queue.lost),
            "host process died": 0 if self.host_alive else 1,
            "endpoint outage not shown down in /api/health": 0 if self.endpoint_down_seen else 1,
            "second endpoint not used after its outage": 0 if self.second_after_outage else 1,
            "memory did not level off": 1 if growth is not None and growth > self.memory_threshold_mib else 0,
        }
        return [f"{name}: {value}" for name, value in checks.items() if value]

    def render(self) -> str:
        http, queue = self.http, self.queue
        valid = sum(1 for ok in queue.sent.values() if ok)
        rss = [m for _, m in self.rss_mib]
        growth = self.memory_growth_mib
        lines = [
            f"soak: {self.seconds:.0f} s, HTTP {http.sent} requests ({http.sent / self.seconds:.1f}/s), "
            f"queue {len(queue.sent)} commands",
            f"  upstream outcomes:   {dict(sorted(self.upstream_outcomes.items()))}",
            f"  answered by status:  {dict(sorted(http.statuses.items()))}",
            f"  500s:                {http.statuses[500]}   (must be 0)",
            f"  no answer:           {sum(http.no_answer.values())} {dict(http.no_answer)}   (must be 0)",
            f"  undocumented:        {sum(http.undocumented.values())} {dict(http.undocumented)}   (must be 0)",
            f"  401 to valid tokens: {http.unauthorized}   (must be 0; JWKS down {OUTAGE[0]:.0%}-{OUTAGE[1]:.0%})",
            f"  new-key tokens:      {dict(self.new_key_probes)}   (must all be 401/503)",
            f"  endpoint outage:     health showed it down {self.endpoint_down_seen} times, it took "
            f"{self.second_after_outage} commands once back   (both must be > 0; gone "
            f"{ENDPOINT_OUTAGE[0]:.0%}-{ENDPOINT_OUTAGE[1]:.0%})",
            f"  queue sent:          {len(queue.sent)} ({valid} valid, {len(queue.sent) - valid} invalid)",
            f"  queue delivered:     {len(queue.delivered)} (+{queue.duplicates} duplicates, at-least-once)",
            f"  queue dead-lettered: {len(queue.dead_lettered)}, poison: {len(queue.poisoned)}, "
            f"still queued: {queue.pending}, drained in {queue.drain_seconds:.1f} s",
            f"  queue lost:          {len(queue.lost)}   (must be 0)",
            f"  host RSS MiB:        start {rss[0] if rss else 0:.1f}, peak {max(rss, default=0):.1f}, "
            f"end {rss[-1] if rss else 0:.1f} ({len(rss)} samples)",
            "  memory, last third:  " + (
                f"not judged (run shorter than {MEMORY_MIN_SECONDS:.0f} s)" if growth is None else
                f"{growth:+.2f} MiB fitted (levels off if < {self.memory_threshold_mib:.1f} MiB)"),
        ]
        failures = self.failures()
        lines.append("soak: " + ("PASS" if not failures else "FAIL: " + "; ".join(failures)))
        return "\n".join(lines)


class _Tokens:
    """A fresh token every TOKEN_REFRESH seconds, always signed with the key the facade cached."""

    def __init__(self, stack: SoakStack) -> None:
        self._stack, self._lock = stack, threading.Lock()
        self._token, self._at = stack.token(), time.monotonic()

    def __call__(self) -> str:
        with self._lock:
            if time.monotonic() - self._at > TOKEN_REFRESH:
                self._token, self._at = self._stack.token(), time.monotonic()
            return self._token


def _every(period: float, deadline: float, stop: threading.Event, action) -> threading.Thread:
    def loop() -> None:
        while not stop.is_set() and time.monotonic() < deadline:
            action()
            stop.wait(period)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return thread


def _collect(stack: SoakStack, results: QueueResults) -> None:
    """Move what reached the dead-letter and poison queues into ``results`` (we are their only reader)."""
    for name, found in ((QUEUES[1], results.dead_lettered), (QUEUES[2], results.poisoned)):
        client = stack.queue(name)
        for message in client.receive_messages(messages_per_page=32, max_messages=256):
            try:
                record = json.loads(message.content)
                original = json.loads(record["original"]) if "original" in record else record
                found.add(original["id"])
            except (ValueError, KeyError, TypeError):
                found.add(f"unreadable:{message.id}")
            client.delete_message(message)


def run_soak(seconds: float, rate: float, queue_rate: float, seed: int, drain_timeout: float = 20.0,
             mix: FaultMix | None = None, log=print) -> SoakReport:
    with SoakStack(mix or FaultMix(), seed) as stack:
        tokens = _Tokens(stack)
        load = HttpLoad(stack.base_url, tokens, rate, seed)
        queue = QueueResults()
        probes: Counter[int] = Counter()
        rss: list[tuple[float, float]] = []
        commands = stack.queue(QUEUES[0])
        rng = random.Random(seed)
        stop = threading.Event()
        start = time.monotonic()
        deadline = start + seconds
        outage = (start + seconds * OUTAGE[0], start + seconds * OUTAGE[1])
        new_kid: list[str] = []
        endpoint_outage = (start + seconds * ENDPOINT_OUTAGE[0], start + seconds * ENDPOINT_OUTAGE[1])
        down_seen: list[int] = []
        accepted_when_back: list[int] = []

        def endpoint() -> None:
            now = time.monotonic()
            down = endpoint_outage[0] <= now < endpoint_outage[1]
            if stack.second.down and not down:
                accepted_when_back[:] = [sum(stack.second.accepted.values())]
            stack.second.down = down
            if down:
                health = requests.get(f"{stack.base_url}/api/health", timeout=30,  # names need SignalR.Read
                                      headers={"Authorization": f"Bearer {stack.token()}"}).json()
                states = {e["name"]: e["status"] for e in health["checks"]["upstream"].get("endpoints", [])}
                if states.get("second") == "down":
                    down_seen.append(1)

        def sample() -> None:
            kib = stack.host_rss_kib()
            if kib is not None:
                rss.append((time.monotonic() - start, kib / 1024))

        def enqueue() -> None:
            cid, text, valid = queue_command(len(queue.sent), rng, INVALID_SHARE)
            commands.send_message(text)
            queue.sent[cid] = valid

        def jwks() -> None:
            now = time.monotonic()
            down = outage[0] <= now < outage[1]
            stack.idp.set_available(not down)
            if down:
                new_kid[:] = new_kid or [stack.idp.add_key()]  # published, but the facade cannot fetch it
                token = stack.idp.mint(roles=["SignalR.Send"], key=new_kid[0])
                answer = requests.post(f"{stack.base_url}/api/v1/hubs/soak", json={"target": "t"}, timeout=60,
                                       headers={"Authorization": f"Bearer {token}"})
                probes[answer.status_code] += 1

        threads = [_every(1.0, deadline, stop, sample), _every(1.0 / queue_rate, deadline, stop, enqueue),
                   _every(0.5, deadline, stop, jwks), _every(0.5, deadline, stop, endpoint)]
        log(f"soak: {seconds:.0f} s at {rate}/s HTTP + {queue_rate}/s queue against {stack.base_url} ...")
        try:
            load.run(deadline)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=70)
        stack.idp.set_available(True)
        stack.upstream.faults_enabled = False  # the service recovers; what was retried must now get through
        stack.second.down = False
        drain_start = time.monotonic()
        while time.monotonic() - drain_start < drain_timeout:
            _collect(stack, queue)
            # Delivered: accepted by an endpoint (a down one is skipped); duplicates: per endpoint.
            accepted = stack.upstream.accepted | stack.second.accepted
            queue.delivered = Counter({c: n for c, n in accepted.items() if c in queue.sent})
            queue.pending = commands.get_queue_properties().approximate_message_count
            if not queue.lost and queue.pending == 0:
                break
            time.sleep(1.0)
        queue.drain_seconds = time.monotonic() - drain_start
        sample()
        back_from = accepted_when_back[0] if accepted_when_back else sum(stack.second.accepted.values())
        report = SoakReport(seconds, load.results, queue, probes, Counter(stack.upstream.outcomes), rss,
                            stack.host_alive(), len(down_seen), sum(stack.second.accepted.values()) - back_from)
        if report.failures():
            log("host log (tail):\n" + stack.host_log_tail())
        return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak.run", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=95.0,
                        help="load duration (default 95: with start-up and a drain of at most 20 s, under 2 min)")
    parser.add_argument("--rate", type=float, default=20.0, help="HTTP requests per second (default 20)")
    parser.add_argument("--queue-rate", type=float, default=5.0, help="queue commands per second (default 5)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if not 5 <= args.seconds <= 120 or args.rate <= 0 or args.queue_rate <= 0:
        parser.error("--seconds must be 5-120 and the rates positive")
    report = run_soak(args.seconds, args.rate, args.queue_rate, args.seed)
    print(report.render(), flush=True)
    return 1 if report.failures() else 0


if __name__ == "__main__":
    sys.exit(main())
