"""The 2024-12-01 operations with more behaviour than a state change: paging, ``:execute``, ``:invoke``.

Shapes and statuses from the 2024-12-01 swagger (Azure/azure-signalr ``docs/swagger/v20241201.json``):
- list a group's connections: ``{"value": [{connectionId, userId}], "nextLink"}``, ``maxpagesize``
  1-200 (default 200), ``top``, and an opaque ``continuationToken`` carried in ``nextLink``;
- ``:execute?filter=``: a JSON array of ``SendMessage``/``JoinGroup``/``LeaveGroup``/
  ``CloseConnection`` commands run on every matching connection, 202;
- ``:invoke``: an ``Invocation`` with an ``invocationId`` goes to the client, whose ``Completion``
  comes back as 200 ``{"result": ...}``. The swagger documents only the 200; this emulator answers
  a client's error with 400 and an ErrorDetail, a client that does not answer within
  ``Timings.invoke_timeout`` with 408, and a connection that is gone with 404.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web

from . import protocol
from .filter import FilterSyntaxError, View, compile_filter
from .names import valid_group
from .rest_ops import Call, _empty, bad_request

MAX_PAGE_SIZE = 200


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"code": code, "message": message}, status=status, headers={"x-ms-error-code": code})


def _int_query(call: Call, name: str, low: int, high: int, default: int | None) -> int | None:
    raw = call.request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as e:
        raise bad_request(f"The value of '{name}' is not a valid integer.") from e
    if not low <= value <= high:
        raise bad_request(f"The value of '{name}' must be between {low} and {high}.")
    return value


def _read_token(raw: str | None) -> tuple[str, int]:
    """(last connection id served, how many served so far) from an emulator continuation token."""
    if raw is None:
        return "", 0
    try:
        after, served = json.loads(base64.urlsafe_b64decode(raw.encode() + b"==").decode())
        return str(after), int(served)
    except (ValueError, TypeError) as e:
        raise bad_request("The continuation token is invalid.") from e


def _make_token(after: str, served: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([after, served]).encode()).decode().rstrip("=")


async def list_connections_in_group(call: Call) -> web.Response:
    page_size = _int_query(call, "maxpagesize", 1, MAX_PAGE_SIZE, MAX_PAGE_SIZE)
    top = _int_query(call, "top", 1, 2**31 - 1, None)
    after, served = _read_token(call.request.query.get("continuationToken"))
    hub = call.hub
    members = sorted(c for c in hub.group_members(call.params["group"]) if c > after)
    room = page_size if top is None else min(page_size, top - served)
    page = members[:max(room, 0)]
    value = [{"connectionId": c, **({"userId": hub.connections[c].user} if hub.connections[c].user else {})}
             for c in page]
    body: dict[str, Any] = {"value": value}
    served += len(page)
    if page and len(members) > len(page) and (top is None or served < top):
        query = [("maxpagesize", page_size), *([("top", top)] if top is not None else []),
                 ("continuationToken", _make_token(page[-1], served)), ("api-version", "2024-12-01")]
        request = call.request
        path = "/api/hubs/{}/groups/{}/connections".format(quote(hub.name, safe=""),
                                                          quote(call.params["group"], safe=""))
        body["nextLink"] = f"{request.scheme}://{request.host}{path}?{urlencode(query)}"
    return web.json_response(body)


def _commands(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise bad_request("The request body must be an array of commands.")
    for command in raw:
        kind = command.get("type") if isinstance(command, dict) else None
        if kind == "SendMessage":
            message = command.get("message")
            if not isinstance(message, dict) or not isinstance(message.get("target"), str):
                raise bad_request("SendMessage needs a message with a target.")
        elif kind in ("JoinGroup", "LeaveGroup"):
            if not isinstance(command.get("group"), str) or not valid_group(command["group"]):
                raise bad_request(f"{kind} needs a valid group.")
        elif kind != "CloseConnection":
            raise bad_request("Unknown command type.")
    return raw


async def execute(call: Call) -> web.Response:
    try:
        commands = _commands(json.loads(await call.request.read()))
    except ValueError as e:
        raise bad_request("The request body is not valid JSON.") from e
    raw_filter = call.request.query.get("filter")
    try:
        matches = compile_filter(raw_filter) if raw_filter else (lambda view: True)
    except FilterSyntaxError as e:
        raise bad_request(f"Invalid filter: {e}") from e
    hub = call.hub
    snapshot = hub.snapshot()["connections"]
    targets = [c for c, info in snapshot.items()
               if matches(View(info["user"], c, frozenset(info["groups"])))]
    for command in commands:
        kind = command["type"]
        for connection_id in targets:
            if kind == "SendMessage":
                message = command["message"]
                hub.deliver([connection_id], protocol.invocation(message["target"], message.get("arguments") or []))
            elif kind == "JoinGroup":
                hub.add_to_group(connection_id, command["group"])
            elif kind == "LeaveGroup":
                hub.remove_from_group(connection_id, command["group"])
            else:
                connection = hub.remove(connection_id)
                if connection is not None:
                    connection.close(command.get("reason") or None)
    return _empty(202)


async def invoke(call: Call) -> web.Response:
    try:
        body = json.loads(await call.request.read())
    except ValueError as e:
        raise bad_request("The request body is not valid JSON.") from e
    if not isinstance(body, dict) or not isinstance(body.get("target"), str) or not body["target"]:
        raise bad_request("The message needs a non-empty 'target'.")
    connection = call.hub.connections.get(call.params["connectionId"])
    if connection is None or connection.closing:
        return _empty(404, "Warning.Connection.NotExisted")
    future = connection.invoke(body["target"], body.get("arguments") or [])
    try:
        completion = await asyncio.wait_for(future, call.emulator.timings.invoke_timeout)
    except TimeoutError:
        return _error(408, "Error.Invocation.Timeout", "The client did not answer in time.")
    except ConnectionResetError:
        return _empty(404, "Warning.Connection.NotExisted")
    finally:
        for invocation_id, pending in list(connection.pending.items()):
            if pending is future:
                connection.forget(invocation_id)
    if "error" in completion:
        return _error(400, "Error.Invocation.ClientError", str(completion["error"])[:1024])
    return web.json_response({"result": completion.get("result")})
