"""A secret every worker of one deployment shares, kept in the idempotency table (no app setting holds it).

The facade needs one such secret: the key its page tokens are sealed with, when no
``SIGNALR_PAGE_TOKEN_SECRET`` is set and the connection strings carry no access key (the
managed-identity deployment Bicep makes). The first worker that needs it inserts a random value;
an insert that conflicts means another worker was first, and its value is read instead. Every
worker then holds the same value for its life. Only the function's identity can read the table
(Bicep grants Storage Table Data Contributor on it alone).

Rotation: delete the entity (PartitionKey ``~facade``, RowKey the secret's name); workers started
after that create and use a new one. Page tokens sealed with the old one are then refused (400) and
callers start their listing again.
"""

from __future__ import annotations

import secrets
from functools import partial
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from functions.core.idempotency.store import IdempotencyStore

# '~' never starts a record's partition (the hex digest of its scope), so no key can collide with it.
PARTITION = "~facade"


def shared_secret(store: IdempotencyStore, name: str) -> str:
    """The deployment's secret ``name``: created by the first worker to ask, read by every other.

    Raises ``IdempotencyUnavailable`` (503) when the table cannot be reached: nothing is sealed with
    a key the other workers would not know."""
    from azure.core.exceptions import ResourceExistsError

    table = store.table
    entity = {"PartitionKey": PARTITION, "RowKey": name, "Secret": secrets.token_urlsafe(32)}
    try:
        store._with_table(f"create the shared secret {name}", partial(table.create_entity, entity),
                          ResourceExistsError)
        return str(entity["Secret"])
    except ResourceExistsError:
        found = store._call(f"read the shared secret {name}", partial(table.get_entity, PARTITION, name))
        return str(found["Secret"])
