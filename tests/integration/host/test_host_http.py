from __future__ import annotations

import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from devstack.host import LocalHost

from .helpers import SAMPLE_APP, STATIC_DIR, raw_request


def test_a_request_round_trips_through_func_http_request_and_response(http_host):
    response = raw_request(
        http_host,
        "POST",
        "/api/echo/x?tag=a&tag=b&empty=&q=%C3%A9",
        headers={"X-Custom": "v1", "X-Status": "201", "Content-Type": "text/plain"},
        body="héllo".encode(),
    )
    assert response.status == 201
    assert response.header("X-Multi") == ["one", "two"]
    assert response.header("Content-Type") == ["application/json"]
    seen = response.json()
    assert seen["method"] == "POST"
    assert seen["url"] == f"http://127.0.0.1:{http_host.port}/api/echo/x?tag=a&tag=b&empty=&q=%C3%A9"
    assert seen["params"] == {"tag": "a,b", "empty": "", "q": "é"}
    assert seen["headers"]["x-custom"] == "v1"
    assert seen["body"] == "héllo"
    assert seen["route_params"] == {"name": "x"}


def test_a_string_result_is_a_200_text_response(http_host):
    response = raw_request(http_host, "GET", "/api/plain")
    assert (response.status, response.body) == (200, b"just a string")
    assert response.header("Content-Type") == ["text/plain; charset=utf-8"]


def test_an_exception_is_a_500_that_leaks_nothing(http_host, caplog):
    response = raw_request(http_host, "GET", "/api/boom")
    assert response.status == 500
    assert b"secret" not in response.body
    assert b"Traceback" not in response.body
    assert "secret-internal-detail" in caplog.text  # logged on the host side only


def test_sync_functions_run_concurrently_in_the_thread_pool(http_host):
    started = time.monotonic()
    with ThreadPoolExecutor(2) as pool:
        names = list(
            pool.map(lambda _: raw_request(http_host, "GET", "/api/slow?s=1").body.decode(), range(2))
        )
    assert time.monotonic() - started < 1.8
    assert all(n.startswith("func-worker") for n in names)
    assert names[0] != names[1]


def test_async_functions_are_awaited_on_the_host_loop(http_host):
    started = time.monotonic()
    with ThreadPoolExecutor(3) as pool:
        bodies = list(pool.map(lambda _: raw_request(http_host, "GET", "/api/aslow?s=0.8").body, range(3)))
    assert time.monotonic() - started < 1.6
    assert bodies == [b"async on devstack-host"] * 3


def test_bodies_over_the_cap_are_413_and_headers_over_32_kb_are_431(http_host):
    assert raw_request(http_host, "POST", "/api/echo/x", body=b"x" * (2 * 1024 * 1024)).status == 200
    assert raw_request(http_host, "POST", "/api/echo/x", body=b"x" * (2 * 1024 * 1024 + 1)).status == 413
    assert raw_request(http_host, "GET", "/api/echo/x", headers={"X-Big": "a" * 40_000}).status == 431
    assert raw_request(http_host, "GET", "/api/echo/" + "a" * 9000).status == 414


def test_static_files_are_served_outside_the_route_prefix(http_host):
    index = raw_request(http_host, "GET", "/")
    assert index.status == 200
    assert b"demo page" in index.body
    assert index.header("Content-Type")[0].startswith("text/html")
    assert raw_request(http_host, "GET", "/lib/extra.js").body == (STATIC_DIR / "site.css").read_bytes()
    assert raw_request(http_host, "GET", "/../conftest.py").status == 404
    assert raw_request(http_host, "GET", "/%2e%2e/conftest.py").status == 404
    assert raw_request(http_host, "POST", "/site.css").status == 405


def test_local_settings_fill_the_environment_unless_already_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("PRESET_SETTING", "from-environment")
    monkeypatch.setenv("FILE_SETTING", "")  # set but empty: Core Tools still takes the file's value
    settings = tmp_path / "local.settings.json"
    values = {"PRESET_SETTING": "from-file", "FILE_SETTING": "from-file", "FLAG": True}
    settings.write_text(json.dumps({"IsEncrypted": False, "Values": values}))
    monkeypatch.delenv("FLAG", raising=False)
    with LocalHost("function_app", SAMPLE_APP, port=0, settings_file=settings) as host:
        read = {n: raw_request(host, "GET", f"/api/setting/{n}").body.decode() for n in values}
    monkeypatch.delenv("FLAG", raising=False)
    assert read == {"PRESET_SETTING": "from-environment", "FILE_SETTING": "from-file", "FLAG": "True"}


def _open_threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith(("devstack-host", "func-worker"))}


def test_stop_releases_the_port_and_every_thread():
    before = _open_threads()
    host = LocalHost("function_app", SAMPLE_APP, port=0)
    host.start()
    port = host.port
    assert raw_request(host, "GET", "/api/slow?s=0").status == 200
    host.stop()
    assert _open_threads() == before
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    with socket.socket() as rebind:
        rebind.bind(("127.0.0.1", port))  # free again
