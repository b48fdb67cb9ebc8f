"""Each queueable operation as a message, with the upstream request it must become."""

from __future__ import annotations

PAYLOAD = {"target": "newMessage", "arguments": ["hello"]}

# Each queueable operation: message, expected upstream method, raw path, query.
CASES = [
    ({"operation": "broadcast", "hub": "Chat", "payload": PAYLOAD, "excluded": ["c1", "c2"]},
     "POST", "/api/v1/hubs/chat", [("excluded", "c1"), ("excluded", "c2")]),
    ({"operation": "sendToUser", "hub": "chat", "user": "u 1", "payload": PAYLOAD},
     "POST", "/api/v1/hubs/chat/users/u%201", []),
    ({"operation": "sendToConnection", "hub": "chat", "connectionId": "c/1", "payload": PAYLOAD},
     "POST", "/api/v1/hubs/chat/connections/c%2F1", []),
    ({"operation": "sendToGroup", "hub": "chat", "group": "room-1", "payload": PAYLOAD, "excluded": ["c"]},
     "POST", "/api/v1/hubs/chat/groups/room-1", [("excluded", "c")]),
    ({"operation": "closeConnection", "hub": "chat", "connectionId": "c1", "reason": "bye now"},
     "DELETE", "/api/v1/hubs/chat/connections/c1", [("reason", "bye now")]),
    ({"operation": "addConnectionToGroup", "hub": "chat", "group": "g", "connectionId": "c1"},
     "PUT", "/api/v1/hubs/chat/groups/g/connections/c1", []),
    ({"operation": "removeConnectionFromGroup", "hub": "chat", "group": "g", "connectionId": "c1"},
     "DELETE", "/api/v1/hubs/chat/groups/g/connections/c1", []),
    ({"operation": "addUserToGroup", "hub": "chat", "group": "g", "user": "u", "ttl": 60},
     "PUT", "/api/v1/hubs/chat/groups/g/users/u", [("ttl", "60")]),
    ({"operation": "removeUserFromGroup", "hub": "chat", "group": "g", "user": "u"},
     "DELETE", "/api/v1/hubs/chat/groups/g/users/u", []),
    ({"operation": "removeUserFromAllGroups", "hub": "chat", "user": "u"},
     "DELETE", "/api/v1/hubs/chat/users/u/groups", []),
]

VERSION = ("api-version", "2024-12-01")
COMMANDS = [{"type": "SendMessage", "message": PAYLOAD}, {"type": "CloseConnection", "reason": "bye"}]

# Each queueable 2024-12-01 operation: message, expected upstream method, raw path, query, status to answer.
DATED_CASES = [
    ({"operation": "closeAllConnections", "hub": "chat", "excluded": ["c1"], "reason": "maintenance"},
     "POST", "/api/hubs/chat/:closeConnections", [("excluded", "c1"), ("reason", "maintenance"), VERSION], 204),
    ({"operation": "closeGroupConnections", "hub": "chat", "group": "g 1"},
     "POST", "/api/hubs/chat/groups/g%201/:closeConnections", [VERSION], 204),
    ({"operation": "closeUserConnections", "hub": "chat", "user": "u1", "reason": "kicked"},
     "POST", "/api/hubs/chat/users/u1/:closeConnections", [("reason", "kicked"), VERSION], 204),
    ({"operation": "removeConnectionFromAllGroups", "hub": "chat", "connectionId": "c1"},
     "DELETE", "/api/hubs/chat/connections/c1/groups", [VERSION], 200),
    ({"operation": "executeCommands", "hub": "chat", "filter": "'g' in groups", "commands": COMMANDS},
     "POST", "/api/hubs/chat/:execute", [("filter", "'g' in groups"), VERSION], 202),
]
# Messages for the 2024-12-01 operations that must be dead-lettered: (message, reason prefix).
DATED_DEAD_LETTERS = [
    ({"operation": "executeCommands", "hub": "chat", "filter": "userId eq", "commands": COMMANDS}, "validation"),
    ({"operation": "executeCommands", "hub": "chat", "payload": COMMANDS}, "validation"),
    ({"operation": "closeUserConnections", "hub": "chat", "user": "u", "excluded": ["c"] * 101}, "validation"),
    ({"operation": "listConnectionsInGroup", "hub": "chat", "group": "g"}, "operation-not-allowed"),
    ({"operation": "invokeConnection", "hub": "chat", "connectionId": "c", "payload": PAYLOAD},
     "operation-not-allowed"),
]
