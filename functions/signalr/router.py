"""Several SignalR instances behind one client interface, routed as the SignalR SDK routes.

The SDK's default ``EndpointRouter`` (Azure/azure-signalr ``DefaultEndpointRouter``;
https://learn.microsoft.com/azure/azure-signalr/signalr-howto-scale-multi-instances):

- sends to all, a user or a group, membership changes and closes go to every healthy endpoint
  (a client may be on any); the call succeeds when every healthy endpoint accepted it;
- operations on one connection go to every healthy endpoint; the answer is the one from the
  endpoint that holds the connection (the others answer 404);
- existence checks are true when any endpoint says so; list pages are merged;
- negotiate sends a client to a healthy primary, spread round-robin, falling back to healthy
  secondaries; a down endpoint is never handed out. None healthy: 503 with ``Retry-After``.

Calls to several endpoints run concurrently (the caller's thread takes the first, a small pool
the others), so a fan-out takes as long as the slowest endpoint, not the sum. An endpoint that
fails to connect, times out or answers 5xx is marked down (functions.signalr.endpoint_health)
and its failure does not fail the call; a failure on an endpoint still up does, and the error
carries the endpoints still owed the command (``pending_endpoints``) so a queue retries only there.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

from functions.catalog.operations import Answer
from functions.catalog.paging import upstream_token
from functions.core.command import Command
from functions.core.errors import ContinuationRefused, FacadeError, UpstreamError, UpstreamUnavailable
from functions.core.json_input import decode_json
from functions.signalr.client import SignalRClient, UpstreamResult
from functions.signalr.endpoint_health import PROBE_INTERVAL, EndpointState, HealthProber, outage_reason
from functions.signalr.endpoints import EndpointConfig, EndpointType

log = logging.getLogger(__name__)

NONE_HEALTHY_RETRY_AFTER = 10  # seconds: about two probe intervals
# A merged page's continuation token: this prefix, then JSON {endpoint name: its upstream token}
# and, under `top`, LEFT: how many the caller may still be given (no endpoint name starts with "#").
MERGED_TOKEN_PREFIX = "endpoints:"
LEFT = "#left"
CONTINUATION = "continuationToken"


@dataclass(frozen=True)
class Endpoint:
    config: EndpointConfig
    client: SignalRClient
    state: EndpointState

    @property
    def name(self) -> str:
        return self.config.name


def pending_endpoints(error: BaseException) -> tuple[str, ...] | None:
    """The endpoints a partly delivered command still owes, when ``error`` came from a fan-out."""
    return getattr(error, "pending_endpoints", None)


class EndpointRouter:
    """The ``SignalRClient`` interface the facade uses, over several endpoints."""

    def __init__(self, endpoints: Sequence[Endpoint], *, probe_interval: float = PROBE_INTERVAL) -> None:
        self.endpoints = tuple(endpoints)
        self._by_name = {e.name: e for e in self.endpoints}
        self._turn = itertools.count()
        # The caller's thread serves one endpoint; the pool the others (threads start on demand).
        self._pool = ThreadPoolExecutor(16 * (len(self.endpoints) - 1) or 1, thread_name_prefix="signalr-fanout")
        self.prober = HealthProber([(e.state, e.client.health) for e in self.endpoints], probe_interval)

    @classmethod
    def from_configs(cls, configs: Sequence[EndpointConfig], *, probe_interval: float = PROBE_INTERVAL,
                     **client_options: Any) -> EndpointRouter:
        endpoints = [Endpoint(c, SignalRClient(c.info, **client_options), EndpointState(c.name)) for c in configs]
        return cls(endpoints, probe_interval=probe_interval)

    def start(self) -> EndpointRouter:
        self.prober.start()
        return self

    def close(self) -> None:
        self.prober.stop()
        self._pool.shutdown(wait=False)
        for client in self.clients:
            client.close()

    @property
    def clients(self) -> tuple[SignalRClient, ...]:
        return tuple(e.client for e in self.endpoints)

    # Negotiate and health.

    def for_negotiate(self) -> SignalRClient:
        """A healthy primary, round-robin; else a healthy secondary; else 503."""
        for kind in (EndpointType.PRIMARY, EndpointType.SECONDARY):
            healthy = [e for e in self.endpoints if e.config.type is kind and e.state.up]
            if healthy:
                return healthy[next(self._turn) % len(healthy)].client
        raise UpstreamUnavailable("No SignalR endpoint is healthy", retry_after=NONE_HEALTHY_RETRY_AFTER)

    def health(self) -> int:
        return 200 if any(e.state.up for e in self.endpoints) else 503

    def report(self) -> dict[str, Any]:
        up = sum(e.state.up for e in self.endpoints)
        status = "ok" if up == len(self.endpoints) else "degraded" if up else "error"
        return {"status": status, "endpoints": [
            {"name": e.name, "type": str(e.config.type), **e.state.report()} for e in self.endpoints]}

    def generate_client_token(self, hub: str, user_id: str, minutes: int) -> str:
        return self.for_negotiate().generate_client_token(hub, user_id, minutes)

    # Commands.

    def execute(
        self, command: Command, *, method: str | None = None, extra_query: list[tuple[str, Any]] | None = None
    ) -> UpstreamResult:
        spec = command.spec
        tokens, left = self._page_tokens(command, extra_query)
        targets = [e for e in self.endpoints if e.state.up]
        if command.endpoints is not None:  # a queue retry: only where it failed before
            targets = [e for e in targets if e.name in command.endpoints]
            if not targets:
                # Configured but down (the facade dead-letters names no endpoint has: check_queued_endpoints).
                log.info("SignalR %s: the endpoints it still owed are down; done", spec.name)
                return UpstreamResult(spec.success[0])
        if tokens is not None:
            targets = [e for e in targets if e.name in tokens]
        if not targets:
            raise UpstreamUnavailable("No SignalR endpoint is healthy", retry_after=NONE_HEALTHY_RETRY_AFTER)

        def call(endpoint: Endpoint) -> UpstreamResult:
            one, query = command, extra_query
            if tokens is not None:
                one, query = _with_token(command, extra_query, tokens[endpoint.name])
            return endpoint.client.execute(one, method=method, extra_query=query)

        answers = self._fan_out(targets, call)
        failed = [(e, a) for e, a in answers if isinstance(a, FacadeError) and e.state.up]
        results = [(e, a) for e, a in answers if isinstance(a, UpstreamResult)]
        if spec.answer in (Answer.PAGE, Answer.GROUP_USERS):
            # `top` bounds the merged list over all pages, not each endpoint's share of it.
            return _merge_pages(results, failed, left if tokens is not None else command.args.get("top"))
        if spec.existence_check or command.args.get("connectionId") is not None:
            found = next((r for _, r in results if r.status in spec.success), None)
            if found is not None:
                return found  # the endpoint that holds it (or, for a check, any that says yes)
            _raise_first(failed)
            if results:
                return results[0][1]  # every endpoint still up said 404
            raise UpstreamUnavailable("No SignalR endpoint answered", retry_after=NONE_HEALTHY_RETRY_AFTER)
        _raise_first(failed, delivered=bool(results))
        if not results:
            raise UpstreamUnavailable("No SignalR endpoint answered", retry_after=NONE_HEALTHY_RETRY_AFTER)
        return results[0][1]

    def _fan_out(self, targets: list[Endpoint], call: Callable[[Endpoint], UpstreamResult]
                 ) -> list[tuple[Endpoint, UpstreamResult | FacadeError]]:
        def attempt(endpoint: Endpoint) -> UpstreamResult | FacadeError:
            try:
                return call(endpoint)
            except FacadeError as error:
                reason = outage_reason(error)
                if reason is not None:
                    endpoint.state.mark_down(reason)
                    self.prober.wake()
                return error

        futures = [self._pool.submit(attempt, e) for e in targets[1:]]
        first = attempt(targets[0])
        return [(targets[0], first)] + [(e, f.result()) for e, f in zip(targets[1:], futures, strict=True)]

    def _page_tokens(self, command: Command, extra_query: list[tuple[str, Any]] | None
                     ) -> tuple[dict[str, str] | None, int | None]:
        """A merged page's continuation token, per endpoint, and what is left of `top` (None, None on a first page)."""
        token = dict(extra_query or {}).get(CONTINUATION, command.args.get(CONTINUATION))
        if token is None:
            return None, None
        refused = ContinuationRefused("The continuation token does not match this facade's SignalR endpoints")
        if not isinstance(token, str) or not token.startswith(MERGED_TOKEN_PREFIX):
            raise refused
        try:  # the one bounded reader: a token nested 1,000 deep is refused, not a RecursionError
            tokens = decode_json(token[len(MERGED_TOKEN_PREFIX):], max_depth=1)
        except ValueError:
            raise refused from None
        if not isinstance(tokens, dict):
            raise refused
        left = tokens.pop(LEFT, None)
        if left is not None and (type(left) is not int or left < 1):
            raise refused
        if not tokens or not all(
                isinstance(k, str) and k in self._by_name and isinstance(v, str) and v for k, v in tokens.items()):
            raise refused
        return tokens, left


def _with_token(command: Command, extra_query: list[tuple[str, Any]] | None, token: str
                ) -> tuple[Command, list[tuple[str, Any]] | None]:
    if extra_query is not None and any(name == CONTINUATION for name, _ in extra_query):
        return command, [(n, token if n == CONTINUATION else v) for n, v in extra_query]
    return replace(command, args={**command.args, CONTINUATION: token}), extra_query


def _raise_first(failed: Sequence[tuple[Endpoint, UpstreamResult | FacadeError]], *, delivered: bool = False
                 ) -> None:
    """Fail with the first failure on an endpoint still up; when others took the command, the
    error names the endpoints still owed it (``pending_endpoints``), else the whole command is owed."""
    if failed:
        error = failed[0][1]
        error.pending_endpoints = tuple(e.name for e, _ in failed) if delivered else None  # type: ignore[union-attr]
        raise error  # type: ignore[misc]


def _merge_pages(results: list[tuple[Endpoint, UpstreamResult]],
                 failed: Sequence[tuple[Endpoint, UpstreamResult | FacadeError]], limit: int | None
                 ) -> UpstreamResult:
    """One page: every endpoint's members, at most ``limit`` (what is left of `top`); the next link
    carries each endpoint's own token and what is left, and there is none once nothing is."""
    _raise_first(failed)  # a partial list would read as the whole group
    if not results:
        raise UpstreamUnavailable("No SignalR endpoint answered", retry_after=NONE_HEALTHY_RETRY_AFTER)
    values: list[Any] = []
    tokens: dict[str, str] = {}
    for endpoint, result in results:
        body = result.body if isinstance(result.body, dict) else {}
        if not isinstance(body.get("value"), list):
            raise UpstreamError("SignalR Service answered with a page without a 'value' list")
        values.extend(body["value"])
        token = upstream_token(body)
        if token is not None:
            tokens[endpoint.name] = token
    if limit is not None:
        values = values[:limit]
        left = limit - len(values)
        if left == 0:
            tokens = {}
        elif tokens:
            tokens[LEFT] = left  # type: ignore[assignment]
    merged: dict[str, Any] = {"value": values}
    if tokens:
        composite = MERGED_TOKEN_PREFIX + json.dumps(tokens, separators=(",", ":"), sort_keys=True)
        merged["nextLink"] = f"/merged?{CONTINUATION}={quote(composite, safe='')}"
    return UpstreamResult(results[0][1].status, merged)
