"""Who is connected to a hub, and who belongs to which group.

A connection is in a group when it was added itself, or when its user is a member whose
membership has not expired. Membership through the user is computed at send time, so a
user's future connections join automatically and an expired TTL needs no sweeper.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from typing import Any

from .connection import Connection

Clock = Callable[[], float]


class Hub:
    def __init__(self, name: str, clock: Clock = time.monotonic) -> None:
        self.name = name
        self._clock = clock
        self.connections: dict[str, Connection] = {}
        self._user_connections: dict[str, set[str]] = {}
        self._group_connections: dict[str, set[str]] = {}  # explicit connection membership
        self._group_users: dict[str, dict[str, float]] = {}  # group -> user -> expires at

    # connections -------------------------------------------------------------------------

    def add(self, connection: Connection) -> None:
        self.connections[connection.id] = connection
        if connection.user is not None:
            self._user_connections.setdefault(connection.user, set()).add(connection.id)

    def remove(self, connection_id: str) -> Connection | None:
        connection = self.connections.pop(connection_id, None)
        if connection is None:
            return None
        if connection.user is not None:
            _discard(self._user_connections, connection.user, connection_id)
        self.remove_from_all_groups(connection_id)
        return connection

    def user_connections(self, user: str) -> list[Connection]:
        return [self.connections[c] for c in self._user_connections.get(user, ())]

    # groups ------------------------------------------------------------------------------

    def add_to_group(self, connection_id: str, group: str) -> bool:
        if connection_id not in self.connections:
            return False
        self._group_connections.setdefault(group, set()).add(connection_id)
        return True

    def remove_from_group(self, connection_id: str, group: str) -> bool:
        """Drop the connection's own membership; False when it was not in the group at all.

        A connection that is a member only through its user stays one (the user is the
        member); the answer is still True because the group did contain it.
        """
        was_member = connection_id in self.group_members(group)
        _discard(self._group_connections, group, connection_id)
        return was_member

    def remove_from_all_groups(self, connection_id: str) -> None:
        for group in list(self._group_connections):
            _discard(self._group_connections, group, connection_id)

    def add_user_to_group(self, user: str, group: str, ttl: int | None) -> None:
        if ttl == 0:
            # The service's documented meaning: only the user's current connections join.
            for connection_id in self._user_connections.get(user, ()):
                self._group_connections.setdefault(group, set()).add(connection_id)
            return
        expires = math.inf if ttl is None else self._clock() + ttl
        self._group_users.setdefault(group, {})[user] = expires

    def remove_user_from_group(self, user: str, group: str) -> None:
        self._group_users.get(group, {}).pop(user, None)
        if not self._group_users.get(group):
            self._group_users.pop(group, None)
        for connection_id in self._user_connections.get(user, ()):
            _discard(self._group_connections, group, connection_id)

    def remove_user_from_all_groups(self, user: str) -> None:
        for group in list(self._group_users):
            self.remove_user_from_group(user, group)
        for connection_id in self._user_connections.get(user, ()):
            self.remove_from_all_groups(connection_id)

    def user_in_group(self, user: str, group: str) -> bool:
        return self._group_users.get(group, {}).get(user, -math.inf) > self._clock()

    def group_members(self, group: str) -> set[str]:
        members = set(self._group_connections.get(group, ()))
        now = self._clock()
        for user, expires in list(self._group_users.get(group, {}).items()):
            if expires <= now:
                del self._group_users[group][user]
                continue
            members.update(self._user_connections.get(user, ()))
        return members

    # sending -----------------------------------------------------------------------------

    def deliver(self, connection_ids: Iterable[str], frame: str, excluded: Iterable[str] = ()) -> int:
        skip = set(excluded)
        count = 0
        for connection_id in connection_ids:
            connection = self.connections.get(connection_id)
            if connection is not None and connection_id not in skip:
                connection.send(frame)
                count += 1
        return count

    def snapshot(self) -> dict[str, Any]:
        now = self._clock()
        groups = set(self._group_connections) | set(self._group_users)
        return {
            "connections": {
                c.id: {"user": c.user, "groups": sorted(g for g in groups if c.id in self.group_members(g))}
                for c in self.connections.values()
            },
            "groups": {g: sorted(self.group_members(g)) for g in sorted(groups)},
            "userGroups": {
                g: {u: (None if math.isinf(e) else round(e - now, 3)) for u, e in users.items() if e > now}
                for g, users in self._group_users.items()
            },
        }


def _discard(index: dict[str, set[str]], key: str, value: str) -> None:
    members = index.get(key)
    if members is None:
        return
    members.discard(value)
    if not members:
        del index[key]
