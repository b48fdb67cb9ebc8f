from __future__ import annotations

import json

from devstack.host.config import read_host_json


def test_app_settings_override_host_json_as_in_azure(tmp_path):
    (tmp_path / "host.json").write_text(json.dumps(
        {"version": "2.0", "extensions": {"queues": {"visibilityTimeout": "00:00:30", "batchSize": 16}}}))
    config = read_host_json(tmp_path, {
        "AzureFunctionsJobHost__extensions__queues__visibilityTimeout": "00:00:01",
        "azurefunctionsjobhost__Extensions__Queues__BATCHSIZE": "4",
        "AzureFunctionsJobHost__extensions__http__routePrefix": "facade",
        "UNRELATED": "x",
    })
    assert config.queues.visibility_timeout == 1.0
    assert config.queues.batch_size == 4
    assert config.route_prefix == "facade"


def test_without_overrides_host_json_is_read_as_is(tmp_path):
    (tmp_path / "host.json").write_text(json.dumps({"extensions": {"queues": {"maxDequeueCount": 3}}}))
    assert read_host_json(tmp_path, {}).queues.max_dequeue_count == 3
