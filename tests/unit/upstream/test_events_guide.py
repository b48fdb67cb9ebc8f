"""The "Events from clients" guide (docs/guides/client-events.md) shows the schema the code documents."""

from __future__ import annotations

import json
from pathlib import Path

from functions.core.settings import EVENTS_QUEUE, UPSTREAM_ACCEPT_SIGNATURES, UPSTREAM_IDENTITIES, UPSTREAM_KEYS
from functions.upstream.schema import EVENT_SCHEMA

GUIDE = Path(__file__).parents[3] / "docs" / "guides" / "client-events.md"
BEGIN, END = "<!-- events-schema:begin -->", "<!-- events-schema:end -->"


def section() -> str:
    return GUIDE.read_text()


def test_the_guides_schema_is_the_codes():
    text = GUIDE.read_text()
    block = text[text.index(BEGIN):text.index(END)]
    shown = block[block.index("```json") + len("```json"):block.rindex("```")]
    assert json.loads(shown) == EVENT_SCHEMA


def test_the_guides_example_envelope_matches_the_schema():
    import jsonschema_rs

    text = section()
    example = text[text.index("```json") + len("```json"):]
    example = example[:example.index("```")]
    jsonschema_rs.validate(EVENT_SCHEMA, json.loads(example))


def test_the_guide_names_every_events_setting_and_the_route():
    text = section()
    for name in (EVENTS_QUEUE, UPSTREAM_IDENTITIES, UPSTREAM_KEYS, UPSTREAM_ACCEPT_SIGNATURES,
                 "/api/upstream/{hub}/{category}/{event}"):
        assert f"`{name}`" in text or name in text, name
