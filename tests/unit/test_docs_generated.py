"""The docs' generated sections (devstack.docs_table) are the code's, and the settings table describes
every setting the code and the bindings read."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from devstack import docs_table
from devstack.docs_table import SECTIONS, regenerate
from functions.core import settings, settings_reference
from functions.core.errors import error_classes
from functions.core.settings import APP_SETTING_NAMES
from functions.core.settings_reference import SETTINGS_REFERENCE

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
FIX = "regenerate with: .venv/bin/python -m devstack docs"


@pytest.mark.parametrize("section", SECTIONS, ids=lambda s: s.name)
def test_each_generated_section_is_what_the_code_generates(section):
    text = (DOCS / section.page).read_text()
    assert (text.count(section.begin), text.count(section.end)) == (1, 1), section.page
    assert section.shown(text) == section.render().strip(), FIX


def test_regenerating_changes_no_page():
    assert {path: text for path, text in regenerate(DOCS).items() if path.read_text() != text} == {}, FIX


def stale_pages(root: Path) -> None:
    """Every page that holds a generated section, under ``root``, each section stale."""
    for section in SECTIONS:
        page = root / section.page
        page.parent.mkdir(parents=True, exist_ok=True)
        before = page.read_text() if page.exists() else ""
        page.write_text(f"{before}# {section.name}\n\nbefore\n\n{section.begin}\n| stale |\n{section.end}\n\nafter\n")


def test_regenerating_replaces_a_stale_section_and_keeps_the_prose(tmp_path):
    stale_pages(tmp_path)
    section = next(s for s in SECTIONS if s.name == "errors")
    page = tmp_path / section.page
    text = regenerate(tmp_path)[page]
    assert text.startswith("# errors\n\nbefore\n\n")
    assert text.endswith("\n\nafter\n")
    assert "| stale |" not in text
    assert section.shown(text) == docs_table.errors_table()


def test_the_check_command_reports_drift_and_writes_nothing(tmp_path, monkeypatch, capsys):
    stale_pages(tmp_path)
    monkeypatch.setattr(docs_table, "DOCS", tmp_path)
    monkeypatch.setattr(docs_table, "regenerate", lambda: regenerate(tmp_path))
    assert docs_table.main(["--check"]) == 1
    assert "stale" in capsys.readouterr().err
    assert all("| stale |" in (tmp_path / s.page).read_text() for s in SECTIONS)
    assert docs_table.main([]) == 0
    assert docs_table.main(["--check"]) == 0


def test_the_errors_reference_has_one_row_per_error_class():
    rows = docs_table.errors_table().splitlines()[2:]
    assert [row.split("|")[1].strip(" `") for row in rows] == [cls.__name__ for cls in error_classes()]
    for cls, row in zip(error_classes(), rows, strict=True):
        assert f"| {cls.status} | `{cls.slug}` | {cls.title} |" in row


def _names_read_from_the_environment() -> set[str]:
    """The constant names ``Settings.from_environ`` passes to ``env.get``, resolved to setting names."""
    tree = ast.parse(Path(settings.__file__).read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" \
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "env":
            argument = node.args[0]
            assert isinstance(argument, ast.Name), ast.unparse(node)  # read by constant, never by literal
            names.add(getattr(settings, argument.id))
    return names


def _names_the_bindings_read(registered_functions: dict) -> set[str]:
    """The app settings the functions' bindings resolve: ``%NAME%`` values and connection prefixes."""
    bound = set()
    for function in registered_functions.values():
        for binding in json.loads(function.get_function_json())["bindings"]:
            bound |= set(re.findall(r"%(\w+)%", json.dumps(binding)))
            if "connection" in binding:
                bound.add(binding["connection"])
    return bound


def test_the_settings_table_describes_exactly_what_the_code_and_the_bindings_read(registered_functions):
    from_code, from_bindings = _names_read_from_the_environment(), _names_the_bindings_read(registered_functions)
    assert from_code
    assert from_bindings
    endpoints = {doc.name for doc in SETTINGS_REFERENCE if doc.name.startswith(
        (settings_reference.ENDPOINTS_PREFIX, settings.SIGNALR_CONNECTION_STRING + "__"))}
    assert endpoints  # read by functions.signalr.endpoints, by prefix
    assert {doc.name for doc in SETTINGS_REFERENCE} - endpoints == from_code | from_bindings


def test_every_app_setting_bicep_writes_is_described():
    assert set(APP_SETTING_NAMES) - {doc.name for doc in SETTINGS_REFERENCE} == set()


def test_each_setting_is_described_in_one_line():
    assert len({doc.name for doc in SETTINGS_REFERENCE}) == len(SETTINGS_REFERENCE)
    for doc in SETTINGS_REFERENCE:
        assert doc.meaning, doc.name
        assert doc.unset, doc.name
        assert not {"\n", "|"} & set(doc.meaning + doc.unset), doc.name
