"""The application namespace: only this facade's hubs on a shared SignalR instance reach its queue."""

from __future__ import annotations

import jsonschema_rs
import pytest

from functions.core.settings import Settings
from functions.upstream.schema import EVENT_SCHEMA

from .conftest import CONNECTED, service_headers

TENANT = "3c9a7d1e-2b4f-4e8a-9c6d-5f1e2a3b4c5d"
OTHER_TENANT = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
NAMESPACE = "t" + TENANT.replace("-", "")


@pytest.fixture
def shop(upstream_env):
    from functions.core.facade import reset_facade

    upstream_env.setenv("SIGNALR_APPLICATION", "Shop")
    reset_facade()
    return upstream_env


@pytest.fixture
def multi_tenant_shop(shop):
    from functions.core.facade import reset_facade

    shop.setenv("ENTRA_TENANT_ID", "organizations")
    shop.setenv("ENTRA_ALLOWED_TENANTS", TENANT)
    reset_facade()
    return shop


def test_the_applications_hub_is_taken_with_the_application_in_the_envelope(deliver, shop):
    envelope = deliver(service_headers(hub="shop_chat"), CONNECTED).envelope
    assert (envelope["hub"], envelope["application"], envelope["tenant"]) == ("chat", "shop", None)
    jsonschema_rs.validate(EVENT_SCHEMA, envelope)


@pytest.mark.parametrize("hub", ["chat", "other_chat", "shopchat", "shop_", "shop_foo_chat", "shopx_chat"])
def test_another_applications_hub_is_403_and_nothing_is_queued(deliver, shop, hub):
    delivery = deliver(service_headers(hub=hub), CONNECTED)
    assert delivery.status == 403
    assert delivery.queued is None


def test_without_an_application_every_hub_is_the_facades(deliver):
    envelope = deliver(service_headers(hub="foo_chat"), CONNECTED).envelope
    assert (envelope["hub"], envelope["application"], envelope["tenant"]) == ("foo_chat", None, None)


def test_multi_tenant_hubs_are_taken_per_allowed_tenant(deliver, multi_tenant_shop):
    envelope = deliver(service_headers(hub=f"shop_{NAMESPACE}_chat"), CONNECTED).envelope
    assert (envelope["hub"], envelope["application"], envelope["tenant"]) == ("chat", "shop", TENANT)
    jsonschema_rs.validate(EVENT_SCHEMA, envelope)


@pytest.mark.parametrize("hub", ["shop_chat", f"shop_t{OTHER_TENANT.replace('-', '')}_chat", f"{NAMESPACE}_chat"])
def test_multi_tenant_hubs_of_other_tenants_or_no_tenant_are_403(deliver, multi_tenant_shop, hub):
    delivery = deliver(service_headers(hub=hub), CONNECTED)
    assert delivery.status == 403
    assert delivery.queued is None


@pytest.mark.parametrize(("environ", "problem"), [
    ({"SIGNALR_APPLICATION": "app_foo"}, "SIGNALR_APPLICATION must not contain '_'"),
    ({"SIGNALR_APPLICATION": "app", "SIGNALR_ALLOWED_HUBS": "lobby,foo_chat"},
     "SIGNALR_ALLOWED_HUBS must not name a hub containing '_'"),
])
def test_settings_whose_prefixed_hubs_can_collide_are_a_problem(environ, problem):
    problems = Settings.from_environ(environ).read_problems
    assert any(p.startswith(problem) for p in problems), problems


def test_hubs_with_underscores_are_fine_without_an_application():
    assert not Settings.from_environ({"SIGNALR_ALLOWED_HUBS": "foo_chat"}).read_problems
    assert not Settings.from_environ({"SIGNALR_APPLICATION": "app", "SIGNALR_ALLOWED_HUBS": "chat"}).read_problems


def test_a_colliding_setting_fails_closed(deliver, upstream_env):
    from functions.core.facade import reset_facade

    upstream_env.setenv("SIGNALR_APPLICATION", "app_foo")
    reset_facade()
    delivery = deliver(service_headers(hub="app_foo_chat"), CONNECTED)
    assert delivery.status == 500
    assert delivery.queued is None
