"""What lands on the queue: one envelope per event, with exactly what the client sent."""

from __future__ import annotations

from datetime import UTC, datetime

import jsonschema_rs
import pytest

from functions.upstream.schema import EVENT_SCHEMA

from .conftest import CONNECTED, DISCONNECTED, invocation, service_headers


def messages(event: str = "newMessage", **extra: str) -> dict:
    return service_headers(category="messages", event=event, **extra)


def test_connected_becomes_an_envelope_with_who_and_where(deliver):
    envelope = deliver(service_headers(), CONNECTED).envelope
    assert {k: envelope[k] for k in ("hub", "category", "event", "connectionId", "userId", "clientQuery")} == {
        "hub": "chat", "category": "connections", "event": "connected", "connectionId": "conn-1",
        "userId": "user-1", "clientQuery": "hub=chat&room=blue"}
    assert envelope["claims"] == [{"type": "nameid", "value": "user-1"}, {"type": "role", "value": "admin"}]
    assert envelope["error"] is envelope["target"] is envelope["arguments"] is envelope["invocationId"] is None
    received = datetime.fromisoformat(envelope["receivedAt"])
    assert abs((datetime.now(UTC) - received).total_seconds()) < 60
    jsonschema_rs.validate(EVENT_SCHEMA, envelope)


def test_an_empty_connected_body_is_taken(deliver):
    assert deliver(service_headers(), b"").status == 204


def test_disconnected_carries_the_error(deliver):
    envelope = deliver(service_headers(event="disconnected"), DISCONNECTED).envelope
    assert (envelope["event"], envelope["error"]) == ("disconnected", "The client timed out.")
    jsonschema_rs.validate(EVENT_SCHEMA, envelope)


def test_the_emulators_pascal_case_body_is_read_too(deliver):
    envelope = deliver(service_headers(event="disconnected"), b'{"Type":11,"Error":"gone"}').envelope
    assert envelope["error"] == "gone"


def test_a_send_carries_the_exact_arguments(deliver):
    arguments = ["ana", {"text": "héllo 👋", "n": [1, 2.5, None, True]}]
    envelope = deliver(messages(), invocation("newMessage", arguments)).envelope
    assert (envelope["target"], envelope["arguments"], envelope["invocationId"]) == ("newMessage", arguments, None)
    jsonschema_rs.validate(EVENT_SCHEMA, envelope)


def test_an_invoke_carries_its_invocation_id_and_is_answered_with_no_content(deliver):
    delivery = deliver(messages("echo"), invocation("echo", [1], "7"))
    assert delivery.status == 204
    assert delivery.response.get_body() == b""
    assert delivery.envelope["invocationId"] == "7"


def test_every_envelope_has_its_own_id(deliver):
    ids = {deliver(service_headers(), CONNECTED).envelope["id"] for _ in range(5)}
    assert len(ids) == 5


MSGPACK = {"Content-Type": "application/x-msgpack"}


def _nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def msgpack_invocation(target: str, arguments: list, invocation_id: str | None = None, **options) -> bytes:
    """One MessagePack hub protocol Invocation, length-prefixed (VarInt) as the service posts it."""
    import msgpack

    payload = msgpack.packb([1, {}, invocation_id, target, arguments], **options)
    length, prefix = len(payload), bytearray()
    while True:
        byte, length = length & 0x7F, length >> 7
        prefix.append(byte | (0x80 if length else 0))
        if not length:
            return bytes(prefix) + payload


def test_a_messagepack_send_gives_the_same_envelope_as_json(deliver):
    arguments = ["ana", {"text": "héllo 👋", "n": [1, 2.5, None, True]}]
    from_json = deliver(messages(), invocation("newMessage", arguments)).envelope
    from_msgpack = deliver(messages(**MSGPACK), msgpack_invocation("newMessage", arguments)).envelope
    ignored = {"id", "receivedAt"}
    assert {k: v for k, v in from_msgpack.items() if k not in ignored} == \
        {k: v for k, v in from_json.items() if k not in ignored}
    jsonschema_rs.validate(EVENT_SCHEMA, from_msgpack)


def test_a_messagepack_invoke_carries_its_invocation_id(deliver):
    delivery = deliver(messages("echo", **MSGPACK), msgpack_invocation("echo", [1], "7"))
    assert (delivery.status, delivery.envelope["invocationId"]) == (204, "7")


def test_a_long_messagepack_message_has_a_multi_byte_length_prefix(deliver):
    arguments = ["x" * 20_000]
    assert deliver(messages(**MSGPACK), msgpack_invocation("newMessage", arguments)).envelope["arguments"] == arguments


def test_binary_arguments_become_base64_with_a_marker(deliver):
    import datetime

    import msgpack

    moment = datetime.datetime(2026, 12, 2, 10, 30, tzinfo=datetime.UTC)
    body = msgpack_invocation("upload", [b"\x00\x01\xff", {"at": msgpack.Timestamp.from_datetime(moment)}])
    envelope = deliver(messages("upload", **MSGPACK), body).envelope
    assert envelope["arguments"] == [{"$binary": "AAH/"}, {"at": "2026-12-02T10:30:00Z"}]


@pytest.mark.parametrize("body", [
    msgpack_invocation("newMessage", [{1: "a"}]),
    msgpack_invocation("newMessage", [float("nan")]),
    msgpack_invocation("newMessage", [{"$binary": "AAH/"}]),
    b"\x06" + bytes.fromhex("95 01 80 c0 a1 6e") + b"\xd4\x05\x00",
    msgpack_invocation("newMessage", _nested(80)),
    msgpack_invocation("newMessage", []) + b"\x01\x90",
    msgpack_invocation("newMessage", [])[:-1],
    b"\xff\xff\xff\xff\xff\xff",
    b"\x03" + bytes.fromhex("93 03 80 a1"),
    msgpack_invocation("other", []),
    b"\x03\xc1\xc1\xc1",
    b"\x05" + bytes.fromhex("95 01 80 c0 a1") + b"\xff",
], ids=["integer map key", "NaN", "a map that looks like the marker", "an extension type", "too deep",
        "two messages", "truncated", "an endless length prefix", "a completion", "target differs from event",
        "invalid msgpack", "invalid UTF-8"])
def test_a_messagepack_body_json_cannot_hold_or_that_is_not_the_services_is_400(deliver, body):
    delivery = deliver(messages(**MSGPACK), body)
    assert delivery.status == 400
    assert delivery.queued is None


def test_messagepack_connection_events_are_refused(deliver):
    assert deliver(service_headers(**MSGPACK), CONNECTED).status == 400


def test_a_body_over_one_megabyte_is_413(deliver):
    body = invocation("newMessage", ["x" * (1024 * 1024)])
    delivery = deliver(messages(), body)
    assert delivery.status == 413
    assert delivery.queued is None


@pytest.mark.parametrize(("headers", "body"), [
    (messages(), b'{"type":1,"target":"other","arguments":[]}'),
    (messages(), b'{"type":3,"invocationId":"1"}'),
    (messages(), b'{"type":1,"target":"newMessage","arguments":{}}'),
    (messages(), b'{"type":1,"target":"newMessage","arguments":[],"arguments":[1]}'),
    (messages(), b'{"type":1,"target":"newMessage","arguments":["\\ud800"]}'),
    (messages(), b"not json"),
    (service_headers(event="opened"), CONNECTED),
    (service_headers(category="other"), CONNECTED),
    (service_headers(**{"Content-Type": "text/plain"}), CONNECTED),
    (service_headers(**{"X-ASRS-User-Id": "a\nb"}), CONNECTED),
], ids=["target differs from event", "not an invocation", "arguments not an array", "duplicate key",
        "lone surrogate", "not json", "unknown connection event", "unknown category", "not json media type",
        "control character in user id"])
def test_a_body_or_header_that_is_not_the_services_is_refused(deliver, headers, body):
    delivery = deliver(headers, body)
    assert delivery.status in (400, 415)
    assert delivery.queued is None


def test_the_url_must_name_what_the_headers_name(deliver):
    delivery = deliver(service_headers(), CONNECTED, route={"hub": "other", "category": "connections",
                                                             "event": "connected"})
    assert delivery.status == 400
    assert delivery.queued is None


def test_a_hub_outside_the_allow_list_is_403(deliver, upstream_env):
    from functions.core.facade import reset_facade

    upstream_env.setenv("SIGNALR_ALLOWED_HUBS", "lobby")
    reset_facade()
    delivery = deliver(service_headers(), CONNECTED)
    assert delivery.status == 403
    assert delivery.queued is None
    assert deliver(service_headers(hub="Lobby"), CONNECTED).status == 204


def test_the_application_prefix_is_taken_off_the_hub(deliver, upstream_env):
    from functions.core.facade import reset_facade

    upstream_env.setenv("SIGNALR_APPLICATION", "shop")
    upstream_env.setenv("SIGNALR_ALLOWED_HUBS", "chat")
    reset_facade()
    assert deliver(service_headers(hub="shop_chat"), CONNECTED).envelope["hub"] == "chat"



@pytest.mark.parametrize(("header", "claims"), [
    ("nameid: ana,role: admin", [("nameid", "ana"), ("role", "admin")]),
    ("nameid: ana, role: a, role: b", [("nameid", "ana"), ("role", "a"), ("role", "b")]),
    ("a:b, bare, a: b: c, nameid: ana", [("nameid", "ana")]),
    ("k: : v", [("k", "v")]),
    ("name: Doe, Jane", [("name", "Doe")]),
    (",,nameid:  ana  ,", [("nameid", "ana")]),
    ("k: ", []),
], ids=["comma without space", "repeated type kept", "not two parts dropped", "empty parts dropped",
        "a comma cuts the value", "empty entries and spaces", "empty value dropped"])
def test_claims_are_split_as_the_functions_extension_splits_them(deliver, header, claims):
    # SignalRTriggerUtils.GetClaimDictionary: ',' (empty entries dropped), then ': ' (empty parts
    # dropped), exactly two parts, both trimmed; the envelope keeps repeated types (documented).
    envelope = deliver(service_headers(**{"X-ASRS-User-Claims": header}), CONNECTED).envelope
    assert [(c["type"], c["value"]) for c in envelope["claims"]] == claims


@pytest.mark.parametrize(("query", "kept"), [
    ("?hub=chat&id=tok&access_token=eyJ.secret.sig&room=blue", "hub=chat&room=blue"),
    ("?access_token=eyJ.secret.sig", None),
    ("?Access_Token=a&ACCESS%5FTOKEN=b&ID=c&asrs.op=x&ASRS.s.uid=y&room=a%26b", "room=a%26b"),
    ("access_token=a&&room=blue&", "room=blue"),
    ("?room=blue&id", "room=blue"),
    ("?room=a+b&idx=1&asrs=2", "room=a+b&idx=1&asrs=2"),
], ids=["the service's own", "only a token", "any case, encoded", "empty pairs", "a bare id", "look-alikes kept"])
def test_the_client_query_loses_the_token_and_the_services_parameters(deliver, query, kept):
    delivery = deliver(service_headers(**{"X-ASRS-Client-Query": query}), CONNECTED)
    assert delivery.envelope["clientQuery"] == kept
    assert "secret" not in delivery.queued


def _padded(deliver, padding: str, extra: int):
    """An event whose queue message is ``extra`` bytes over (or under) the 64 KiB limit."""
    from functions.upstream.receiver import MAX_QUEUE_MESSAGE

    base = deliver(messages(), invocation("newMessage", [""], "1"))
    size = len(base.queued.encode("utf-8")) + 4 * base.queued.count("&")
    unit = 5 if padding == "&" else len(padding.encode("utf-8"))
    count, rest = divmod(MAX_QUEUE_MESSAGE - size + extra, unit)
    return deliver(messages(), invocation("newMessage", [padding * count + "x" * rest], "1"))


@pytest.mark.parametrize("padding", ["x", "&"], ids=["plain", "xml-escaped"])
def test_an_event_that_fills_one_queue_message_exactly_is_queued(deliver, padding):
    delivery = _padded(deliver, padding, 0)
    assert delivery.status == 204
    assert len(delivery.queued.encode("utf-8")) + 4 * delivery.queued.count("&") == 64 * 1024


@pytest.mark.parametrize("padding", ["x", "&"], ids=["plain", "xml-escaped"])
def test_an_event_one_byte_over_a_queue_message_is_413_and_nothing_is_queued(deliver, padding):
    delivery = _padded(deliver, padding, 1)
    assert delivery.status == 413
    assert delivery.queued is None


def test_an_event_between_a_queue_message_and_the_services_limit_is_413(deliver):
    delivery = deliver(messages(), invocation("newMessage", ["x" * (512 * 1024)]))
    assert (delivery.status, delivery.queued) == (413, None)
    assert "65536" in delivery.response.get_body().decode()


def test_msgpack_is_not_imported_at_cold_start():
    import subprocess
    import sys
    from pathlib import Path

    code = "import sys, function_app; print('msgpack' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parents[3], capture_output=True,
                            text=True, timeout=60, check=True)
    assert result.stdout.strip() == "False"
