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
