"""The operation catalog: the 14 SignalR REST v1 operations as data, written once.

HTTP routes, queue dispatch, the OpenAPI document and the docs are derived from it.
Facade paths mirror the upstream paths (under the Functions ``routePrefix`` ``api``),
so ``upstream_path`` is the same template with ``/api`` in front.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Permission(StrEnum):
    SEND = "SignalR.Send"
    GROUPS_MANAGE = "SignalR.Groups.Manage"
    CONNECTIONS_MANAGE = "SignalR.Connections.Manage"
    READ = "SignalR.Read"


@dataclass(frozen=True)
class Param:
    """One input of an operation. ``name`` is the same in the path, the query and a queue message."""

    name: str
    location: str  # "path" or "query"
    description: str
    required: bool = True
    repeated: bool = False


HUB = Param("hub", "path", "Hub name: a letter, then letters, digits or underscores; 1-128 characters.")
GROUP = Param("group", "path", "Group name: 1-1024 characters, not all whitespace.")
USER = Param("user", "path", "User id: 1-1024 characters, no control characters.")
CONNECTION = Param("connectionId", "path", "Connection id: 1-1024 characters, no control characters.")
EXCLUDED = Param(
    "excluded", "query", "Connection ids to leave out (repeat the parameter, at most 100).",
    required=False, repeated=True,
)
REASON = Param("reason", "query", "Reason given to the client (at most 1024 characters).", required=False)
TTL = Param(
    "ttl", "query", "Seconds the user stays in the group (0-31536000); forever if absent.",
    required=False,
)


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
    existence_check: bool = False
    # 404 is an answer, not a failure, for these (the thing asked about does not exist).
    not_found_is_answer: bool = False
    methods: tuple[str, ...] = field(default=())

    @property
    def http_methods(self) -> tuple[str, ...]:
        # Existence checks answer HEAD as upstream does.
        return self.methods or ((self.method, "HEAD") if self.existence_check else (self.method,))

    @property
    def upstream_path(self) -> str:
        return "/api/" + self.path

    @property
    def queueable(self) -> bool:
        # Existence checks have no reply channel on a queue.
        return not self.existence_check

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


def _check(name: str, summary: str, path: str, params: tuple[Param, ...]) -> OperationSpec:
    return OperationSpec(
        name, summary, "GET", path, params, (200, 404), Permission.READ,
        existence_check=True, not_found_is_answer=True,
    )


OPERATIONS: tuple[OperationSpec, ...] = (
    OperationSpec(
        "broadcast", "Broadcast a message to all clients connected to the hub.",
        "POST", "v1/hubs/{hub}", (HUB, EXCLUDED), (202,), Permission.SEND, has_body=True,
    ),
    OperationSpec(
        "sendToUser", "Send a message to all connections of a user.",
        "POST", "v1/hubs/{hub}/users/{user}", (HUB, USER), (202,), Permission.SEND, has_body=True,
    ),
    OperationSpec(
        "sendToConnection", "Send a message to one connection.",
        "POST", "v1/hubs/{hub}/connections/{connectionId}", (HUB, CONNECTION), (202,),
        Permission.SEND, has_body=True,
    ),
    _check(
        "connectionExists", "Check whether a connection exists.",
        "v1/hubs/{hub}/connections/{connectionId}", (HUB, CONNECTION),
    ),
    OperationSpec(
        "closeConnection", "Close a client connection.",
        "DELETE", "v1/hubs/{hub}/connections/{connectionId}", (HUB, CONNECTION, REASON), (202,),
        # The service may answer 404 (Warning.Connection.NotExisted) for a connection that is gone.
        Permission.CONNECTIONS_MANAGE, not_found_is_answer=True,
    ),
    OperationSpec(
        "sendToGroup", "Send a message to all connections in a group.",
        "POST", "v1/hubs/{hub}/groups/{group}", (HUB, GROUP, EXCLUDED), (202,), Permission.SEND,
        has_body=True,
    ),
    _check(
        "groupExists", "Check whether a group has any connections.",
        "v1/hubs/{hub}/groups/{group}", (HUB, GROUP),
    ),
    _check(
        "userExists", "Check whether a user has any connections.",
        "v1/hubs/{hub}/users/{user}", (HUB, USER),
    ),
    OperationSpec(
        "addConnectionToGroup", "Add a connection to a group.",
        "PUT", "v1/hubs/{hub}/groups/{group}/connections/{connectionId}", (HUB, GROUP, CONNECTION),
        (200, 404), Permission.GROUPS_MANAGE, not_found_is_answer=True,
    ),
    OperationSpec(
        "removeConnectionFromGroup", "Remove a connection from a group.",
        "DELETE", "v1/hubs/{hub}/groups/{group}/connections/{connectionId}", (HUB, GROUP, CONNECTION),
        (200, 404), Permission.GROUPS_MANAGE, not_found_is_answer=True,
    ),
    _check(
        "userInGroup", "Check whether a user is in a group.",
        "v1/hubs/{hub}/groups/{group}/users/{user}", (HUB, GROUP, USER),
    ),
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
