"""Common queue mistakes named in the dead-letter record (issue 26, item 6): a base64-encoded message,
``op`` instead of ``operation``, an operation name in the wrong case."""

from __future__ import annotations

import base64
import json

import pytest

from support.bindings import OutCapture, queue_message
from support.queue_cases import PAYLOAD

COMMAND = {"operation": "broadcast", "hub": "chat", "payload": PAYLOAD}


@pytest.fixture
def dead_letter(registered_functions, facade_env):
    function = registered_functions["executeCommand"].get_user_function()

    def run(text: str) -> dict:
        deadletter = OutCapture()
        function(queue_message(text), deadletter, OutCapture(), OutCapture())
        assert deadletter.value, "the message was not dead-lettered"
        value = deadletter.value
        return json.loads(value[0] if isinstance(value, list) else value)

    return run


@pytest.mark.parametrize("encode", [base64.b64encode, base64.urlsafe_b64encode], ids=["base64", "base64url"])
@pytest.mark.parametrize("message", [COMMAND, [COMMAND]], ids=["command", "batch"])
def test_a_base64_encoded_message_is_named_as_such(dead_letter, upstream, encode, message):
    text = encode(json.dumps(message).encode()).decode()
    record = dead_letter(text)
    assert record["errors"] == [{"field": "message", "message": record["errors"][0]["message"]}]
    assert "base64-encoded JSON" in record["errors"][0]["message"]
    assert "messageEncoding" in record["errors"][0]["message"]
    assert record["original"] == text
    assert upstream.requests == []


@pytest.mark.parametrize("text", ["not json", "aGVsbG8=", "MTIz"], ids=["text", "base64-not-json", "base64-number"])
def test_other_text_is_not_called_base64_json(dead_letter, text):
    assert "base64" not in dead_letter(text)["reason"]


def test_op_instead_of_operation_says_the_field_is_missing_and_op_unknown(dead_letter):
    message = {k: v for k, v in COMMAND.items() if k != "operation"} | {"op": "broadcast"}
    errors = {e["field"]: e["message"] for e in dead_letter(json.dumps(message))["errors"]}
    assert errors["operation"].startswith("is missing")
    assert errors["op"] == "is not a field of a command; did you mean 'operation'?"


@pytest.mark.parametrize(("sent", "meant"), [("SendToGroup", "sendToGroup"), ("BROADCAST", "broadcast")])
def test_a_wrong_case_operation_gets_a_did_you_mean(dead_letter, sent, meant):
    record = dead_letter(json.dumps({**COMMAND, "operation": sent}))
    assert record["errors"] == [{"field": "operation", "message": f"is case-sensitive; did you mean '{meant}'?"}]
