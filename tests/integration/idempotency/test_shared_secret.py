"""Page tokens of a managed-identity deployment: one key for every worker, kept in the idempotency table."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from functions.catalog.operations import OPERATIONS_BY_NAME
from functions.core.command import Command
from functions.core.errors import ContinuationRefused, IdempotencyUnavailable
from functions.core.facade import Facade
from functions.core.idempotency.shared_secret import shared_secret
from functions.core.settings import Settings

ENTRA_ONLY = "Endpoint=https://x.service.signalr.net;AuthType=azure.msi;Version=1.0;"
LISTING = Command(OPERATIONS_BY_NAME["listConnectionsInGroup"], "chat", {"group": "g", "top": 5})


def worker(azurite, table: str) -> Facade:
    """A facade as one worker of a deployment builds it: no page-token setting, no access key."""
    return Facade(Settings.from_environ({
        "AzureSignalRConnectionString": ENTRA_ONLY, "SIGNALR_COMMANDS_STORAGE": azurite.connection_string,
        "SIGNALR_IDEMPOTENCY_TABLE": table}))


def test_every_worker_seals_page_tokens_with_the_one_key_the_first_one_stored(azurite):
    first, second = worker(azurite, "pagekeys1"), worker(azurite, "pagekeys1")
    token = first.page_tokens.seal(LISTING, "upstream-1")
    assert second.page_tokens.open(LISTING, token) == "upstream-1"  # followed on another worker
    assert first.page_tokens.source == second.page_tokens.source == "storage"


def test_workers_racing_for_the_key_all_end_up_with_the_same_one(make_store):
    stores = [make_store() for _ in range(8)]
    with ThreadPoolExecutor(8) as pool:
        values = set(pool.map(lambda store: shared_secret(store, "race"), stores))
    assert len(values) == 1


def test_another_deployments_table_holds_another_key(azurite):
    token = worker(azurite, "pagekeys2").page_tokens.seal(LISTING, "upstream-1")
    with pytest.raises(ContinuationRefused):
        worker(azurite, "pagekeys3").page_tokens.open(LISTING, token)


def test_an_unreachable_table_is_503_rather_than_a_key_the_other_workers_do_not_know():
    facade = Facade(Settings.from_environ({
        "AzureSignalRConnectionString": ENTRA_ONLY,
        "SIGNALR_COMMANDS_STORAGE": "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
                                    "TableEndpoint=http://127.0.0.1:9/devstoreaccount1;"}))
    with pytest.raises(IdempotencyUnavailable):
        facade.page_tokens.seal(LISTING, "upstream-1")
