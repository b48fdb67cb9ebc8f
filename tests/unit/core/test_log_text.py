"""Every value that reaches a log line is escaped by the one function (issue 22, item 4).

Hostile keys, values and ids (line breaks, ANSI escapes, lone surrogates, line separators) are fed
through each logging call path that carries a value from outside; every record the facade writes
must stay one printable line.
"""

from __future__ import annotations

import json
import logging

import pytest

from functions.core.log_text import MAX_LOG_VALUE, log_safe
from support.bindings import OutCapture, queue_message
from support.recording_upstream import Answer

HOSTILE = ["line\nforged INFO admin logged in", "cr\rlf\r\n", "\x1b[31mred\x1b[0m\x1b[2J", "lone \ud800 surrogate",
           "sep\u2028para\u2029", "nul\x00bell\x07del\x7fc1\x85", "bidi\u202eevil", "back\\nslash"]


def one_printable_line(records: list[logging.LogRecord]) -> None:
    assert records, "the path logged nothing: the test would prove nothing"
    for record in records:
        message = record.getMessage()
        assert message.isprintable(), repr(message)
        message.encode("utf-8")  # no lone surrogate reaches a handler


@pytest.mark.parametrize("value", HOSTILE)
def test_log_safe_makes_any_value_one_printable_line(value):
    safe = log_safe(value)
    assert safe.isprintable()
    safe.encode("utf-8")
    assert "\x1b" not in safe
    assert "\n" not in safe


def test_log_safe_keeps_printable_text_and_escapes_unambiguously():
    assert log_safe("grüße, 世界 ok") == "grüße, 世界 ok"
    assert log_safe("a\\nb") == "a\\\\nb"  # a backslash in the value never reads as the facade's escape
    assert log_safe("a\nb") == "a\\x0ab"
    assert log_safe("\ud800") == "\\ud800"
    assert log_safe(7) == "7"


def test_log_safe_bounds_the_length():
    safe = log_safe("x" * 10_000)
    assert safe == "x" * MAX_LOG_VALUE + f"...({10_000 - MAX_LOG_VALUE} more)"


def _facade_records(caplog):
    return [r for r in caplog.records if r.name.startswith("functions.")]


@pytest.mark.parametrize("key", HOSTILE)
def test_an_invoke_answer_with_a_hostile_key_logs_one_line(call, upstream, caplog, key):
    """The reviewer's finding: a client's key with a line break and an invalid string, through the error path."""
    raw = ('{"result": {' + json.dumps(key) + ': "\\ud800"}}').encode()
    upstream.answer(Answer(200, {"Content-Type": "application/json"}, raw))
    with caplog.at_level(logging.DEBUG):
        response = call("invokeConnection", "POST", {"hub": "h", "connectionId": "c"},
                        body={"target": "ask", "arguments": []})
    assert response.status_code == 502
    one_printable_line(_facade_records(caplog))


@pytest.mark.parametrize("value", HOSTILE)
def test_a_queue_message_with_a_hostile_id_logs_one_line(registered_functions, secured_env, upstream, caplog,
                                                         value):
    function = registered_functions["executeCommand"].get_user_function()
    outputs = [OutCapture() for _ in range(3)]
    body = json.dumps({"operation": "broadcast", "hub": "chat", "id": value, "payload": {"target": value}})
    with caplog.at_level(logging.INFO):
        function(queue_message(body, id=value), *outputs)
    # Dead-lettered (a control character breaks the id's rule) or executed (U+2028, U+202E pass it): one line each.
    one_printable_line(_facade_records(caplog))


@pytest.mark.parametrize("value", HOSTILE)
def test_an_endpoint_outage_reason_logs_one_line(caplog, value):
    from functions.signalr.endpoint_health import EndpointState

    state = EndpointState(value)
    with caplog.at_level(logging.INFO):
        state.mark_down(value)
        state.mark_up()
    one_printable_line(_facade_records(caplog))


@pytest.mark.parametrize("value", HOSTILE)
def test_a_configuration_error_logs_one_line(caplog, value):
    from functions.core.errors import ConfigurationError
    from functions.http.responses import problem_response

    with caplog.at_level(logging.INFO):
        problem_response(ConfigurationError(value))
    one_printable_line(_facade_records(caplog))


@pytest.mark.parametrize("value", HOSTILE)
def test_a_connection_failure_message_logs_one_line(caplog, value):
    from functions.catalog.operations import OPERATIONS_BY_NAME
    from functions.core.command import Command
    from functions.core.errors import UpstreamUnavailable
    from functions.signalr.client import SignalRClient
    from functions.signalr.connection_string import parse_connection_string
    from functions.signalr.transport import TransportError

    class Refusing:
        def send(self, *args, **kwargs):
            raise TransportError(value)

    client = SignalRClient(parse_connection_string("Endpoint=http://127.0.0.1;Port=9;AccessKey=" + "k" * 44))
    command = Command(OPERATIONS_BY_NAME["broadcast"], "chat", {}, {"target": "t", "arguments": []})
    with caplog.at_level(logging.INFO), pytest.raises(UpstreamUnavailable):
        client._send("POST", client.url_for(command), [], None, "broadcast", transport=Refusing())
    one_printable_line(_facade_records(caplog))
