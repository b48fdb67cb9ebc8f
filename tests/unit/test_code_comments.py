"""How code comments are written (docs/development/contributing.md): they say why, so an issue number,
which is history rather than a reason, never stands in one."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ISSUE = re.compile(r"\bissues? ?#?\d+", re.IGNORECASE)


def prose(source: str) -> list[tuple[int, str]]:
    """Every comment and docstring of a module, with the line it starts on."""
    found = [(token.start[0], token.string) for token in tokenize.generate_tokens(io.StringIO(source).readline)
             if token.type == tokenize.COMMENT]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                found.append((body[0].lineno, body[0].value.value))
    return found


def issue_numbers(source: str) -> list[str]:
    return [f"line {line}: {match.group(0)}" for line, text in prose(source) for match in ISSUE.finditer(text)]


def modules() -> list[Path]:
    return sorted(p for folder in ("functions", "devstack") for p in (ROOT / folder).rglob("*.py")
                  if "node_modules" not in p.parts)


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_comment_or_docstring_names_an_issue_number(path):
    assert issue_numbers(path.read_text()) == []


def test_the_check_finds_issue_numbers_in_comments_and_docstrings_only():
    source = '''"""Module (issue 7)."""

def f():
    """Issue 12 did this."""
    x = "issue 3 in a string is data, not prose"
    return x  # see issue #24
'''
    assert issue_numbers(source) == ["line 6: issue #24", "line 1: issue 7", "line 4: Issue 12"]
