"""``python -m devstack up --endpoints N``: N emulators, each a named primary endpoint of the facade."""

from __future__ import annotations

from devstack.__main__ import parse_args
from devstack.constants import DEV_ACCESS_KEY
from devstack.stack import Ports, Stack
from functions.core.settings import Settings


def test_endpoints_flag_defaults_to_one_and_takes_up_to_four():
    assert parse_args(["up"]).endpoints == 1
    assert parse_args(["up", "--endpoints", "2"]).endpoints == 2


def test_each_extra_emulator_is_a_primary_endpoint_the_facade_reads_without_problems(tmp_path):
    stack = Stack(Ports(7071, 8888, 10001, 7072), tmp_path, extra_emulator_ports=(8889, 8890))
    main = f"Endpoint=http://127.0.0.1;Port=8888;AccessKey={DEV_ACCESS_KEY};Version=1.0;"
    settings = Settings.from_environ({"AzureSignalRConnectionString": main, **stack.endpoint_settings()})
    assert [(e.name, e.type, e.info.endpoint) for e in settings.signalr_endpoints] == [
        ("default", "primary", "http://127.0.0.1:8888"),
        ("emulator2", "primary", "http://127.0.0.1:8889"),
        ("emulator3", "primary", "http://127.0.0.1:8890"),
    ]
    assert settings.read_problems == ()
