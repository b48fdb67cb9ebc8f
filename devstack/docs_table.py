"""The README's operations table, generated from the catalog: ``python -m devstack.docs_table``.

The README holds the output between ``<!-- operations:begin -->`` and ``<!-- operations:end -->``;
a test fails when the two drift apart.
"""

from __future__ import annotations

from functions.catalog.operations import COMMAND_PERMISSIONS, OPERATIONS, Answer, OperationSpec

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


if __name__ == "__main__":
    print(f"{BEGIN}\n{operations_table()}\n{END}")
