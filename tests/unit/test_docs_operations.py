"""The operations reference (docs/reference/operations.md) is the catalog's, and the catalog's facts are consistent."""

from __future__ import annotations

from pathlib import Path

from devstack.docs_table import BEGIN, END, operations_table
from functions.catalog.operations import COMMAND_PERMISSIONS, OPERATIONS, Answer, Location

PAGE = Path(__file__).parents[2] / "docs" / "reference" / "operations.md"


def test_the_operations_reference_table_is_generated_from_the_catalog():
    text = PAGE.read_text()
    table = text[text.index(BEGIN) + len(BEGIN):text.index(END)].strip()
    assert table == operations_table(), "regenerate with: .venv/bin/python -m devstack docs"


def test_every_operation_row_names_its_permission_and_route():
    table = operations_table()
    for spec in OPERATIONS:
        row = next(line for line in table.splitlines() if line.startswith(f"| {spec.name} |"))
        needed = [spec.permission] if spec.permission else list(COMMAND_PERMISSIONS.values())
        assert all(p.value in row for p in needed)
        assert f"/api/{spec.path}`" in row


def test_every_path_parameter_appears_in_its_route_and_upstream_template():
    for spec in OPERATIONS:
        for param in spec.params:
            if param.location is Location.PATH:
                assert "{" + param.name + "}" in spec.path, (spec.name, param.name)
                assert "{" + param.name + "}" in spec.upstream_path, (spec.name, param.name)


def test_only_operations_that_change_state_and_answer_nothing_are_queueable():
    for spec in OPERATIONS:
        assert spec.queueable == (spec.method != "GET" and spec.answer is Answer.NONE), spec.name
