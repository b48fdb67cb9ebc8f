"""docs/operations/deploy.md stays in step with the templates: files, parameters, outputs and settings."""

from __future__ import annotations

import re
import shlex

import pytest

from support.bicep_model import REPO

DEPLOY_DOC = REPO / "docs" / "operations" / "deploy.md"
OUTPUT_HELPERS = {"entra_output": "entra.bicep", "main_output": "main.bicep"}


@pytest.fixture(scope="module")
def deploy_doc() -> str:
    """docs/operations/deploy.md."""
    return DEPLOY_DOC.read_text()


def shell_commands(doc: str) -> list[str]:
    """Commands of the bash blocks, continuation lines joined."""
    blocks = re.findall(r"```bash\n(.*?)```", doc, re.DOTALL)
    return [c for block in blocks for c in block.replace("\\\n", " ").splitlines() if c.strip()]


def deployments(doc: str) -> list[tuple[str, list[str]]]:
    """(template file, parameter names given as name=value) of each az deployment command."""
    found = []
    for command in shell_commands(doc):
        if "az deployment group" not in command or "--template-file" not in command:
            continue
        words = shlex.split(command.split("#")[0])
        template = words[words.index("--template-file") + 1]
        names, taking = [], False
        for word in words:
            if word.startswith("--"):
                taking = word == "--parameters"
            elif taking and "=" in word:
                names.append(word.split("=", 1)[0])
        found.append((template, names))
    return found


def test_the_guide_deploys_both_templates_and_previews_main(deploy_doc):
    commands = shell_commands(deploy_doc)
    assert any("az deployment group what-if" in c for c in commands)
    assert {template for template, _ in deployments(deploy_doc)} == {
        "infra/bicep/entra.bicep",
        "infra/bicep/main.bicep",
    }


def test_every_parameter_the_guide_passes_is_declared(deploy_doc, bicep_files):
    for template, names in deployments(deploy_doc):
        declared = bicep_files[template.removeprefix("infra/bicep/")].params
        assert not set(names) - declared.keys(), template
    inline = re.findall(r"--parameters (\w+)=", deploy_doc)
    declared_anywhere = bicep_files["main.bicep"].params.keys() | bicep_files["entra.bicep"].params.keys()
    assert not set(inline) - declared_anywhere


def test_every_output_the_guide_reads_exists(deploy_doc, bicep_files):
    for helper, template in OUTPUT_HELPERS.items():
        for name in re.findall(rf"{helper} (\w+)", deploy_doc):
            assert name in bicep_files[template].outputs, f"{helper} {name}"
    for deployment, name in re.findall(r"-n (entra|main) --query \"?properties\.outputs\.(\w+)", deploy_doc):
        assert name in bicep_files[f"{deployment}.bicep"].outputs, name


def test_every_main_parameter_is_documented(deploy_doc, bicep_files):
    undocumented = [name for name in bicep_files["main.bicep"].params if f"`{name}`" not in deploy_doc]
    assert not undocumented


def test_every_app_setting_written_is_documented(deploy_doc, app_settings):
    for name in app_settings:
        stem = name.split("__")[0] + "__" if "__" in name else name
        assert name in deploy_doc or stem in deploy_doc, name


def test_the_guide_publishes_tests_and_tears_down(deploy_doc):
    commands = "\n".join(shell_commands(deploy_doc))
    assert "az functionapp deployment source config-zip" in commands
    assert "--build-remote true" in commands
    assert "appRoleAssignedTo" in commands
    assert "curl" in commands
    assert "az group delete" in commands
    assert "az ad app delete" in commands


def anchor(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_links_into_the_guide_point_at_its_headings(deploy_doc):
    anchors = {anchor(h) for h in re.findall(r"^#+ (.+)$", deploy_doc, re.MULTILINE)}
    linking = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
    for document in linking:
        own = document == DEPLOY_DOC
        pattern = r"(?:deploy\.md|\]\()#([\w-]+)\)" if own else r"deploy\.md#([\w-]+)\)"
        for target in re.findall(pattern, document.read_text()):
            assert target in anchors, f"{document.name} links to deploy.md#{target}"
