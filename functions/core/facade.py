"""The one pipeline every trigger calls: authenticate → validate → authorize → forward.

Order matters: an unauthenticated caller learns nothing but 401; a bad input is 400 before
any permission is weighed; a refused request never reaches SignalR. ``Facade`` holds all
per-worker state (settings, the SignalR client, the token validator); heavy parts are
built on first use and then kept for the life of the worker, so connections, keys and
tokens are reused across invocations. Triggers only adapt their input to these calls.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

from functions.catalog import paging
from functions.catalog.operations import Answer, OperationSpec, Permission, QueueOn404
from functions.catalog.operations import NotFound as NotFoundMeaning
from functions.catalog.rules import HUB_NAME, MAX_HUB_LENGTH, prefixed_hub
from functions.core.batch import Batch, is_batch, read_batch
from functions.core.caller_limit import CallerLimit
from functions.core.command import Command, validate_hub
from functions.core.errors import (
    CallerLimited,
    ConfigurationError,
    FacadeError,
    FieldError,
    PermissionDenied,
    ValidationError,
)
from functions.core.page_token import PageTokenKeys
from functions.core.queued import command_from_message, read_message
from functions.core.settings import Settings, get_settings
from functions.core.single_flight import SingleFlight
from functions.signalr.client import SignalRClient
from functions.signalr.connection_string import parse_connection_string
from functions.signalr.credentials import AccessKeyCredential
from functions.signalr.endpoints import DEFAULT_NAME as DEFAULT_ENDPOINT

if TYPE_CHECKING:
    from functions.auth.principal import Principal
    from functions.auth.validator import TokenValidator
    from functions.core.idempotency.store import IdempotencyStore
    from functions.signalr.service import SignalRService


@dataclass(frozen=True)
class Outcome:
    """What an operation came to, in the catalog's terms (the trigger decides how to say it)."""

    command: Command
    status: int
    body: Any = None  # the JSON answer for the caller, when the catalog entry has one

    @property
    def spec(self) -> OperationSpec:
        return self.command.spec

    @property
    def not_found(self) -> NotFoundMeaning | None:
        """What the service's 404 means, when it answered 404 and the catalog calls that an answer."""
        return self.spec.not_found if self.status == 404 else None

    @property
    def dead_letter_on_queue(self) -> bool:
        meaning = self.not_found
        return meaning is not None and meaning.queue is QueueOn404.DEAD_LETTER


T = TypeVar("T")
BUILT_PREFIX = "_built_"


def built_once(build: Callable[[Facade], T]) -> property:
    """A lazily built part of the facade, built by one thread only.

    ``cached_property`` stopped locking in Python 3.12: the warm-up thread and a first request
    could then both build the SignalR client (starting two sets of probe threads) or the token
    validator (fetching the keys twice). Built under the facade's lock, each is built once.
    """
    key = BUILT_PREFIX + build.__name__

    def get(facade: Facade) -> T:
        try:
            return facade.__dict__[key]
        except KeyError:
            pass
        with facade._build_lock:
            if key not in facade.__dict__:
                facade.__dict__[key] = build(facade)
            return facade.__dict__[key]

    return property(get, doc=build.__doc__)


class Facade:
    """Per-worker state and the request pipeline shared by the HTTP and queue triggers."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._build_lock = threading.RLock()
        self.health_logged: str | None = None  # the health details last logged (functions/http/health.py)

    def built(self, name: str) -> Any:
        """A ``built_once`` part if it has been built, else None (never builds it)."""
        return self.__dict__.get(BUILT_PREFIX + name)

    @built_once
    def client(self) -> SignalRService:
        """One endpoint: the client itself, as always. Several: a router over them (no threads otherwise)."""
        endpoints = self.settings.signalr_endpoints
        if len(endpoints) > 1:
            from functions.signalr.router import EndpointRouter

            return EndpointRouter.from_configs(endpoints).start()
        info = endpoints[0].info if endpoints else parse_connection_string(self.settings.signalr_connection_string)
        return SignalRClient(info)

    @built_once
    def _upstream_check(self) -> SingleFlight[dict[str, Any]]:
        return SingleFlight(self._probe_upstream, UPSTREAM_CHECK_TTL,
                            pending={"status": "pending", "detail": "The first check is under way"})

    def _probe_upstream(self) -> dict[str, Any]:
        try:
            status = self.client.health()
        except FacadeError as e:
            return {"status": "error", "detail": e.title}
        return {"status": "ok" if status == 200 else "error", "httpStatus": status}

    def upstream_health(self) -> dict[str, Any]:
        """The service's health, from a check made at most once per ``UPSTREAM_CHECK_TTL`` seconds
        (several endpoints: each one's state from the background probes, which cost callers nothing)."""
        report = self.client.report()
        return report if report is not None else self._upstream_check.get()

    def require_sound_settings(self) -> None:
        """Fail closed (500, details only in the log) while a setting is malformed."""
        if self.settings.read_problems:
            raise ConfigurationError("; ".join(self.settings.read_problems))

    @built_once
    def idempotency(self) -> IdempotencyStore:
        """The idempotency records (built on the first keyed request or queued command; azure-data-tables
        itself is imported on the store's first call)."""
        from functions.core.idempotency.store import IdempotencyStore

        return IdempotencyStore(self.settings.idempotency)

    @built_once
    def page_tokens(self) -> PageTokenKeys:
        """The keys page tokens are sealed with: the setting, else the access keys, else a secret the
        deployment's workers share in the idempotency table, else (no storage either) this worker's own."""
        settings = self.settings
        if settings.page_token_secrets:
            return PageTokenKeys.from_secrets(settings.page_token_secrets, "setting")
        named = [(c.name, c.info.access_key) for c in settings.signalr_endpoints]
        if not named:
            try:
                named = [("default", parse_connection_string(settings.signalr_connection_string).access_key)]
            except ConfigurationError:
                named = []  # reported by /api/health; requests fail closed before any paging
        keys = "\n".join(f"{name}={key}" for name, key in sorted(named) if key)
        if keys:
            return PageTokenKeys.from_secrets([keys], "access key")
        if settings.idempotency.configured:  # raises IdempotencyUnavailable (503) while the table is unreachable
            from functions.core.idempotency.shared_secret import shared_secret

            return PageTokenKeys.from_secrets([shared_secret(self.idempotency, PAGE_TOKEN_SECRET_NAME)], "storage")
        return PageTokenKeys.for_worker()

    @built_once
    def caller_limit(self) -> CallerLimit | None:
        """This worker's per-caller budget (None: SIGNALR_CALLER_LIMIT=0, no limit)."""
        rate = self.settings.caller_limit
        return CallerLimit(rate) if rate else None

    def charge(self, principal: Principal, count: int = 1) -> None:
        """Take ``count`` commands from the caller's budget, all or none; else 429 with Retry-After, nothing sent."""
        limit = self.caller_limit
        if limit is None or count <= 0:
            return
        key = f"{principal.tenant_id}/{principal.object_id or principal.client_app_id}"
        wait = limit.take(key, count)
        if wait:
            raise CallerLimited(f"This caller is over {int(limit.rate)} commands per second "
                                f"({count} asked for); try again in {wait} s", retry_after=wait)

    @built_once
    def validator(self) -> TokenValidator:
        from functions.auth.validator import TokenValidator

        return TokenValidator(self.settings)

    # The steps, in pipeline order.

    def authenticate(self, authorization: str | None) -> Principal:
        self.require_sound_settings()
        return self.validator.authenticate(authorization)

    def check_hub_allowed(self, hub: str) -> None:
        allowed = self.settings.allowed_hubs
        if allowed is not None and hub.lower() not in allowed:
            raise PermissionDenied(f"Hub '{hub}' is not open to this facade")

    def check_client_app(self, principal: Principal) -> None:
        allowed = self.settings.allowed_client_apps
        if allowed is not None and principal.client_app_id not in allowed:
            raise PermissionDenied("The calling application is not allowed to use this facade")

    def authorize(self, principal: Principal, command: Command) -> None:
        """Raise PermissionDenied unless the caller holds every permission the command needs on its hub."""
        self.check_client_app(principal)
        needed = command.permissions
        missing = [] if needed <= principal.permissions else sorted(  # the usual case: one set comparison
            p.value for p in needed if not principal.has_permission(p.value))
        if missing:
            names = "', '".join(missing)
            raise PermissionDenied(f"This operation needs the permission '{names}' (an app role for an app, "
                                   "a scope for a delegated token)")
        self.check_hub_allowed(command.hub)

    def application_for(self, tenant_id: str | None) -> str | None:
        """The SignalR ``application`` a caller's hubs live in: the configured one and, in
        multi-tenant mode, the caller's tenant, so each tenant reaches only its own clients."""
        parts = [self.settings.application] if self.settings.application else []
        if self.settings.is_multi_tenant:
            if not tenant_id:
                raise ConfigurationError("a multi-tenant facade got a command with no tenant")
            parts.append(tenant_namespace(tenant_id))
        return "_".join(parts) or None

    def forward(self, command: Command, *, tenant_id: str | None = None, method: str | None = None) -> Outcome:
        application = self.application_for(tenant_id)
        if application is not None:
            check_prefixed_hub(application, command.hub)
            command = replace(command, application=application)
        answer = command.spec.answer
        if answer is Answer.GROUP_USERS:
            return Outcome(command, 200, paging.group_users(lambda token: self._page(command, token)))
        if answer is Answer.PAGE and command.args.get(CONTINUATION) is not None:
            # Refused here (400) unless the facade sealed it for this very listing: nothing goes upstream.
            upstream = self.page_tokens.open(command, command.args[CONTINUATION])
            command = replace(command, args={**command.args, CONTINUATION: upstream})
        result = self.client.execute(command, method=method)
        if answer is Answer.PAGE and result.status == 200:
            return Outcome(command, result.status, paging.page_answer(command, result.body, self.page_tokens.seal))
        return Outcome(command, result.status, _documented_fields(command.spec, result.body))

    def _page(self, command: Command, token: str | None) -> Any:
        query: list[tuple[str, Any]] = [("maxpagesize", paging.MAX_PAGE_SIZE)]
        if token is not None:
            query.append(("continuationToken", token))
        return self.client.execute(command, extra_query=query).body

    # The pipelines.

    def admit(self, authorization: str | None, read_command: Callable[[], Command]) -> tuple[Principal, Command]:
        """Who asks and what, checked in order (401, then 400, then 403, then 429): ready to forward."""
        principal = self.authenticate(authorization)
        command = read_command()
        self.authorize(principal, command)
        self.charge(principal)
        return principal, command

    def serve(
        self, authorization: str | None, read_command: Callable[[], Command], *, method: str | None = None
    ) -> Outcome:
        """An authenticated caller's request: ``read_command`` parses and validates its input."""
        principal, command = self.admit(authorization, read_command)
        return self.forward(command, tenant_id=principal.tenant_id, method=method)

    @staticmethod
    def read_queued(text: str) -> Command | Batch:
        """Parse and validate a queue message: one command, or a batch (the trigger logs what it names)."""
        data = read_message(text)
        return read_batch(data, queue=True) if is_batch(data) else command_from_message(data)

    def negotiate(self, authorization: str | None, hub: object) -> dict[str, str]:
        """Where and how the caller connects: the client URL and a short-lived token for itself."""
        principal = self.authenticate(authorization)
        hub = validate_hub(hub).lower()
        self.check_client_app(principal)
        if not principal.has_permission(Permission.CONNECT):
            raise PermissionDenied(f"Negotiate needs the permission '{Permission.CONNECT}' (an app role for an app, "
                                   "a scope for a delegated token)")
        self.check_hub_allowed(hub)
        # Clients name the combined hub, as the Management SDK's negotiate does.
        client_hub = check_prefixed_hub(self.application_for(principal.tenant_id), hub)
        client = self.client.for_negotiate()
        url = f"{client.info.client_url}/client/?hub={client_hub}"
        if isinstance(client.credential, AccessKeyCredential):
            # aud from Endpoint's scheme://host, never ClientEndpoint (the SDK's rule, as for REST tokens).
            audience = f"{client.info.audience_base}/client/?hub={client_hub}"
            token = client.credential.sign(audience, CLIENT_TOKEN_MINUTES * 60, nameid=principal.user_id)
        else:
            # The same hub the URL names: :generateToken takes no `application`, the prefix is in the hub.
            token = client.generate_client_token(client_hub, principal.user_id, CLIENT_TOKEN_MINUTES)
        return {"url": url, "accessToken": token}

    def run_queued(self, command: Command) -> Outcome:
        """A queued command: the queue itself is the trust boundary, so only the hub is checked."""
        self.require_sound_settings()
        self.admit_queued(command)
        return self.forward_queued(command)

    def admit_queued(self, command: Command) -> None:
        """What a queued command (alone or in a batch) must pass before it is sent: hub, tenant, endpoints."""
        self.check_hub_allowed(command.hub)
        self.check_queued_tenant(command.tenant_id)
        self.check_queued_endpoints(command.endpoints)

    def check_queued_endpoints(self, names: tuple[str, ...] | None) -> None:
        """A queued retry names only configured endpoints. One that is not (never was, or was removed
        from the settings) can never be delivered: dead-lettered with a reason, never "done". "Done
        because its endpoints are gone" is for configured endpoints that are down (the router)."""
        if names is None:
            return
        configured = {c.name for c in self.settings.signalr_endpoints} or {DEFAULT_ENDPOINT}
        unknown = sorted(set(names) - configured)
        if unknown:
            raise ValidationError([FieldError("endpoints", "names no configured SignalR endpoint: "
                                              + ",".join(unknown))])

    def forward_queued(self, command: Command) -> Outcome:
        return self.forward(command, tenant_id=command.tenant_id)

    def check_queued_tenant(self, tenant_id: str | None) -> None:
        """Multi-tenant: a queued command names an allowed tenant. Single-tenant: only ours, if any."""
        settings = self.settings
        if settings.is_multi_tenant:
            if tenant_id is None:
                raise PermissionDenied("A multi-tenant facade needs the command's 'tenant'")
            if tenant_id not in settings.entra_allowed_tenants:
                raise PermissionDenied("The command's tenant is not allowed")
        elif tenant_id is not None and tenant_id != (settings.entra_tenant_id or "").lower():
            raise PermissionDenied("The command's tenant is not this facade's tenant")


def check_prefixed_hub(application: str | None, hub: str) -> str:
    """The hub the service holds the clients in (``<application>_<hub>``, lower case); a
    ValidationError naming ``hub`` when that name breaks the service's hub rule (128 at most)."""
    name = prefixed_hub(application, hub)
    if application and not HUB_NAME.fullmatch(name):
        raise ValidationError([FieldError("hub", f"with the application prefix '{application}_' the hub name must "
                                                 f"be at most {MAX_HUB_LENGTH} characters")])
    return name


def tenant_namespace(tenant_id: str) -> str:
    """A tenant's part of the ``application`` name: "t" and the GUID's 32 hex digits."""
    return "t" + tenant_id.replace("-", "").lower()


CONTINUATION = "continuationToken"
UPSTREAM_CHECK_TTL = 5.0  # seconds between upstream health checks, whatever the number of probes


def _documented_fields(spec: OperationSpec, body: Any) -> Any:
    """Only the fields the operation's answer schema documents reach the caller (None stays None)."""
    properties = (spec.answer_schema or {}).get("properties")
    if not isinstance(body, dict) or properties is None:
        return body
    return {key: value for key, value in body.items() if key in properties}


PAGE_TOKEN_SECRET_NAME = "page-token-key"  # its row in the idempotency table
CLIENT_TOKEN_MINUTES = 15  # clients re-negotiate on reconnect; a short token limits a leak

_lock = threading.Lock()
_facade: Facade | None = None


def get_facade() -> Facade:
    """The worker's one Facade (built once; thread-safe)."""
    global _facade
    if _facade is None:
        with _lock:
            if _facade is None:
                _facade = Facade(get_settings())
    return _facade


def reset_facade() -> None:
    """Forget the cached settings and clients (tests that change the environment call it)."""
    global _facade
    with _lock:
        client = _facade.built("client") if _facade else None
        if client is not None:  # a router's probe thread and pool, the connections
            client.close()
        store = _facade.built("idempotency") if _facade else None
        if store is not None:
            store.close()
        _facade = None
        get_settings.cache_clear()
