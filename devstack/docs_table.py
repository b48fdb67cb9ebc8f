"""The docs' generated sections: ``python -m devstack docs`` rewrites them, ``--check`` only compares.

Each section sits in a page under ``docs/`` between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->``:

- ``operations`` (docs/reference/operations.md), from the catalog (``functions.catalog.operations``);
- ``queue-outcomes`` (docs/guides/queue-commands.md), the queue's outcome per error, from the one retry rule;
- ``errors`` (docs/reference/errors.md), from the exception tree (``functions.core.errors``);
- ``settings`` (docs/reference/configuration.md), from ``functions.core.settings_reference.SETTINGS_REFERENCE``;
- ``events-schema`` (docs/guides/client-events.md), from ``functions.upstream.schema``.

The pages stay hand-written around them; tests regenerate every section in memory and fail on drift.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from functions.catalog.operations import COMMAND_PERMISSIONS, OPERATIONS, Answer, OperationSpec
from functions.core.errors import FacadeError, error_classes
from functions.core.settings_reference import SETTINGS_REFERENCE
from functions.upstream.schema import EVENT_SCHEMA

DOCS = Path(__file__).resolve().parents[1] / "docs"

BEGIN = "<!-- operations:begin -->"
END = "<!-- operations:end -->"
HEADER = "| operation | method and path | permission | success | queue |\n|---|---|---|---|---|"


def _route(spec: OperationSpec) -> str:
    methods = "`/`".join(spec.http_methods)
    query = ", ".join(f"`?{p.name}=`" + (" repeatable" if p.repeated else "") for p in spec.query_params)
    return f"`{methods} /api/{spec.path}`" + (f" ({query})" if query else "")


def _success(spec: OperationSpec) -> str:
    codes = " or ".join(str(code) for code in spec.success)
    answer = "" if spec.answer is Answer.NONE else " + JSON"
    return codes + answer + (" / 404" if spec.not_found else "")


def permission_text(spec: OperationSpec) -> str:
    if spec.permission is not None:
        return f"`{spec.permission.value}`"
    per_type = ", ".join(f"{kind} `{permission.value}`" for kind, permission in COMMAND_PERMISSIONS.items())
    return f"each command's own: {per_type}"


def operations_table() -> str:
    rows = [
        f"| {spec.name} | {_route(spec)} | {permission_text(spec)} | {_success(spec)} | "
        f"{'yes' if spec.queueable else 'no'} |"
        for spec in OPERATIONS
    ]
    return "\n".join([HEADER, *rows])


QUEUE_BEGIN = "<!-- queue-outcomes:begin -->"
QUEUE_END = "<!-- queue-outcomes:end -->"


def queue_outcomes_table() -> str:
    """What the commands queue does with a command that failed, per error (the one retry rule)."""
    rows = ["| error | `type` (problem slug) | HTTP status | on the queue |", "|---|---|---|---|"]
    for cls in error_classes():
        fate = ("retried, then `<queue>-poison` (a batch item: re-queued)" if cls.retryable
                else "dead-lettered at once to `<queue>-invalid`")
        rows.append(f"| `{cls.__name__}` | `{cls.slug}` | {cls.status} | {fate} |")
    return "\n".join(rows)



def _when(cls: type[FacadeError]) -> str:
    summary = (cls.__doc__ or "").strip().splitlines()[0]
    return summary.removeprefix("Raised ").rstrip(".")


def errors_table() -> str:
    """Every class of the exception tree: its status, problem type, title and when it is raised."""
    rows = ["| error | status | `type` | title | when |", "|---|---|---|---|---|"]
    for cls in error_classes():
        rows.append(f"| `{cls.__name__}` | {cls.status} | `{cls.slug}` | {cls.title} | {_when(cls)} |")
    return "\n".join(rows)


def settings_table() -> str:
    """Every app setting the code and the bindings read (``functions.core.settings_reference.SETTINGS_REFERENCE``)."""
    rows = ["| setting | meaning | when not set |", "|---|---|---|"]
    rows += [f"| `{doc.name}` | {doc.meaning} | {doc.unset} |" for doc in SETTINGS_REFERENCE]
    return "\n".join(rows)


def events_schema_block() -> str:
    return f"```json\n{json.dumps(EVENT_SCHEMA, indent=2)}\n```"


@dataclass(frozen=True)
class Section:
    """One generated section: the page that holds it, its marker name and what writes it."""

    page: str  # relative to docs/
    name: str
    render: Callable[[], str]

    @property
    def begin(self) -> str:
        return f"<!-- {self.name}:begin -->"

    @property
    def end(self) -> str:
        return f"<!-- {self.name}:end -->"

    def shown(self, text: str) -> str:
        """What the page holds between the markers now."""
        return text[text.index(self.begin) + len(self.begin):text.index(self.end)].strip()

    def fill(self, text: str) -> str:
        """The page with this section regenerated."""
        head, tail = text[:text.index(self.begin) + len(self.begin)], text[text.index(self.end):]
        return f"{head}\n{self.render()}\n{tail}"


SECTIONS = (
    Section("reference/operations.md", "operations", operations_table),
    Section("guides/queue-commands.md", "queue-outcomes", queue_outcomes_table),
    Section("reference/errors.md", "errors", errors_table),
    Section("reference/configuration.md", "settings", settings_table),
    Section("guides/client-events.md", "events-schema", events_schema_block),
)


def regenerate(docs: Path = DOCS) -> dict[Path, str]:
    """Every page that holds a generated section, as it should read (in memory)."""
    pages: dict[Path, str] = {}
    for section in SECTIONS:
        path = docs / section.page
        pages[path] = section.fill(pages.get(path, path.read_text()))
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack docs", description="regenerate the docs' tables")
    parser.add_argument("--check", action="store_true", help="only say which pages drifted; exit 1 if any")
    args = parser.parse_args(argv)
    pages = regenerate()
    stale = [path for path, text in pages.items() if path.read_text() != text]
    for path in stale:
        if not args.check:
            path.write_text(pages[path])
        print(f"{'stale' if args.check else 'wrote'} {path.relative_to(DOCS.parent)}", file=sys.stderr)
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
