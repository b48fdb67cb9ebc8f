"""The operation catalog: every operation as data, written once.

Each entry holds every fact about one operation: its facade route, the upstream path and
API version, its parameters (location, rule, schema), its body, its success statuses, what
an upstream 404 means, the permission it needs, and whether the queue takes it. HTTP
routes, queue dispatch, the OpenAPI document, the operations reference (docs/reference/operations.md)
and the emulator's tests all read these entries; adding an operation is adding one entry.

Upstream REST reference: https://learn.microsoft.com/azure/azure-signalr/signalr-reference-data-plane-rest-api
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

from functions.catalog import bodies, rules
from functions.catalog.answers import CLIENT_RESULT_SCHEMA, GROUP_PAGE_SCHEMA, GROUP_USERS_SCHEMA
from functions.catalog.rules import Rule
from functions.core.errors import ClientInvocationFailed, ClientTimeout, ContinuationRefused, FacadeError

# Every facade route starts here: host.json's extensions.http.routePrefix (a test holds the two equal).
ROUTE_PREFIX = "/api"


class Permission(StrEnum):
    """App roles (``roles``) and delegated scopes (``scp``), the same names in both."""

    SEND = "SignalR.Send"
    GROUPS_MANAGE = "SignalR.Groups.Manage"
    CONNECTIONS_MANAGE = "SignalR.Connections.Manage"
    READ = "SignalR.Read"
    # Negotiate: without it any token the tenant issues for the API could join a hub and listen.
    CONNECT = "SignalR.Connect"
    # :invoke reads data from a user's client (its handler's return value): a permission of its own.
    INVOKE = "SignalR.Invoke"


class Location(StrEnum):
    PATH = "path"
    QUERY = "query"


class ApplicationIn(StrEnum):
    """Where an operation carries SignalR's ``application`` (the namespace several apps share an instance by).

    The v1 swagger defines no ``application`` parameter: the Management SDK's v1 era put
    ``lower(application) + "_" + lower(hub)`` in the hub path segment. The dated swaggers define the
    ``application`` query parameter on every operation but ``:execute`` and ``:generateToken``, which
    are addressed on the prefixed hub. (Azure/azure-signalr docs/swagger/v1.json, v20241201.json;
    src/Microsoft.Azure.SignalR.Management/RestApiProvider.cs.)
    """

    HUB = "hub"  # the hub segment is `<application>_<hub>`
    QUERY = "query"  # `?application=<application>`, the hub segment is the hub alone


class QueueOn404(StrEnum):
    """What the queue does when the service answers 404 for a queued command."""

    DONE = "done"  # the goal is already met (e.g. the connection to close is gone)
    DEAD_LETTER = "dead-letter"  # the command can never succeed as written


@dataclass(frozen=True)
class Param:
    """One input. ``name`` is the same on the facade route or query, upstream and in a queue message."""

    name: str
    location: Location
    description: str
    rule: Rule
    required: bool = True
    repeated: bool = False


class Answer(StrEnum):
    """What the caller gets back besides the status."""

    NONE = "none"  # the status only
    JSON = "json"  # the service's JSON answer, passed back (e.g. a client's result)
    PAGE = "page"  # one page of a list; its nextLink is rewritten to point at the facade
    GROUP_USERS = "group-users"  # every page of a group's connections, folded into distinct users


@dataclass(frozen=True)
class Body:
    """A JSON request body: its check (the value knows how to go upstream), its schema, its queue field.

    ``permissions`` derives the permissions a body needs (``:execute``: one per command type);
    None when the operation's own permission covers it.
    """

    queue_field: str
    rule: Rule
    schema_name: str
    description: str
    permissions: Callable[[Any], frozenset[Permission]] | None = None


@dataclass(frozen=True)
class NotFound:
    """An upstream 404 that is an answer: the caller gets 404 with ``detail``; the queue acts on ``queue``."""

    detail: str
    queue: QueueOn404 = QueueOn404.DONE


@dataclass(frozen=True)
class OperationSpec:
    """One operation: how it is addressed on the facade and upstream, and who may call it."""

    name: str
    summary: str
    method: str
    path: str  # relative to the route prefix, e.g. "v1/hubs/{hub}/groups/{group}"
    params: tuple[Param, ...]
    success: tuple[int, ...]
    permission: Permission | None  # None: derived from the body (``Body.permissions``)
    body: Body | None = None
    # Existence checks: answered over HTTP only (a queue has no reply channel), HEAD too.
    existence_check: bool = False
    # None: an upstream 404 is a failure (the service should never answer it).
    not_found: NotFound | None = None
    upstream_template: str | None = None  # default: the facade path under "/api/"
    api_version: str | None = None  # the dated REST versions take ?api-version=
    answer: Answer = Answer.NONE
    answer_schema: Mapping[str, Any] | None = None  # the JSON answer, for the OpenAPI document
    # Upstream statuses with a meaning of their own for this operation (beyond success and 404).
    failures: Mapping[int, type[FacadeError]] = field(default_factory=dict)
    # Default: in the query on the dated API, in the hub segment on v1 (see ApplicationIn).
    application_in: ApplicationIn | None = None

    @property
    def has_body(self) -> bool:
        return self.body is not None

    def permissions_for(self, payload: Any) -> frozenset[Permission]:
        """Every permission a caller needs for this operation with this (validated) body."""
        if self.body is not None and self.body.permissions is not None and payload is not None:
            return self.fixed_permissions | self.body.permissions(payload)
        return self.fixed_permissions

    @cached_property
    def fixed_permissions(self) -> frozenset[Permission]:
        """The permission the operation itself needs, whatever its body."""
        return frozenset({self.permission}) if self.permission is not None else frozenset()

    @property
    def http_methods(self) -> tuple[str, ...]:
        # Existence checks answer HEAD as upstream does.
        return (self.method, "HEAD") if self.existence_check else (self.method,)

    @property
    def application_location(self) -> ApplicationIn:
        if self.application_in is not None:
            return self.application_in
        return ApplicationIn.QUERY if self.api_version else ApplicationIn.HUB

    @property
    def upstream_path(self) -> str:
        return self.upstream_template or "/api/" + self.path

    @property
    def queueable(self) -> bool:
        # A queue has no reply channel: operations whose point is their answer are HTTP only.
        return not self.existence_check and self.answer is Answer.NONE

    @cached_property
    def query_params(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.location is Location.QUERY)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    @cached_property
    def param_names(self) -> frozenset[str]:
        return frozenset(p.name for p in self.params)


HUB = Param("hub", Location.PATH, "Hub name: a letter, then letters, digits or _`,.[]; 1-128 characters "
            "(the service's rule). Case-insensitive: it goes upstream in lower case.", rules.HUB)
GROUP = Param("group", Location.PATH, "Group name: 1-1024 characters, not all whitespace.", rules.GROUP)
USER = Param("user", Location.PATH, "User id: 1-1024 characters, no control characters.", rules.ID)
CONNECTION = Param("connectionId", Location.PATH, "Connection id: 1-1024 characters, no control characters.",
                   rules.ID)
EXCLUDED = Param("excluded", Location.QUERY, "Connection ids to leave out (repeat the parameter, at most 100).",
                 rules.EXCLUDED, required=False, repeated=True)
REASON = Param("reason", Location.QUERY, "Reason given to the client (at most 1024 characters).", rules.REASON,
               required=False)
TTL = Param("ttl", Location.QUERY,
            "Seconds the user stays in the group (0-31536000; 0 adds only the user's connections open now). "
            "Absent: as the service keeps it, at most one year, and only the user's 100 most recently "
            "updated groups without a ttl are kept.", rules.TTL, required=False)

CLOSE_EXCLUDED = Param("excluded", Location.QUERY,
                       "Connection ids to leave open (repeat the parameter, at most 100).",
                       rules.EXCLUDED, required=False, repeated=True)
CLOSE_REASON = Param("reason", Location.QUERY, "Reason given to the clients (at most 1024 characters).",
                     rules.REASON, required=False)
PAGE_SIZE = Param("maxpagesize", Location.QUERY, "Connections per page (1-200; the service's default is 200).",
                  rules.PAGE_SIZE, required=False)
TOP = Param("top", Location.QUERY, "The most connections to return over all pages; all when absent.",
            rules.TOP, required=False)
CONTINUATION = Param("continuationToken", Location.QUERY,
                     "Where the next page starts: copy it from the previous page's nextLink, never build it.",
                     rules.CONTINUATION_TOKEN, required=False)
FILTER = Param("filter", Location.QUERY,
               "OData filter choosing the connections (userId, connectionId, groups; at most 2048 characters). "
               "See https://learn.microsoft.com/azure/azure-web-pubsub/reference-odata-filter",
               rules.FILTER, required=False)

CONNECTION_GONE = NotFound("The connection does not exist")

PAYLOAD_BODY = Body("payload", Rule(bodies.check_payload, bodies.PAYLOAD_SCHEMA), "PayloadMessage",
                    "A hub invocation: the client method (target) and its arguments.")
# :execute needs the permission of every command type in it.
COMMAND_PERMISSIONS: dict[str, Permission] = {
    "SendMessage": Permission.SEND,
    "JoinGroup": Permission.GROUPS_MANAGE,
    "LeaveGroup": Permission.GROUPS_MANAGE,
    "CloseConnection": Permission.CONNECTIONS_MANAGE,
}
COMMANDS_BODY = Body(
    "commands",
    Rule(bodies.check_commands, bodies.commands_schema("#/components/schemas/PayloadMessage",
                                                       rules.GROUP.schema, rules.REASON.schema)),
    "ExecuteCommands",
    "The commands to run on every matching connection, in order.",
    permissions=lambda commands: frozenset(COMMAND_PERMISSIONS[kind] for kind in commands.types),
)

DATED = "2024-12-01"  # the newest data-plane REST version (Azure/azure-signalr docs/swagger/v20241201.json)


def _send(name: str, summary: str, path: str, params: tuple[Param, ...]) -> OperationSpec:
    return OperationSpec(name, summary, "POST", path, params, (202,), Permission.SEND, body=PAYLOAD_BODY)


def _close_all(name: str, summary: str, path: str, params: tuple[Param, ...]) -> OperationSpec:
    return OperationSpec(name, summary, "POST", path, (*params, CLOSE_EXCLUDED, CLOSE_REASON), (204,),
                         Permission.CONNECTIONS_MANAGE, upstream_template="/api/" + path.removeprefix("v1/"),
                         api_version=DATED)


def _check(name: str, summary: str, path: str, params: tuple[Param, ...], absent: str) -> OperationSpec:
    return OperationSpec(name, summary, "GET", path, params, (200,), Permission.READ,
                         existence_check=True, not_found=NotFound(absent))


OPERATIONS: tuple[OperationSpec, ...] = (
    _send("broadcast", "Broadcast a message to all clients connected to the hub.",
          "v1/hubs/{hub}", (HUB, EXCLUDED)),
    _send("sendToUser", "Send a message to all connections of a user.",
          "v1/hubs/{hub}/users/{user}", (HUB, USER)),
    _send("sendToConnection", "Send a message to one connection.",
          "v1/hubs/{hub}/connections/{connectionId}", (HUB, CONNECTION)),
    _check("connectionExists", "Check whether a connection exists.",
           "v1/hubs/{hub}/connections/{connectionId}", (HUB, CONNECTION), "The connection does not exist"),
    OperationSpec(
        "closeConnection", "Close a client connection.",
        "DELETE", "v1/hubs/{hub}/connections/{connectionId}", (HUB, CONNECTION, REASON), (202,),
        # The service may answer 404 (Warning.Connection.NotExisted) for a connection that is gone:
        # for a queued close that is the goal reached.
        Permission.CONNECTIONS_MANAGE, not_found=CONNECTION_GONE,
    ),
    _send("sendToGroup", "Send a message to all connections in a group.",
          "v1/hubs/{hub}/groups/{group}", (HUB, GROUP, EXCLUDED)),
    _check("groupExists", "Check whether a group has any connections.",
           "v1/hubs/{hub}/groups/{group}", (HUB, GROUP), "The group has no connections"),
    _check("userExists", "Check whether a user has any connections.",
           "v1/hubs/{hub}/users/{user}", (HUB, USER), "The user has no connections"),
    OperationSpec(
        "addConnectionToGroup", "Add a connection to a group.",
        "PUT", "v1/hubs/{hub}/groups/{group}/connections/{connectionId}", (HUB, GROUP, CONNECTION),
        (200,), Permission.GROUPS_MANAGE,
        # A connection that does not exist can never join: a queued add is dead-lettered.
        not_found=NotFound("The connection does not exist", QueueOn404.DEAD_LETTER),
    ),
    OperationSpec(
        "removeConnectionFromGroup", "Remove a connection from a group.",
        "DELETE", "v1/hubs/{hub}/groups/{group}/connections/{connectionId}", (HUB, GROUP, CONNECTION),
        (200,), Permission.GROUPS_MANAGE,
        not_found=NotFound("The connection does not exist or is not in the group"),
    ),
    _check("userInGroup", "Check whether a user is in a group.",
           "v1/hubs/{hub}/groups/{group}/users/{user}", (HUB, GROUP, USER), "The user is not in the group"),
    OperationSpec(
        "addUserToGroup", "Add a user to a group, optionally for a time.",
        "PUT", "v1/hubs/{hub}/groups/{group}/users/{user}", (HUB, GROUP, USER, TTL), (202,),
        Permission.GROUPS_MANAGE,
    ),
    OperationSpec(
        "removeUserFromGroup", "Remove a user from a group.",
        "DELETE", "v1/hubs/{hub}/groups/{group}/users/{user}", (HUB, GROUP, USER), (202,),
        Permission.GROUPS_MANAGE,
    ),
    OperationSpec(
        "removeUserFromAllGroups", "Remove a user from all groups.",
        "DELETE", "v1/hubs/{hub}/users/{user}/groups", (HUB, USER), (200, 202),
        Permission.GROUPS_MANAGE,
    ),
    # 2024-12-01 operations.
    _close_all("closeAllConnections", "Close every connection to the hub.",
               "v1/hubs/{hub}/:closeConnections", (HUB,)),
    _close_all("closeGroupConnections", "Close every connection in a group.",
               "v1/hubs/{hub}/groups/{group}/:closeConnections", (HUB, GROUP)),
    _close_all("closeUserConnections", "Close every connection of a user.",
               "v1/hubs/{hub}/users/{user}/:closeConnections", (HUB, USER)),
    OperationSpec(
        "removeConnectionFromAllGroups", "Remove a connection from all groups.",
        "DELETE", "v1/hubs/{hub}/connections/{connectionId}/groups", (HUB, CONNECTION), (200,),
        Permission.GROUPS_MANAGE, not_found=CONNECTION_GONE,
        upstream_template="/api/hubs/{hub}/connections/{connectionId}/groups", api_version=DATED,
    ),
    OperationSpec(
        "listConnectionsInGroup", "List the connections in a group, a page at a time.",
        "GET", "v1/hubs/{hub}/groups/{group}/connections", (HUB, GROUP, PAGE_SIZE, TOP, CONTINUATION), (200,),
        Permission.READ, upstream_template="/api/hubs/{hub}/groups/{group}/connections", api_version=DATED,
        answer=Answer.PAGE, answer_schema=GROUP_PAGE_SCHEMA,
        # Every other input is checked here first: a 400 upstream is about the token sent back.
        failures={400: ContinuationRefused},
    ),
    OperationSpec(
        "listUsersInGroup", "Who is in a group: its distinct user ids with their connection counts.",
        "GET", "v1/hubs/{hub}/groups/{group}/users", (HUB, GROUP), (200,),
        Permission.READ, upstream_template="/api/hubs/{hub}/groups/{group}/connections", api_version=DATED,
        answer=Answer.GROUP_USERS, answer_schema=GROUP_USERS_SCHEMA,
    ),
    OperationSpec(
        "executeCommands", "Run commands on every connection a filter matches.",
        "POST", "v1/hubs/{hub}/:execute", (HUB, FILTER), (202,), None, body=COMMANDS_BODY,
        upstream_template="/api/hubs/{hub}/:execute", api_version=DATED,
        application_in=ApplicationIn.HUB,  # the swagger defines no `application` here
    ),
    OperationSpec(
        "invokeConnection", "Ask one client for a result: its handler's return value.",
        "POST", "v1/hubs/{hub}/connections/{connectionId}/:invoke", (HUB, CONNECTION), (200,),
        Permission.INVOKE, body=PAYLOAD_BODY, not_found=CONNECTION_GONE,
        upstream_template="/api/hubs/{hub}/connections/{connectionId}/:invoke", api_version=DATED,
        answer=Answer.JSON, answer_schema=CLIENT_RESULT_SCHEMA,
        failures={400: ClientInvocationFailed, 408: ClientTimeout},
    ),
)

OPERATIONS_BY_NAME: dict[str, OperationSpec] = {op.name: op for op in OPERATIONS}
