"""Idempotency keys: the header's rule, scopes that keep callers apart, fingerprints, and the settings."""

from __future__ import annotations

import pytest

from functions.core.errors import ValidationError
from functions.core.idempotency.config import DEFAULT_TABLE, DEFAULT_TTL
from functions.core.idempotency.keys import RecordKey, check_key, fingerprint, http_scope, queue_scope
from functions.core.settings import Settings


@pytest.mark.parametrize("value", ["a", "x" * 255, "order 42/retry #1?", "~!@#$%^&*()_+{}|:\"<>?"])
def test_keys_of_1_to_255_printable_ascii_characters_are_taken(value):
    assert check_key(value) == value


@pytest.mark.parametrize("value", ["", "x" * 256, "tab\there", "caf\u00e9", "line\nbreak", "\x7f"])
def test_other_keys_are_refused_naming_the_header_not_the_value(value):
    with pytest.raises(ValidationError) as raised:
        check_key(value)
    [error] = raised.value.errors
    assert error.field == "Idempotency-Key"
    assert value not in error.message or not value


def test_table_keys_are_fixed_length_digests_whatever_the_caller_chose():
    key = RecordKey(http_scope("T", "O", "A"), "a/b\\c#d?e", "f")
    assert (len(key.partition), len(key.row)) == (32, 64)
    assert (key.partition + key.row).isalnum()


def test_two_callers_with_one_key_have_two_records_in_two_partitions():
    alice = RecordKey(http_scope("t", "alice", "app"), "k", "f")
    bob = RecordKey(http_scope("t", "bob", "app"), "k", "f")
    other_app = RecordKey(http_scope("t", "alice", "other"), "k", "f")
    assert len({alice.row, bob.row, other_app.row}) == 3
    assert alice.partition != bob.partition


def test_a_queues_keys_share_one_partition_so_a_batch_is_one_transaction():
    keys = [RecordKey(queue_scope("signalr-commands"), str(i), "f") for i in range(100)]
    assert len({k.partition for k in keys}) == 1
    assert RecordKey(queue_scope("signalr-commands", "tenant"), "1", "f").partition != keys[0].partition


def test_fingerprints_differ_by_any_part_and_digest_bytes():
    base = fingerprint("broadcast", {"hub": "chat"}, [("excluded", "c1")], b"{}")
    assert base == fingerprint("broadcast", {"hub": "chat"}, [("excluded", "c1")], b"{}")
    assert base != fingerprint("broadcast", {"hub": "chat"}, [("excluded", "c1")], b"{ }")
    assert base != fingerprint("broadcast", {"hub": "chat2"}, [("excluded", "c1")], b"{}")
    assert base != fingerprint("sendToUser", {"hub": "chat"}, [("excluded", "c1")], b"{}")


def test_the_store_defaults_and_the_connection_forms():
    default = Settings.from_environ({})
    assert (default.idempotency.table, default.idempotency.ttl, default.idempotency.configured) == (
        DEFAULT_TABLE, DEFAULT_TTL, False)
    identity = Settings.from_environ({
        "SIGNALR_COMMANDS_STORAGE__tableServiceUri": "https://st.table.core.windows.net",
        "SIGNALR_COMMANDS_STORAGE__credential": "managedidentity",
        "SIGNALR_COMMANDS_STORAGE__clientId": "cid",
        "SIGNALR_IDEMPOTENCY_TABLE": "records", "SIGNALR_IDEMPOTENCY_TTL": "3600"}).idempotency
    assert (identity.table_service_uri, identity.credential, identity.client_id, identity.table, identity.ttl) == (
        "https://st.table.core.windows.net", "managedidentity", "cid", "records", 3600)
    by_account = Settings.from_environ({"SIGNALR_COMMANDS_STORAGE__accountName": "st"}).idempotency
    assert by_account.table_service_uri == "https://st.table.core.windows.net"


@pytest.mark.parametrize(("name", "value"), [("SIGNALR_IDEMPOTENCY_TABLE", "no-dashes"),
                                             ("SIGNALR_IDEMPOTENCY_TABLE", "1starts"),
                                             ("SIGNALR_IDEMPOTENCY_TTL", "30"), ("SIGNALR_IDEMPOTENCY_TTL", "day")])
def test_malformed_idempotency_settings_are_problems_naming_the_setting(name, value):
    settings = Settings.from_environ({name: value})
    assert [p for p in settings.read_problems if p.startswith(name)]
    assert not [p for p in settings.read_problems if value in p]
