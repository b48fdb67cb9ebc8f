"""The README's operations table, generated from the catalog: ``python -m devstack.docs_table``.

The README holds the output between ``<!-- operations:begin -->`` and ``<!-- operations:end -->``;
a test fails when the two drift apart.
"""

from __future__ import annotations

from functions.catalog import OPERATIONS, OperationSpec

BEGIN = "<!-- operations:begin -->"
END = "<!-- operations:end -->"
HEADER = "| operation | method and path | permission | success | queue |\n|---|---|---|---|---|"


def _route(spec: OperationSpec) -> str:
    methods = "`/`".join(spec.http_methods)
    query = ", ".join(f"`?{p.name}=`" + (" repeatable" if p.repeated else "") for p in spec.query_params)
    return f"`{methods} /api/{spec.path}`" + (f" ({query})" if query else "")


def _success(spec: OperationSpec) -> str:
    codes = " or ".join(str(code) for code in spec.success)
    return codes + (" / 404" if spec.not_found else "")


def operations_table() -> str:
    rows = [
        f"| {spec.name} | {_route(spec)} | `{spec.permission.value}` | {_success(spec)} | "
        f"{'yes' if spec.queueable else 'no'} |"
        for spec in OPERATIONS
    ]
    return "\n".join([HEADER, *rows])


if __name__ == "__main__":
    print(f"{BEGIN}\n{operations_table()}\n{END}")
