"""The sample backend's rule: only a chat text is answered, in the sender's verified name."""

from __future__ import annotations

from devstack.chat_backend import chat_broadcast


def envelope(**changes) -> dict:
    base = {"hub": "chat", "category": "messages", "event": "chat", "target": "chat", "arguments": ["hi"],
            "userId": "erin"}
    return {**base, **changes}


def test_a_chat_text_is_broadcast_as_new_message_from_the_verified_user():
    assert chat_broadcast(envelope()) == ("chat", {"target": "newMessage", "arguments": ["erin", "hi"]})


def test_the_client_cannot_choose_the_sender_name():
    hub, payload = chat_broadcast(envelope(arguments=["hi", "mallory"]))
    assert payload["arguments"] == ["erin", "hi"]


def test_other_events_and_empty_texts_are_not_answered():
    assert chat_broadcast(envelope(category="connections", event="connected", target=None, arguments=None)) is None
    assert chat_broadcast(envelope(target="typing", event="typing")) is None
    assert chat_broadcast(envelope(arguments=["  "])) is None
    assert chat_broadcast(envelope(arguments=[{"text": "hi"}])) is None
