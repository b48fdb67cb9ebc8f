"""Where SignalR's ``application`` goes, per API version (issue 23, items 1 and 2).

v1 defines no ``application`` parameter: the Management SDK's v1 era sent
``/api/v1/hubs/{lower(app)_lower(hub)}`` with no query (Azure/azure-signalr
src/Microsoft.Azure.SignalR.Management/RestApiProvider.cs @ e8d7b434). The dated swagger defines
``application`` in the query on every operation but ``:execute`` and ``:generateToken``, which are
addressed on the prefixed hub (docs/swagger/v20241201.json).
"""

from __future__ import annotations

import pytest

from devstack.constants import DEV_ACCESS_KEY
from functions.catalog.operations import OPERATIONS_BY_NAME
from functions.core.command import build_command
from functions.core.errors import ValidationError
from functions.core.facade import Facade
from functions.core.settings import Settings
from support.recording_upstream import Answer

TENANT = "5e7a1c0d-9b2f-4c3e-8d4a-1f2e3d4c5b6a"
BODY = {"target": "t", "arguments": []}


@pytest.fixture
def facade(upstream):
    def build(**env: str) -> Facade:
        return Facade(Settings.from_environ({
            "AzureSignalRConnectionString":
                f"Endpoint=http://127.0.0.1;Port={upstream.port};AccessKey={DEV_ACCESS_KEY};Version=1.0;",
            "ENTRA_TENANT_ID": TENANT, "ENTRA_AUDIENCES": "api://facade", **env}))
    return build


def forward(facade: Facade, op: str, tenant: str | None = None, **inputs):
    spec = OPERATIONS_BY_NAME[op]
    body = BODY if spec.body is not None and op != "executeCommands" else None
    if op == "executeCommands":
        body = [{"type": "SendMessage", "message": BODY}]
    return facade.forward(build_command(spec, {"hub": "Chat", **inputs}, body), tenant_id=tenant)


def test_v1_operations_carry_the_application_in_the_hub_segment_lower_cased(facade, upstream):
    forward(facade(SIGNALR_APPLICATION="Shop"), "sendToUser", user="U1")
    (request,) = upstream.requests
    assert request.path == "/api/v1/hubs/shop_chat/users/U1"
    assert request.query == []


def test_v1_operations_with_the_tenant_namespace_carry_both_in_the_hub_segment(facade, upstream):
    other = "cccccccc-0000-4000-8000-00000000000c"
    shop = facade(SIGNALR_APPLICATION="shop", ENTRA_TENANT_ID="organizations", ENTRA_ALLOWED_TENANTS=other)
    forward(shop, "broadcast", tenant=other)
    (request,) = upstream.requests
    assert request.path == "/api/v1/hubs/shop_t" + other.replace("-", "") + "_chat"
    assert request.query == []


def test_dated_operations_carry_the_application_in_the_query(facade, upstream):
    upstream.answer(Answer(204))
    forward(facade(SIGNALR_APPLICATION="shop"), "closeAllConnections")
    (request,) = upstream.requests
    assert request.path == "/api/hubs/chat/:closeConnections"
    assert request.query == [("application", "shop"), ("api-version", "2024-12-01")]


def test_execute_takes_no_application_and_is_addressed_on_the_prefixed_hub(facade, upstream):
    forward(facade(SIGNALR_APPLICATION="shop"), "executeCommands", filter="userId eq 'a'")
    (request,) = upstream.requests
    assert request.path == "/api/hubs/shop_chat/:execute"
    assert request.query == [("filter", "userId eq 'a'"), ("api-version", "2024-12-01")]


def test_without_an_application_the_hub_is_alone_and_no_query_is_added(facade, upstream):
    forward(facade(), "sendToUser", user="u1")
    forward(facade(), "executeCommands")
    first, second = upstream.requests
    assert (first.path, first.query) == ("/api/v1/hubs/chat/users/u1", [])
    assert (second.path, second.query) == ("/api/hubs/chat/:execute", [("api-version", "2024-12-01")])


def test_a_prefixed_hub_longer_than_the_service_allows_is_refused_before_anything_goes_upstream(facade, upstream):
    shop = facade(SIGNALR_APPLICATION="s" * 60)
    with pytest.raises(ValidationError) as caught:
        forward(shop, "broadcast", hub="h" * 80)  # 60 + 1 + 80 > 128
    assert caught.value.errors[0].field == "hub"
    assert upstream.requests == []
