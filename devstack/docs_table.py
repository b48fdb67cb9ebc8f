"""Tables the docs hold, generated from the code: ``python -m devstack.docs_table``.

- the operations table, from the catalog, between ``<!-- operations:begin -->`` and ``<!-- operations:end -->``;
- the queue's outcome per error, from the one retry rule (``functions.core.errors``), between
  ``<!-- queue-outcomes:begin -->`` and ``<!-- queue-outcomes:end -->``.

Tests fail when the docs and the code drift apart.
"""

from __future__ import annotations

from functions.catalog.operations import COMMAND_PERMISSIONS, OPERATIONS, Answer, OperationSpec
from functions.core.errors import error_classes

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


if __name__ == "__main__":
    print(f"{BEGIN}\n{operations_table()}\n{END}\n\n{QUEUE_BEGIN}\n{queue_outcomes_table()}\n{QUEUE_END}")
