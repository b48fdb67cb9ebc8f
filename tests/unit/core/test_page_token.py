"""Page tokens are the facade's: sealed, bound to their listing, refused otherwise with nothing sent (issue 22, 3)."""

from __future__ import annotations

import base64
import json
import logging
from urllib.parse import parse_qsl, urlsplit

import pytest

from functions.catalog.operations import OPERATIONS_BY_NAME
from functions.core.command import Command
from functions.core.errors import ContinuationRefused
from functions.core.facade import Facade, reset_facade
from functions.core.page_token import PageTokenKeys
from functions.core.settings import PAGE_TOKEN_SECRET, PAGE_TOKEN_SECRET_PREVIOUS, Settings
from support.http_calls import problem
from support.recording_upstream import Answer

LIST = "listConnectionsInGroup"
PAGE = {"value": [{"connectionId": "c1", "userId": "u1"}],
        "nextLink": "https://x.service.signalr.net/api/hubs/chat/groups/g/connections?continuationToken=up-1"}


def json_answer(body):
    return Answer(200, {"Content-Type": "application/json"}, json.dumps(body).encode())


def first_page_token(call, upstream, params=None, query="top=5"):
    upstream.answer(json_answer(PAGE))
    response = call(LIST, "GET", params or {"hub": "chat", "group": "g"}, query)
    assert response.status_code == 200
    link = json.loads(response.get_body())["nextLink"]
    upstream.reset()
    return dict(parse_qsl(urlsplit(link).query))["continuationToken"]


def refused_without_a_call(response, upstream):
    assert response.status_code == 400
    assert problem(response)["type"].endswith(":invalid-continuation-token")
    assert upstream.requests_to("/api/hubs/") == []


def test_a_token_the_facade_issued_is_followed_with_the_service_token_it_carries(call, upstream):
    token = first_page_token(call, upstream)
    assert token != base64.urlsafe_b64encode(b"up-1").decode().rstrip("=")  # sealed, not merely encoded
    upstream.answer(json_answer({"value": []}))
    response = call(LIST, "GET", {"hub": "Chat", "group": "g"}, f"top=5&continuationToken={token}")
    assert response.status_code == 200  # hub names compare case-insensitively, as upstream
    assert ("continuationToken", "up-1") in upstream.requests[0].query


@pytest.mark.parametrize("token", [base64.urlsafe_b64encode(b"forged").decode().rstrip("="), "AAAA", "x",
                                   base64.urlsafe_b64encode(b"\x01" + b"\x00" * 32 + b"t").decode().rstrip("=")])
def test_a_hand_made_token_is_refused_without_a_call(call, upstream, token):
    response = call(LIST, "GET", {"hub": "chat", "group": "g"}, f"continuationToken={token}")
    refused_without_a_call(response, upstream)


@pytest.mark.parametrize(("params", "query"), [
    ({"hub": "chat", "group": "other"}, "top=5"),
    ({"hub": "news", "group": "g"}, "top=5"),
    ({"hub": "chat", "group": "g"}, "top=6"),
    ({"hub": "chat", "group": "g"}, ""),
], ids=["another-group", "another-hub", "another-top", "without-top"])
def test_a_token_sent_with_another_listing_is_refused_without_a_call(call, upstream, params, query):
    token = first_page_token(call, upstream)
    response = call(LIST, "GET", params, f"{query}&continuationToken={token}")
    refused_without_a_call(response, upstream)


def test_a_tampered_token_is_refused_without_a_call(call, upstream):
    token = first_page_token(call, upstream)
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[-1] ^= 1  # the upstream token's last byte
    tampered = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    response = call(LIST, "GET", {"hub": "chat", "group": "g"}, f"top=5&continuationToken={tampered}")
    refused_without_a_call(response, upstream)


def _command(application=None, group="g"):
    return Command(OPERATIONS_BY_NAME[LIST], "chat", {"group": group}, application=application)


def test_a_token_is_bound_to_the_application_and_so_to_the_tenant():
    keys = PageTokenKeys.from_secrets(["s"], "setting")
    token = keys.seal(_command("app_t1"), "up")
    assert keys.open(_command("app_t1"), token) == "up"
    for other in (None, "app_t2", "app"):
        with pytest.raises(ContinuationRefused):
            keys.open(_command(other), token)


def test_rotation_accepts_the_previous_secret_and_issues_with_the_new(call, upstream, secured_env):
    secured_env.setenv(PAGE_TOKEN_SECRET, "old secret")
    reset_facade()
    old = first_page_token(call, upstream)
    secured_env.setenv(PAGE_TOKEN_SECRET, "new secret")
    secured_env.setenv(PAGE_TOKEN_SECRET_PREVIOUS, "old secret")
    reset_facade()
    upstream.answer(json_answer({"value": []}))
    assert call(LIST, "GET", {"hub": "chat", "group": "g"}, f"top=5&continuationToken={old}").status_code == 200
    upstream.reset()
    new = first_page_token(call, upstream)
    secured_env.delenv(PAGE_TOKEN_SECRET_PREVIOUS)
    reset_facade()
    refused_without_a_call(call(LIST, "GET", {"hub": "chat", "group": "g"}, f"top=5&continuationToken={old}"),
                           upstream)
    upstream.answer(json_answer({"value": []}))
    assert call(LIST, "GET", {"hub": "chat", "group": "g"}, f"top=5&continuationToken={new}").status_code == 200


def test_without_a_secret_the_key_comes_from_the_access_key_so_every_worker_agrees(connection_string):
    settings = Settings.from_environ({"AzureSignalRConnectionString": connection_string})
    one, two = Facade(settings).page_tokens, Facade(settings).page_tokens
    assert one.source == "access key"
    assert two.open(_command(), one.seal(_command(), "up")) == "up"
    other_key = connection_string.replace("AccessKey=", "AccessKey=X")
    with pytest.raises(ContinuationRefused):
        Facade(Settings.from_environ({"AzureSignalRConnectionString": other_key})).page_tokens.open(
            _command(), one.seal(_command(), "up"))


def test_entra_only_and_no_secret_fails_safe_with_a_key_per_worker(caplog):
    settings = Settings.from_environ(
        {"AzureSignalRConnectionString": "Endpoint=https://x.service.signalr.net;AuthType=azure.msi;Version=1.0;"})
    with caplog.at_level(logging.WARNING):
        one = Facade(settings).page_tokens
    assert one.source == "worker"
    assert "SIGNALR_PAGE_TOKEN_SECRET" in caplog.text
    assert one.open(_command(), one.seal(_command(), "up")) == "up"
    with pytest.raises(ContinuationRefused):  # another worker cannot follow it, nor can anyone forge one
        Facade(settings).page_tokens.open(_command(), one.seal(_command(), "up"))


def test_the_secrets_never_show_in_the_settings_repr():
    settings = Settings.from_environ({PAGE_TOKEN_SECRET: "s3cr3t-now", PAGE_TOKEN_SECRET_PREVIOUS: "s3cr3t-then"})
    assert settings.page_token_secrets == ("s3cr3t-now", "s3cr3t-then")
    assert "s3cr3t" not in repr(settings)
