from __future__ import annotations

import logging
import time

import jwt
import pytest

from devstack.constants import DEV_ACCESS_KEY, free_port
from functions.catalog.operations import OPERATIONS_BY_NAME
from functions.core.command import build_command
from functions.core.errors import (
    ClientInvocationFailed,
    PayloadTooLarge,
    UpstreamMisconfigured,
    UpstreamRejected,
    UpstreamServerError,
    UpstreamTimeout,
    UpstreamUnavailable,
    ValidationError,
)
from functions.signalr.client import SignalRClient
from functions.signalr.connection_string import parse_connection_string
from functions.signalr.transport import RetryPolicy, Timeouts
from support.recording_upstream import Answer

FAST_RETRY = RetryPolicy(attempts=3, backoff=0.05, backoff_max=0.2, max_retry_after=2)
BODY = {"target": "t", "arguments": []}


@pytest.fixture
def client(connection_string):
    return SignalRClient(parse_connection_string(connection_string), retry=FAST_RETRY,
                         timeouts=Timeouts(connect=1, read=0.5))


def send(client, op="broadcast", **inputs):
    spec = OPERATIONS_BY_NAME[op]
    return client.execute(build_command(spec, {"hub": "Chat", **inputs}, BODY if spec.has_body else None))


def test_the_bearer_is_an_hs256_jwt_for_the_exact_url_without_port(client, upstream):
    send(client, "sendToGroup", group="a/../b?x=1#y")
    (request,) = upstream.requests
    assert request.raw_path == "/api/v1/hubs/chat/groups/a%2F..%2Fb%3Fx%3D1%23y"
    assert jwt.get_unverified_header(request.bearer)["alg"] == "HS256"
    claims = jwt.decode(request.bearer, DEV_ACCESS_KEY, algorithms=["HS256"],
                        audience="http://127.0.0.1/api/v1/hubs/chat/groups/a%2F..%2Fb%3Fx%3D1%23y")
    assert 3500 <= claims["exp"] - claims["iat"] <= 3600


def test_the_rest_audience_comes_from_endpoint_while_requests_go_to_server_endpoint(upstream):
    """aud = Endpoint's scheme://host (no port) + the request path; the request goes to ServerEndpoint
    (Azure/azure-signalr ServiceEndpoint.cs AudienceBaseUrl; RestApiProvider.cs)."""
    info = parse_connection_string(f"Endpoint=https://demo.service.signalr.net:8443;AccessKey={DEV_ACCESS_KEY};"
                                   f"Version=1.0;ServerEndpoint=http://127.0.0.1:{upstream.port}/")
    client = SignalRClient(info, retry=FAST_RETRY)
    send(client, "sendToUser", user="u1")
    assert client.health() == 200
    rest, health = upstream.requests
    assert rest.path == "/api/v1/hubs/chat/users/u1"
    jwt.decode(rest.bearer, DEV_ACCESS_KEY, algorithms=["HS256"],
               audience="https://demo.service.signalr.net/api/v1/hubs/chat/users/u1")
    jwt.decode(health.bearer, DEV_ACCESS_KEY, algorithms=["HS256"],
               audience="https://demo.service.signalr.net/api/v1/health")


def test_tokens_are_reused_per_audience(client, upstream):
    send(client, "sendToUser", user="u1")
    send(client, "sendToUser", user="u1")
    send(client, "sendToUser", user="u2")
    first, second, third = (r.bearer for r in upstream.requests)
    assert first == second != third


def test_429_with_retry_after_is_waited_out_then_succeeds(client, upstream):
    upstream.answer(Answer(429, {"Retry-After": "1"}))
    started = time.monotonic()
    assert send(client).status == 202
    assert 0.9 <= time.monotonic() - started < 3
    assert len(upstream.requests) == 2


def test_throttling_that_persists_ends_in_503_with_retry_after_after_bounded_tries(client, upstream):
    upstream.default = Answer(429, {"Retry-After": "0"})
    with pytest.raises(UpstreamUnavailable) as caught:
        send(client)
    assert caught.value.status == 503
    assert caught.value.headers() == {"Retry-After": "0"}
    assert len(upstream.requests) == 1 + FAST_RETRY.attempts


def test_a_retry_after_beyond_the_cap_is_handed_back_not_waited(client, upstream):
    upstream.answer(Answer(503, {"Retry-After": "120"}))
    started = time.monotonic()
    with pytest.raises(UpstreamUnavailable) as caught:
        send(client)
    assert time.monotonic() - started < 1
    assert caught.value.retry_after == 120
    assert len(upstream.requests) == 1


def test_a_send_is_not_repeated_after_a_server_error(client, upstream):
    upstream.default = Answer(500)
    with pytest.raises(UpstreamServerError) as caught:
        send(client)
    assert caught.value.status == 502
    assert caught.value.retryable
    assert len(upstream.requests) == 1


def test_an_idempotent_call_is_repeated_after_a_server_error(client, upstream):
    upstream.answer(Answer(500), Answer(502))
    assert send(client, "addUserToGroup", group="g", user="u").status == 202
    assert len(upstream.requests) == 3


def test_connection_refused_is_retried_then_503_in_bounded_time():
    client = SignalRClient(parse_connection_string(f"Endpoint=http://127.0.0.1;Port={free_port()};AccessKey=k"),
                           retry=FAST_RETRY, timeouts=Timeouts(connect=0.5, read=0.5))
    started = time.monotonic()
    with pytest.raises(UpstreamUnavailable):
        send(client)
    assert time.monotonic() - started < 3


def test_a_slow_upstream_times_out_once_with_504_and_is_not_retried(client, upstream):
    upstream.answer(Answer(202, delay=1.5))
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout) as caught:
        send(client)
    assert caught.value.status == 504
    assert time.monotonic() - started < 1.4
    assert len(upstream.requests) == 1


def test_a_dropped_connection_during_a_send_is_not_retried(client, upstream):
    upstream.answer(Answer(202, drop=True))
    with pytest.raises(UpstreamUnavailable):
        send(client)
    assert len(upstream.requests) == 1


@pytest.mark.parametrize("status", [401, 403])
def test_upstream_auth_refusal_is_a_logged_502(client, upstream, caplog, status):
    upstream.answer(Answer(status))
    with caplog.at_level(logging.ERROR), pytest.raises(UpstreamMisconfigured) as caught:
        send(client)
    assert caught.value.status == 502
    assert "refused the facade's credentials" in caplog.text
    assert "ABCDEFGHIJ" not in caplog.text


def test_upstream_400_is_a_permanent_502(client, upstream):
    upstream.answer(Answer(400, body=b"bad"))
    with pytest.raises(UpstreamRejected) as caught:
        send(client)
    assert caught.value.status == 502
    assert not caught.value.retryable


def test_existence_check_404_is_an_answer(client, upstream):
    upstream.answer(Answer(404))
    assert send(client, "userExists", user="u").status == 404


def test_https_endpoints_and_key_fetches_check_tls_against_certifis_bundle():
    import certifi

    from functions.auth.keys import key_fetch_pool

    client = SignalRClient(parse_connection_string(
        f"Endpoint=https://example.service.signalr.net;AccessKey={DEV_ACCESS_KEY};Version=1.0;"))
    pool = client.transport.pool
    assert (pool.scheme, pool.cert_reqs, pool.ca_certs) == ("https", "CERT_REQUIRED", certifi.where())
    keys_pool = key_fetch_pool()
    assert keys_pool.connection_pool_kw["cert_reqs"] == "CERT_REQUIRED"
    assert keys_pool.connection_pool_kw["ca_certs"] == certifi.where()
    client.close()


@pytest.mark.parametrize("value", [
    "", "chat", "user-1_a.b~c", "a/b", "a?b", "a#b", "a b", "%41", ".", "..", "ü", "€uro", "a+b", "a;b", "\u00e9",
    "A" * 300, "x\x7fy", "a:b@c",
])
def test_a_segment_is_encoded_exactly_as_quote_with_nothing_safe(value):
    from urllib.parse import quote

    from functions.signalr.client import encode_segment

    assert encode_segment(value) == quote(value, safe="")


def test_every_ascii_character_is_encoded_as_quote_does():
    from urllib.parse import quote

    from functions.signalr.client import encode_segment

    for code in range(128):
        value = f"a{chr(code)}b"
        assert encode_segment(value) == quote(value, safe=""), repr(value)


@pytest.mark.parametrize(("op", "inputs", "sent", "expected"), [
    ("closeAllConnections", {}, 202, 204),  # the swagger promises 204
    ("addUserToGroup", {"group": "g", "user": "u"}, 204, 202),
    ("broadcast", {}, 200, 202),
    ("addConnectionToGroup", {"group": "g", "connectionId": "c"}, 201, 200),
])
def test_any_2xx_is_success_answered_as_the_catalog_documents(client, upstream, op, inputs, sent, expected):
    upstream.answer(Answer(sent))
    assert send(client, op, **inputs).status == expected


def test_an_undocumented_2xx_on_an_operation_with_an_answer_still_reads_its_json(client, upstream):
    upstream.answer(Answer(203, {"Content-Type": "application/json"}, b'{"result": 7}'))
    result = send(client, "invokeConnection", connectionId="c1")
    assert (result.status, result.body) == (200, {"result": 7})


# -- sizes the service refuses are refused first (issue 23 item 10) ------------------------------------


def test_a_hundred_long_excluded_ids_are_a_400_naming_excluded_not_a_502(client, upstream):
    excluded = [f"{n:03d}" + "c" * 1021 for n in range(100)]
    with pytest.raises(ValidationError) as caught:
        send(client, "sendToGroup", group="g", excluded=excluded)
    assert caught.value.status == 400
    (error,) = caught.value.errors
    assert error.field == "excluded"
    assert "16384" in error.message
    assert upstream.requests == []


def test_a_long_id_in_the_path_counts_twice_with_its_token_and_is_refused_naming_it(client, upstream):
    with pytest.raises(ValidationError) as caught:
        send(client, "sendToUser", user="€" * 1024)  # 9 KB encoded in the path, again in the token's aud
    assert caught.value.errors[0].field == "user"
    assert upstream.requests == []


def test_ids_within_the_limits_still_go_upstream(client, upstream):
    assert send(client, "sendToUser", user="u" * 1024).status == 202
    assert send(client, "sendToGroup", group="g", excluded=["c" * 100] * 100).status == 202


def test_a_body_over_1_mb_as_sent_is_a_413_naming_the_field(client, upstream):
    spec = OPERATIONS_BY_NAME["broadcast"]
    # 200,000 "é" are 400 KB of UTF-8 in, but 1.2 MB out: the JSON sent upstream escapes them as \u00e9.
    command = build_command(spec, {"hub": "chat"}, {"target": "t", "arguments": ["é" * 200_000]})
    with pytest.raises(PayloadTooLarge) as caught:
        client.execute(command)
    assert caught.value.status == 413
    assert "'payload'" in caught.value.detail
    assert upstream.requests == []


# -- where Microsoft documents nothing, a clear 502 with the upstream status (issue 23 item 13) ----------------


@pytest.mark.parametrize("status", [301, 409, 418, 422])
def test_an_undocumented_answer_is_a_502_naming_the_upstream_status_and_message(client, upstream, status):
    upstream.answer(Answer(status, {"Content-Type": "application/json"},
                           b'{"code": "Odd", "message": "not like this\\n"}'))
    with pytest.raises(UpstreamRejected) as caught:
        send(client)
    assert caught.value.status == 502
    assert caught.value.detail == f"SignalR Service answered {status}: not like this"


def test_the_facades_reading_of_an_undocumented_invoke_status_names_the_status_it_read(client, upstream):
    upstream.answer(Answer(400, {"Content-Type": "application/json"}, b'{"message": "handler threw"}'))
    with pytest.raises(ClientInvocationFailed) as caught:
        send(client, "invokeConnection", connectionId="c1")
    assert caught.value.status == 502
    assert "(SignalR Service answered 400): handler threw" in caught.value.detail
