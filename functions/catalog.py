"""The operation catalog: every operation as data, written once.

Each entry holds every fact about one operation: its facade route, the upstream path and
API version, its parameters (location, rule, schema), its body, its success statuses, what
an upstream 404 means, the permission it needs, and whether the queue takes it. HTTP
routes, queue dispatch, the OpenAPI document, the README's table and the emulator's tests
all read these entries; adding an operation is adding one entry.

Upstream REST reference: https://learn.microsoft.com/azure/azure-signalr/signalr-reference-data-plane-rest-api
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from . import rules
from .rules import Rule


class Permission(StrEnum):
    """App roles (``roles``) and delegated scopes (``scp``), the same names in both."""

    SEND = "SignalR.Send"
    GROUPS_MANAGE = "SignalR.Groups.Manage"
    CONNECTIONS_MANAGE = "SignalR.Connections.Manage"
    READ = "SignalR.Read"
    # Negotiate: without it any token the tenant issues for the API could join a hub and listen.
    CONNECT = "SignalR.Connect"


class Location(StrEnum):
    PATH = "path"
    QUERY = "query"


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
    permission: Permission
    has_body: bool = False
    # Existence checks: answered over HTTP only (a queue has no reply channel), HEAD too.
    existence_check: bool = False
    # None: an upstream 404 is a failure (the service should never answer it).
    not_found: NotFound | None = None
    upstream_template: str | None = None  # default: the facade path under "/api/"
    api_version: str | None = None  # the dated REST versions take ?api-version=

    @property
    def http_methods(self) -> tuple[str, ...]:
        # Existence checks answer HEAD as upstream does.
        return (self.method, "HEAD") if self.existence_check else (self.method,)

    @property
    def upstream_path(self) -> str:
        return self.upstream_template or "/api/" + self.path

    @property
    def queueable(self) -> bool:
        return not self.existence_check

    @property
    def query_params(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.location is Location.QUERY)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


HUB = Param("hub", Location.PATH, "Hub name: a letter, then letters, digits or underscores; 1-128 characters.",
            rules.HUB)
GROUP = Param("group", Location.PATH, "Group name: 1-1024 characters, not all whitespace.", rules.GROUP)
USER = Param("user", Location.PATH, "User id: 1-1024 characters, no control characters.", rules.ID)
CONNECTION = Param("connectionId", Location.PATH, "Connection id: 1-1024 characters, no control characters.",
                   rules.ID)
EXCLUDED = Param("excluded", Location.QUERY, "Connection ids to leave out (repeat the parameter, at most 100).",
                 rules.EXCLUDED, required=False, repeated=True)
REASON = Param("reason", Location.QUERY, "Reason given to the client (at most 1024 characters).", rules.REASON,
               required=False)
TTL = Param("ttl", Location.QUERY, "Seconds the user stays in the group (0-31536000); forever if absent.",
            rules.TTL, required=False)

CONNECTION_GONE = NotFound("The connection does not exist")


def _send(name: str, summary: str, path: str, params: tuple[Param, ...]) -> OperationSpec:
    return OperationSpec(name, summary, "POST", path, params, (202,), Permission.SEND, has_body=True)


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
)

OPERATIONS_BY_NAME: dict[str, OperationSpec] = {op.name: op for op in OPERATIONS}
