"""CORS from local settings' Host.CORS / Host.CORSCredentials, as the Functions host applies it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.host import LocalHost
from devstack.host.config import ConfigError, read_local_settings
from devstack.host.cors import CorsConfigError, CorsPolicy

from .helpers import SAMPLE_APP, raw_request

FRONT_END = "https://app.contoso.com"


@pytest.fixture(scope="module")
def cors_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalHost]:
    settings = tmp_path_factory.mktemp("cors") / "local.settings.json"
    settings.write_text(json.dumps({"IsEncrypted": False, "Values": {},
                                    "Host": {"CORS": f"{FRONT_END},http://localhost:3000", "CORSCredentials": True}}))
    host = LocalHost("function_app", SAMPLE_APP, port=0, settings_file=settings)
    host.start()
    yield host
    host.stop()


def test_a_preflight_from_a_listed_origin_is_allowed_with_credentials(cors_host):
    response = raw_request(cors_host, "OPTIONS", "/api/echo/x", headers={
        "Origin": FRONT_END, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"})
    assert response.status == 204
    assert response.header("Access-Control-Allow-Origin") == [FRONT_END]
    assert response.header("Access-Control-Allow-Credentials") == ["true"]
    assert response.header("Access-Control-Allow-Methods") == ["POST"]
    assert response.header("Access-Control-Allow-Headers") == ["authorization,content-type"]


def test_a_preflight_from_another_origin_gets_no_cors_header(cors_host):
    response = raw_request(cors_host, "OPTIONS", "/api/echo/x", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert response.status == 204
    assert response.header("Access-Control-Allow-Origin") == []


def test_an_actual_request_from_a_listed_origin_echoes_it_never_a_wildcard(cors_host):
    response = raw_request(cors_host, "GET", "/api/plain", headers={"Origin": FRONT_END})
    assert response.status == 200
    assert response.header("Access-Control-Allow-Origin") == [FRONT_END]
    assert response.header("Access-Control-Allow-Credentials") == ["true"]
    assert "Origin" in response.header("Vary")


def test_a_request_without_cors_settings_gets_no_cors_header(http_host):
    response = raw_request(http_host, "GET", "/api/plain", headers={"Origin": FRONT_END})
    assert response.header("Access-Control-Allow-Origin") == []


def test_a_wildcard_with_credentials_is_refused_as_asp_net_core_refuses_it(tmp_path: Path):
    with pytest.raises(CorsConfigError):
        CorsPolicy(frozenset({"*"}), allow_credentials=True)
    settings = tmp_path / "local.settings.json"
    settings.write_text(json.dumps({"Values": {}, "Host": {"CORS": "*", "CORSCredentials": True}}))
    with pytest.raises(ConfigError):
        read_local_settings(settings)


def test_the_stack_writes_the_cors_the_template_writes_for_azure(tmp_path: Path):
    from devstack.stack import Ports, Stack

    host = Stack(Ports(7071, 8888, 10001, 7072), tmp_path).host_settings()
    assert host == {"CORS": "http://localhost:7071", "CORSCredentials": True}
