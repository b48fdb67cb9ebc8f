"""The data-plane operations, one function each, shared by the v1 and the dated API.

Each returns the status the service answers; a route supplies its own success code where the
two API generations differ (v1 says 202 where 2022-06-01 says 200 or 204).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from . import auth, protocol
from .emulator import Emulator
from .hub_state import Hub

MESSAGE_REQUIRED = "Message in request body is required."
MAX_TTL = 2**31 - 1  # ttl is an int32 of seconds


@dataclass
class Call:
    request: web.Request
    emulator: Emulator
    params: dict[str, str]
    success: int
    dated: bool  # the /api/... (api-version) generation rather than /api/v1

    @property
    def hub_name(self) -> str:
        """The hub addressed: ``{application}_{hub}`` when the ``application`` parameter is given,
        as the service and the Management SDK combine them."""
        application = self.request.query.get("application")
        return f"{application}_{self.params['hub']}" if application else self.params["hub"]

    @property
    def hub(self) -> Hub:
        return self.emulator.hub(self.hub_name)

    @property
    def excluded(self) -> list[str]:
        return self.request.query.getall("excluded", [])


Operation = Callable[[Call], Awaitable[web.StreamResponse]]


def _empty(status: int, error_code: str | None = None) -> web.Response:
    # A 404 carries the x-ms-error-code the Management SDK looks for.
    return web.Response(status=status, headers={"x-ms-error-code": error_code} if error_code else None)


def bad_request(text: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=text, content_type="text/plain")


async def _read_message(call: Call) -> str:
    raw = await call.request.read()  # over client_max_size (1 MB) aiohttp answers 413 itself
    if not raw.strip():
        raise bad_request(MESSAGE_REQUIRED)
    try:
        body: Any = json.loads(raw)
    except ValueError as e:
        raise bad_request("The request body is not valid JSON.") from e
    if not isinstance(body, dict):
        raise bad_request(MESSAGE_REQUIRED)
    target = body.get("target", body.get("Target"))
    arguments = body.get("arguments", body.get("Arguments"))
    if not isinstance(target, str) or not target:
        raise bad_request("The message needs a non-empty 'target'.")
    if arguments is None:
        arguments = []
    if not isinstance(arguments, list):
        raise bad_request("The message's 'arguments' must be an array.")
    return protocol.invocation(target, arguments)


# sends --------------------------------------------------------------------------------------


async def broadcast(call: Call) -> web.Response:
    frame = await _read_message(call)
    hub = call.hub
    hub.deliver(list(hub.connections), frame, call.excluded)
    return _empty(call.success)


async def send_to_user(call: Call) -> web.Response:
    frame = await _read_message(call)
    hub = call.hub
    hub.deliver([c.id for c in hub.user_connections(call.params["user"])], frame)
    return _empty(call.success)


async def send_to_connection(call: Call) -> web.Response:
    frame = await _read_message(call)
    call.hub.deliver([call.params["connectionId"]], frame)
    return _empty(call.success)


async def send_to_group(call: Call) -> web.Response:
    frame = await _read_message(call)
    hub = call.hub
    hub.deliver(hub.group_members(call.params["group"]), frame, call.excluded)
    return _empty(call.success)


# existence checks ---------------------------------------------------------------------------


async def connection_exists(call: Call) -> web.Response:
    if call.params["connectionId"] in call.hub.connections:
        return _empty(200)
    return _empty(404, "Warning.Connection.NotExisted")


async def user_exists(call: Call) -> web.Response:
    if call.hub.user_connections(call.params["user"]):
        return _empty(200)
    return _empty(404, "Warning.User.NotExisted")


async def group_exists(call: Call) -> web.Response:
    if call.hub.group_members(call.params["group"]):
        return _empty(200)
    return _empty(404, "Warning.Group.NotExisted")


async def user_in_group(call: Call) -> web.Response:
    if call.hub.user_in_group(call.params["user"], call.params["group"]):
        return _empty(200)
    return _empty(404, "Info.User.NotInGroup")


# connections --------------------------------------------------------------------------------


async def close_connection(call: Call) -> web.Response:
    hub = call.hub
    connection = hub.remove(call.params["connectionId"])
    if connection is None:
        return _empty(404, "Warning.Connection.NotExisted")
    connection.close(call.request.query.get("reason") or None)
    return _empty(call.success)


async def add_connection_to_group(call: Call) -> web.Response:
    if call.hub.add_to_group(call.params["connectionId"], call.params["group"]):
        return _empty(200)
    return _empty(404, "Error.Connection.NotExisted")


async def remove_connection_from_group(call: Call) -> web.Response:
    hub = call.hub
    connection_id = call.params["connectionId"]
    if connection_id not in hub.connections:
        return _empty(404, "Error.Connection.NotExisted")
    hub.remove_from_group(connection_id, call.params["group"])
    return _empty(200)


async def remove_connection_from_all_groups(call: Call) -> web.Response:
    call.hub.remove_from_all_groups(call.params["connectionId"])
    return _empty(call.success)


# users and groups ---------------------------------------------------------------------------


async def add_user_to_group(call: Call) -> web.Response:
    raw_ttl = call.request.query.get("ttl")
    ttl: int | None = None
    if raw_ttl is not None:
        try:
            ttl = int(raw_ttl)
        except ValueError as e:
            raise bad_request("The value of 'ttl' is not a valid integer.") from e
        if not 0 <= ttl <= MAX_TTL:
            raise bad_request("The value of 'ttl' must be between 0 and 2147483647.")
    call.hub.add_user_to_group(call.params["user"], call.params["group"], ttl)
    return _empty(call.success)


async def remove_user_from_group(call: Call) -> web.Response:
    call.hub.remove_user_from_group(call.params["user"], call.params["group"])
    return _empty(call.success)


async def remove_user_from_all_groups(call: Call) -> web.Response:
    call.hub.remove_user_from_all_groups(call.params["user"])
    return _empty(call.success)


async def close_connections(call: Call) -> web.Response:
    hub = call.hub
    if "group" in call.params:
        targets = hub.group_members(call.params["group"])
    elif "user" in call.params:
        targets = {c.id for c in hub.user_connections(call.params["user"])}
    else:
        targets = set(hub.connections)
    reason = call.request.query.get("reason") or None
    for connection_id in targets - set(call.excluded):
        connection = hub.remove(connection_id)
        if connection is not None:
            connection.close(reason)
    return _empty(call.success)


# misc ---------------------------------------------------------------------------------------


async def health(call: Call) -> web.Response:
    return _empty(200)


async def generate_token(call: Call) -> web.Response:
    query = call.request.query
    try:
        minutes = int(query.get("minutesToExpire", "60"))
    except ValueError as e:
        raise bad_request("The value of 'minutesToExpire' is not a valid integer.") from e
    if minutes < 1:
        raise bad_request("The value of 'minutesToExpire' must be at least 1.")
    user = query.get("userId") or None
    audience = auth.client_audience(call.request.scheme, call.request.host, call.hub_name)
    token = auth.mint_client_token(call.emulator.access_key, audience, user, minutes * 60)
    return web.json_response({"token": token})
