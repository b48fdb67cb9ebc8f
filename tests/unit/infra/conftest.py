"""Fixtures for the infrastructure tests: the Bicep templates, read and evaluated."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from support.bicep_model import BICEP_DIR, BicepFile, Declaration, Evaluator, bicep_paths

# The client id entra.bicep would output; any GUID does for evaluating main.bicep.
API_CLIENT_ID = "0a1b2c3d-0000-4000-8000-000000000001"


@dataclass
class DeployedResource:
    """A resource a deployment of main.bicep creates, with its body as evaluated."""

    module: str
    declaration: Declaration
    body: dict[str, Any]
    template: Evaluator

    @property
    def type(self) -> str:
        return self.declaration.resource_type

    @property
    def properties(self) -> dict[str, Any]:
        return self.body.get("properties", {})


@pytest.fixture(scope="session")
def bicep_files() -> dict[str, BicepFile]:
    """Every template, by path relative to infra/bicep."""
    return {path.relative_to(BICEP_DIR).as_posix(): BicepFile(path) for path in bicep_paths()}


@pytest.fixture(scope="session")
def main_parameters() -> dict[str, Any]:
    """main.parameters.json, as {name: value}."""
    document = json.loads((BICEP_DIR / "main.parameters.json").read_text())
    return {name: entry["value"] for name, entry in document["parameters"].items()}


@pytest.fixture(scope="session")
def deploy_main(bicep_files):
    """Evaluate main.bicep with the required parameters (and any overrides)."""

    def deploy(**overrides: Any) -> Evaluator:
        """main.bicep evaluated; the client id is available as the api_client_id fixture."""
        params = {"environmentName": "ci", "apiClientId": API_CLIENT_ID, **overrides}
        return Evaluator(bicep_files["main.bicep"], params)

    return deploy


@pytest.fixture(scope="session")
def deployed_resources(deploy_main):
    """The resources a main.bicep deployment creates (existing references left out)."""

    def resources(**overrides: Any) -> list[DeployedResource]:
        main = deploy_main(**overrides)
        found = []
        for module_name in main.file.modules:
            if not main.instances(main.file.modules[module_name]):
                continue  # a module deployed only when a parameter asks for it
            template = main.module(module_name)
            for decl in template.file.resources.values():
                if not decl.existing:
                    found += [DeployedResource(module_name, decl, body, template) for body in template.instances(decl)]
        return found

    return resources


@pytest.fixture(scope="session")
def resources_of_type(deployed_resources):
    """The deployed resources of one type, with the default parameters or overrides."""

    def of_type(resource_type: str, **overrides: Any) -> list[DeployedResource]:
        return [r for r in deployed_resources(**overrides) if r.type.lower() == resource_type.lower()]

    return of_type


@pytest.fixture(scope="session")
def app_settings(resources_of_type) -> dict[str, Any]:
    """The function app's app settings, as a default deployment writes them."""
    [config] = resources_of_type("Microsoft.Web/sites/config")
    assert config.body["name"] == "appsettings"
    return config.properties


@pytest.fixture(scope="session")
def api_client_id() -> str:
    """The apiClientId main.bicep is evaluated with."""
    return API_CLIENT_ID
