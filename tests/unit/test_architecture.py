"""The layout shows the architecture: the core imports no trigger package and no azure.functions."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TRIGGER_PACKAGES = ("functions.http", "functions.batch", "functions.queue", "functions.upstream")


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def reaches(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_the_core_and_the_catalog_import_no_trigger_package_and_no_azure_functions():
    for folder in ("core", "catalog", "signalr", "auth"):
        for path in sorted((ROOT / "functions" / folder).rglob("*.py")):
            for name in imported_modules(path):
                assert not any(reaches(name, p) for p in (*TRIGGER_PACKAGES, "azure.functions")), (path, name)


def test_no_module_of_the_app_sits_beside_the_feature_packages():
    loose = [p.name for p in (ROOT / "functions").glob("*.py") if p.name != "__init__.py"]
    assert loose == []
