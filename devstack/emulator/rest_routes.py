"""The REST routes, derived from Microsoft's swaggers as stored in tests/contracts/data.

Every route the emulator serves is an operation of the v1 or the 2024-12-01 swagger (Azure/azure-signalr
``docs/swagger/v1.json``, ``docs/swagger/v20241201.json``, extracted as facts): its method, path
template, success status and the query parameters it accepts come from there, and a query parameter
the swagger does not define for the operation is a 400, as a strict service answers. The handlers
(rest_ops, rest_newer) are matched to operations by ``operationId``.

Where the emulator deliberately goes beyond the swaggers, ``BEYOND_THE_SWAGGER`` says so; the
same list is in docs/reference/fidelity.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import rest_newer as newer
from . import rest_ops as ops

FACTS_DIR = Path(__file__).resolve().parents[2] / "tests" / "contracts" / "data"
SWAGGERS = {"v1": "signalr-swagger-v1.json", "dated": "signalr-swagger-2024-12-01.json"}
PREFIXES = {"v1": "/api/v1/", "dated": "/api/"}
# The v1 swagger names the user of "send to user" {id}; the handlers read "user".
PARAMETER_NAMES = {"id": "user"}


@dataclass(frozen=True)
class Route:
    methods: frozenset[str]
    pattern: tuple[str, ...]  # literal segments, or "{name}" placeholders
    operation: ops.Operation
    success: int = 200
    authenticated: bool = True
    query: frozenset[str] | None = None  # the query parameters accepted; None: any (not from a swagger)
    source: str = ""  # the operationId, or why the route is beyond the swagger


V1_HANDLERS: dict[str, ops.Operation] = {
    "HealthApi_Head_Index": ops.health,
    "HubProxyControllerV1_Post_Broadcast": ops.broadcast,
    "HubProxyControllerV1_Post_SendToUser": ops.send_to_user,
    "HubProxyControllerV1_Post_SendToConnection": ops.send_to_connection,
    "HubProxyControllerV1_Post_GroupBroadcast": ops.send_to_group,
    "HubProxyControllerV1_Get_CheckConnectionExistence": ops.connection_exists,
    "HubProxyControllerV1_Head_CheckConnectionExistence": ops.connection_exists,
    "HubProxyControllerV1_Get_CheckGroupExistence": ops.group_exists,
    "HubProxyControllerV1_Head_CheckGroupExistence": ops.group_exists,
    "HubProxyControllerV1_Get_CheckUserExistence": ops.user_exists,
    "HubProxyControllerV1_Head_CheckUserExistence": ops.user_exists,
    "HubProxyControllerV1_Get_CheckUserExistenceInGroup": ops.user_in_group,
    "HubProxyControllerV1_Head_CheckUserExistenceInGroup": ops.user_in_group,
    "HubProxyControllerV1_Delete_CloseClientConnection": ops.close_connection,
    "HubProxyControllerV1_Put_AddConnectionToGroup": ops.add_connection_to_group,
    "HubProxyControllerV1_Delete_RemoveConnectionFromGroup": ops.remove_connection_from_group,
    "HubProxyControllerV1_Put_AddUserToGroup": ops.add_user_to_group,
    "HubProxyControllerV1_Delete_RemoveUserFromGroup": ops.remove_user_from_group,
    "HubProxyControllerV1_Delete_RemoveUserFromAllGroups": ops.remove_user_from_all_groups,
}

DATED_HANDLERS: dict[str, ops.Operation] = {
    "HealthApi_GetServiceStatus": ops.health,
    "SignalR_Broadcast": ops.broadcast,
    "SignalR_SendToUser": ops.send_to_user,
    "SignalR_SendToConnection": ops.send_to_connection,
    "SignalR_GroupBroadcast": ops.send_to_group,
    "SignalR_CheckConnectionExistence": ops.connection_exists,
    "SignalR_CheckGroupExistence": ops.group_exists,
    "SignalR_CheckUserExistence": ops.user_exists,
    "SignalR_CheckUserExistenceInGroup": ops.user_in_group,
    "SignalR_CloseConnection": ops.close_connection,
    "SignalR_CloseConnections": ops.close_connections,
    "SignalR_CloseGroupConnections": ops.close_connections,
    "SignalR_CloseUserConnections": ops.close_connections,
    "SignalR_AddConnectionToGroup": ops.add_connection_to_group,
    "SignalR_RemoveConnectionFromGroup": ops.remove_connection_from_group,
    "SignalR_RemoveConnectionFromAllGroups": ops.remove_connection_from_all_groups,
    "SignalR_AddUserToGroup": ops.add_user_to_group,
    "SignalR_RemoveUserFromGroup": ops.remove_user_from_group,
    "SignalR_RemoveUserFromAllGroups": ops.remove_user_from_all_groups,
    "HubProxyV20221101_GenerateClientToken": ops.generate_token,
    "HubProxyV20230701_Execute": newer.execute,
    "HubProxyV20241201_InvokeClientConnection": newer.invoke,
    "HubProxyV20241201_ListConnectionsInGroup": newer.list_connections_in_group,
}

# Operations the swaggers define that the emulator does not serve (404): streams, the access key.
NOT_SERVED = frozenset({"Auth_GetAccessKey", "HubProxyV20241201_SendToConnectionStream",
                        "HubProxyV20241201_CompleteConnectionStream"})

# Where the emulator deliberately goes beyond the swaggers (each also in docs/reference/fidelity.md).
BEYOND_THE_SWAGGER: tuple[tuple[str, str, str, str], ...] = (
    # (generation, method, path after the prefix, why)
    ("v1", "GET", "health", "the swagger has HEAD only; GET lets a browser or curl check the emulator"),
    ("dated", "GET", "health", "the swagger has HEAD only; GET lets a browser or curl check the emulator"),
)
# Beyond the swagger too, but not routes: any dated api-version is served by the 2024-12-01 routes
# (the SDK's 2022-06-01 and the older 2023-07-01 of :generateToken name the same paths); an :invoke a
# client fails or does not answer is 400 / 408, which the swagger does not document.


def _facts(generation: str) -> dict[str, Any]:
    return json.loads((FACTS_DIR / SWAGGERS[generation]).read_text(encoding="utf-8"))


def _pattern(generation: str, path: str) -> tuple[str, ...]:
    rest = path.removeprefix(PREFIXES[generation])
    segments = []
    for segment in rest.split("/"):
        name = segment[1:-1] if segment.startswith("{") else None
        segments.append("{" + PARAMETER_NAMES.get(name, name) + "}" if name else segment)
    return tuple(segments)


def _success(responses: list[str]) -> int:
    return int(next(code for code in responses if code.startswith("2")))


def routes_for(generation: str) -> tuple[Route, ...]:
    """Every route of one API generation: the swagger's operations, then the listed extensions."""
    handlers = V1_HANDLERS if generation == "v1" else DATED_HANDLERS
    by_key: dict[tuple[tuple[str, ...], str], Route] = {}
    for op in _facts(generation)["operations"]:
        if op["operationId"] in NOT_SERVED:
            continue
        handler = handlers[op["operationId"]]  # a new operation in the facts must be mapped or listed
        pattern = _pattern(generation, op["path"])
        query = frozenset(p["name"] for p in op["parameters"] if p["in"] == "query")
        by_key[(pattern, op["method"])] = Route(
            frozenset({op["method"]}), pattern, handler, _success(op["responses"]),
            authenticated=handler is not ops.health, query=query, source=op["operationId"])
    for extra_generation, method, path, why in BEYOND_THE_SWAGGER:
        if extra_generation == generation:
            pattern = tuple(path.split("/"))
            like = next(r for (p, _), r in by_key.items() if p == pattern)
            by_key[(pattern, method)] = Route(frozenset({method}), pattern, like.operation, like.success,
                                              like.authenticated, like.query, source=f"beyond the swagger: {why}")
    return tuple(by_key.values())
