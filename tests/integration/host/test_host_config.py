from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from devstack.host.config import ConfigError, QueueOptions, apply_settings, parse_timespan, read_host_json
from devstack.host.queue_clients import (
    BindingError,
    QueueConnections,
    decode_message,
    encode_message,
    resolve_queue_name,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("00:01:00", 60.0), ("00:00:00.500", 0.5), ("1.02:03:04", 93784.0), ("00:10", 600.0), (2000, 2.0)],
)
def test_timespans_read_like_dotnet(text, seconds):
    assert parse_timespan(text, "x") == pytest.approx(seconds)


def test_missing_host_json_sections_take_the_functions_defaults(tmp_path: Path):
    config = read_host_json(tmp_path)
    assert config.route_prefix == "api"
    q = config.queues
    assert (q.batch_size, q.max_dequeue_count, q.message_encoding) == (16, 5, "base64")
    assert (q.visibility_timeout, q.max_polling_interval) == (0.0, 60.0)
    assert q.new_batch_threshold == QueueOptions().new_batch_threshold


@pytest.mark.parametrize(
    "queues", [{"batchSize": 33}, {"messageEncoding": "utf8"}, {"maxPollingInterval": "00:00:00.050"}]
)
def test_out_of_range_queue_settings_are_refused(tmp_path: Path, queues: dict):
    (tmp_path / "host.json").write_text(json.dumps({"extensions": {"queues": queues}}))
    with pytest.raises(ConfigError):
        read_host_json(tmp_path)


def test_the_environment_wins_over_local_settings():
    env = {"A": "env", "B": ""}
    skipped = apply_settings({"A": "file", "B": "file", "C": "file"}, env)
    assert env == {"A": "env", "B": "file", "C": "file"}
    assert skipped == ["A"]


def test_queue_names_resolve_setting_expressions_and_are_lowercased():
    env = {"Q": "Orders"}
    assert resolve_queue_name("%Q%-invalid", env) == "orders-invalid"
    with pytest.raises(BindingError):
        resolve_queue_name("%MISSING%", env)
    with pytest.raises(BindingError):
        resolve_queue_name("bad--name", env)


def test_base64_round_trip_and_strict_decoding():
    assert decode_message(encode_message("héllo", "base64"), "base64") == "héllo".encode()
    assert decode_message("aGk=\r\n", "base64") == b"hi"
    assert encode_message(b"raw", "none") == "raw"
    with pytest.raises(ValueError, match="not valid base64"):
        decode_message("aGk", "base64")


def test_an_identity_connection_builds_a_client_for_the_service_uri():
    env = {"Cmds__queueServiceUri": "https://acct.queue.core.windows.net", "Cmds__clientId": "id"}

    async def build() -> str:
        connections = QueueConnections(env)
        url = connections.queue("Cmds", "commands").url
        await connections.close()
        return url

    assert asyncio.run(build()) == "https://acct.queue.core.windows.net/commands"
    with pytest.raises(BindingError):
        QueueConnections({}).service("Nothing")
