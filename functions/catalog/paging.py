"""Paged answers: a page of a group's connections, and who is in a group, built from the pages.

The service's ``nextLink`` is an absolute URL on its own host. A caller never sees it: the
facade keeps only its ``continuationToken``, seals it (functions/core/page_token.py: bound to the
listing, refused when forged or sent with another one) and answers with a
``nextLink`` that is a path on the facade itself, built from the validated route values, so it
can neither point at the upstream host nor at anything the caller chose (no ``Host`` header,
no caller-supplied URL goes into it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from functions.catalog.operations import ROUTE_PREFIX
from functions.catalog.rules import MAX_PAGE_SIZE
from functions.core.command import Command
from functions.core.errors import GroupTooLarge, UpstreamError

# who-is-in-the-group reads at most this many connections (50 pages of 200); a larger group is
# answered with a problem pointing at the paged list rather than with a partial answer.
MAX_GROUP_USERS_CONNECTIONS = 10_000
MAX_GROUP_USERS_PAGES = MAX_GROUP_USERS_CONNECTIONS // MAX_PAGE_SIZE


def upstream_token(body: Any) -> str | None:
    """The continuation token in a page's upstream ``nextLink`` (None on the last page)."""
    link = body.get("nextLink") if isinstance(body, dict) else None
    if link is None or link == "":
        return None
    if not isinstance(link, str):
        raise UpstreamError("SignalR Service answered with a malformed next page link")
    tokens = [value for name, value in parse_qsl(urlsplit(link).query) if name == "continuationToken"]
    if len(tokens) != 1 or not tokens[0]:
        raise UpstreamError("SignalR Service answered with a next page link the facade cannot follow")
    return tokens[0]


def page_items(body: Any) -> list[dict[str, str]]:
    """A page's members, keeping only the documented fields (GroupMember: connectionId, userId)."""
    values = body.get("value") if isinstance(body, dict) else None
    if not isinstance(values, list):
        raise UpstreamError("SignalR Service answered with a page without a 'value' list")
    items = []
    for value in values:
        if not isinstance(value, dict) or not isinstance(value.get("connectionId"), str):
            raise UpstreamError("SignalR Service answered with a page member without a connectionId")
        item = {"connectionId": value["connectionId"]}
        if isinstance(value.get("userId"), str):
            item["userId"] = value["userId"]
        items.append(item)
    return items


Seal = Callable[[Command, str], str]  # (the listing, the upstream token) -> the facade's sealed token


def facade_link(command: Command, token: str, seal: Seal) -> str:
    """The facade's own path for the next page: the validated route values, page options and sealed token."""
    values = {"hub": command.hub, **{k: v for k, v in command.args.items() if isinstance(v, str)}}
    path = command.spec.path.format(**{name: quote(str(value), safe="") for name, value in values.items()})
    query = [(name, command.args[name]) for name in ("maxpagesize", "top") if name in command.args]
    query.append(("continuationToken", seal(command, token)))
    return f"{ROUTE_PREFIX}/{path}?{urlencode(query)}"


def page_answer(command: Command, body: Any, seal: Seal) -> dict[str, Any]:
    answer: dict[str, Any] = {"value": page_items(body)}
    token = upstream_token(body)
    if token is not None:
        answer["nextLink"] = facade_link(command, token, seal)
    return answer


def group_users(fetch_page: Callable[[str | None], Any]) -> dict[str, Any]:
    """Fold every page of a group's connections into distinct users (bounded; see the cap above)."""
    per_user: Counter[str] = Counter()
    anonymous = connections = 0
    token: str | None = None
    for _ in range(MAX_GROUP_USERS_PAGES + 1):
        body = fetch_page(token)
        for item in page_items(body):
            connections += 1
            if "userId" in item:
                per_user[item["userId"]] += 1
            else:
                anonymous += 1
        if connections > MAX_GROUP_USERS_CONNECTIONS:
            break
        token = upstream_token(body)
        if token is None:
            users = [{"userId": user, "connections": count} for user, count in sorted(per_user.items())]
            return {"users": users, "connections": connections, "anonymousConnections": anonymous}
    raise GroupTooLarge(
        f"The group has more than {MAX_GROUP_USERS_CONNECTIONS} connections; "
        "list them a page at a time with GET .../groups/{group}/connections"
    )
