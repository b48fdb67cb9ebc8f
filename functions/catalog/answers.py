"""JSON schemas of the answers that carry data (for the OpenAPI document; see the catalog's ``answer_schema``).

Shapes from the 2024-12-01 swagger (``GroupMemberPagedValues``, ``ClientInvocationResponse``),
except who-is-in-the-group, which is the facade's own.
"""

from __future__ import annotations

GROUP_MEMBER_SCHEMA = {"type": "object", "required": ["connectionId"], "properties": {
    "connectionId": {"type": "string"}, "userId": {"type": "string"}}}
GROUP_PAGE_SCHEMA = {"type": "object", "required": ["value"], "properties": {
    "value": {"type": "array", "items": GROUP_MEMBER_SCHEMA},
    "nextLink": {"type": "string", "description": "The next page on this facade (a path with its query)."}}}
GROUP_USERS_SCHEMA = {"type": "object", "required": ["users", "connections", "anonymousConnections"], "properties": {
    "users": {"type": "array", "items": {"type": "object", "required": ["userId", "connections"], "properties": {
        "userId": {"type": "string"}, "connections": {"type": "integer", "minimum": 1}}}},
    "connections": {"type": "integer", "minimum": 0},
    "anonymousConnections": {"type": "integer", "minimum": 0}}}
CLIENT_RESULT_SCHEMA = {"type": "object", "properties": {
    "result": {"description": "What the client's handler returned."}, "protocol": {"type": "string"}}}
