"""Every command of the deploy guide checked against the Makefile and the Bicep (issue 26, item 9): make
targets and their variables exist, the zip path is the one `make package` writes, template files, parameter
names and outputs exist, and the permission list is the catalog's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from functions.catalog.operations import Permission

ROOT = Path(__file__).resolve().parents[3]
GUIDE = next(p for p in (ROOT / "docs" / "deploy.md", ROOT / "docs" / "operations" / "deploy.md") if p.exists())
MAKEFILE = (ROOT / "Makefile").read_text()
BICEP = ROOT / "infra" / "bicep"


def code() -> str:
    text = GUIDE.read_text()
    blocks = re.findall(r"```(?:bash|sh)\n(.*?)```", text, flags=re.S)
    return "\n".join(blocks).replace("\\\n", " ")


def recipe(target: str) -> str:
    found = re.search(rf"^{re.escape(target)}:.*?\n((?:\t.*\n?)*)", MAKEFILE, flags=re.M)
    assert found, f"make {target}: no such target"
    return found.group(1)


def test_every_make_command_names_a_target_and_its_variables():
    commands = re.findall(r"\bmake ([a-z-]+)((?: [A-Z_]+=\S+)*)", code())
    assert {name for name, _ in commands} >= {"package", "smoke"}
    for name, assignments in commands:
        body = recipe(name)
        for variable in re.findall(r"([A-Z_]+)=", assignments):
            assert f"$({variable})" in body, f"make {name} does not use {variable}"


def test_the_zip_the_guide_deploys_and_removes_is_the_one_make_package_writes():
    written = re.search(r"devstack\.package (\S+)", recipe("package")).group(1)
    zips = set(re.findall(r"[\w./-]+\.zip", code()))
    assert zips == {written}


def test_template_files_parameters_and_outputs_exist():
    text = code()
    for path in set(re.findall(r"infra/bicep/[\w./-]+", text)):
        assert (ROOT / path).is_file(), path
    params = {name for f in BICEP.rglob("*.bicep") for name in re.findall(r"^param (\w+)", f.read_text(), re.M)}
    for name in re.findall(r"--parameters (?!infra/)((?:\w+=\S+ ?)+)", text):
        for parameter in re.findall(r"(\w+)=", name):
            assert parameter in params, f"--parameters {parameter}: no such Bicep parameter"
    for template, helper in (("entra.bicep", "entra_output"), ("main.bicep", "main_output")):
        outputs = set(re.findall(r"^output (\w+)", (BICEP / template).read_text(), re.M))
        for name in re.findall(rf"{helper} (\w+)", text):
            assert name in outputs, f"{helper} {name}: {template} has no such output"


@pytest.mark.parametrize("permission", [p.value for p in Permission])
def test_the_permission_list_names_every_permission(permission):
    text = GUIDE.read_text()
    what_gets_deployed = text[text.index("What gets deployed"):text.index("main.bicep` |")]
    assert f"`{permission}`" in what_gets_deployed
    assert f"`{permission}`" in text[text.index("| `SignalR.Send` |"):]  # the roles table
