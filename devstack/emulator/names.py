"""Input rules the service applies to names (emulator ``ParameterValidator.cs``, swagger)."""

from __future__ import annotations

import re

HUB_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_`,.\[\]]{0,127}")
MAX_NAME = 1024

INVALID_HUB = (
    "Invalid hub name. Valid hub name should be in between 1 and 128 characters long. The first "
    "character must be a letter, other characters can be letters, digits or the following symbols _`,.[]"
)
INVALID_GROUP = "Invalid group name. Valid group name should be in between 1 and 1024 characters long."
INVALID_USER = "Invalid user id. Valid user id should be in between 1 and 1024 characters long."
INVALID_CONNECTION = "Invalid connection id. Valid connection id should be more than 1 characters long"


def valid_hub(hub: str) -> bool:
    return HUB_PATTERN.fullmatch(hub) is not None


def valid_group(group: str) -> bool:
    return 0 < len(group) <= MAX_NAME and not group.isspace()


def valid_user(user: str) -> bool:
    return 0 < len(user) <= MAX_NAME


def valid_connection_id(connection_id: str) -> bool:
    return len(connection_id) > 0
