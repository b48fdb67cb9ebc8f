"""The unit lane (in-process, no Node, no Azurite); fixtures for the facade's functions, named after what
they return."""

from __future__ import annotations

import pytest

from support.http_calls import function_caller
from support.lanes import lane

pytest_itemcollected = lane("unit")


@pytest.fixture
def call(registered_functions, secured_env, identity_provider):
    """Call a registered HTTP function by name: ``call(name, method, route_params, query, body=...)``."""
    return function_caller(registered_functions, identity_provider)


@pytest.fixture(scope="session")
def more_upstream_servers():
    """Two more SignalR stand-ins, for facades with several endpoints."""
    from support.recording_upstream import RecordingUpstream

    servers = [RecordingUpstream().start(), RecordingUpstream().start()]
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture
def three_endpoints(secured_env, upstream, more_upstream_servers):
    """The facade over three stand-ins: ``default`` (primary), ``west`` (primary), ``east`` (secondary).

    Returns the stand-ins by endpoint name; the router's probes are run by the tests (``probe_all``).
    """
    from devstack.constants import DEV_ACCESS_KEY
    from functions.core.facade import reset_facade

    west, east = more_upstream_servers
    for server in (west, east):
        server.reset()
    for name, kind, server in (("west", "primary", west), ("east", "secondary", east)):
        secured_env.setenv(f"Azure__SignalR__Endpoints__{name}__{kind}",
                           f"Endpoint=http://127.0.0.1;Port={server.port};AccessKey={DEV_ACCESS_KEY};Version=1.0;")
    reset_facade()
    yield {"default": upstream, "west": west, "east": east}
    for server in (west, east):
        server.reset()
