"""The README's "Events from clients" section shows the schema the code documents."""

from __future__ import annotations

import json
from pathlib import Path

from functions.core.settings import EVENTS_QUEUE, UPSTREAM_ACCEPT_SIGNATURES, UPSTREAM_IDENTITIES, UPSTREAM_KEYS
from functions.upstream.schema import EVENT_SCHEMA

README = Path(__file__).parents[3] / "README.md"
BEGIN, END = "<!-- BEGIN events-schema", "<!-- END events-schema -->"


def section() -> str:
    text = README.read_text()
    return text[text.index("## Events from clients"):]


def test_the_readme_schema_is_the_codes():
    text = README.read_text()
    block = text[text.index(BEGIN):text.index(END)]
    shown = block[block.index("```json") + len("```json"):block.rindex("```")]
    assert json.loads(shown) == EVENT_SCHEMA


def test_the_readme_example_envelope_matches_the_schema():
    import jsonschema_rs

    text = section()
    example = text[text.index("```json") + len("```json"):]
    example = example[:example.index("```")]
    jsonschema_rs.validate(EVENT_SCHEMA, json.loads(example))


def test_the_section_names_every_events_setting_and_the_route():
    text = section()
    for name in (EVENTS_QUEUE, UPSTREAM_IDENTITIES, UPSTREAM_KEYS, UPSTREAM_ACCEPT_SIGNATURES,
                 "/api/upstream/{hub}/{category}/{event}"):
        assert f"`{name}`" in text or name in text, name
