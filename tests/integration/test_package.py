"""``make package``: the zip docs/operations/deploy.md deploys holds the runtime files and nothing else."""

from __future__ import annotations

import zipfile
from pathlib import Path

from devstack.package import ROOT, build_package

RUNTIME_FILES = {"function_app.py", "host.json", "requirements.txt", "constraints.txt"}


def test_the_package_holds_exactly_the_app_and_its_pinned_requirements(tmp_path: Path):
    output = tmp_path / "app.zip"
    build_package(output)
    names = set(zipfile.ZipFile(output).namelist())
    app_modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "functions").rglob("*.py")}
    assert names == RUNTIME_FILES | app_modules


def test_the_package_holds_no_development_file_local_setting_or_bytecode(tmp_path: Path):
    output = tmp_path / "app.zip"
    build_package(output)
    for name in zipfile.ZipFile(output).namelist():
        assert not name.startswith(("devstack/", "tests/", "bench/", "infra/", "docs/", "node_modules/", "."))
        assert "local.settings" not in name
        assert "__pycache__" not in name
        assert not name.endswith(".pyc")


def test_the_same_tree_gives_the_same_bytes(tmp_path: Path):
    build_package(tmp_path / "a.zip")
    build_package(tmp_path / "b.zip")
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()


def test_the_deploy_guide_deploys_the_zip_make_package_builds():
    guide = (ROOT / "docs" / "operations" / "deploy.md").read_text()
    assert "make package" in guide
    assert "--src dist/signalr-facade.zip" in guide
