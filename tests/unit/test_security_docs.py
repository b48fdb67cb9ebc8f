"""The threat model (docs/concepts/security.md) names tests that exist: each claim stays backed."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "concepts" / "security.md"
REFERENCE = re.compile(r"`((?:unit|integration|e2e|slow)/[\w/]+\.py)(?:::(\w+))?`")


def test_every_test_the_threat_model_names_exists():
    references = REFERENCE.findall(PAGE.read_text())
    assert len(references) > 20
    for path, name in references:
        source = ROOT / "tests" / path
        assert source.is_file(), path
        if name:
            assert re.search(rf"^def {name}\(", source.read_text(), re.MULTILINE), f"{path}::{name}"


def test_the_threat_model_covers_every_party():
    text = PAGE.read_text()
    for party in ("Callers", "The SignalR Service", "Other apps on the same SignalR instance", "Queue writers",
                  "Connected clients"):
        assert f"### {party}" in text, party
