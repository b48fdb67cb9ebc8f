"""Golden checks on what the app registers and what it deploys."""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path

from devstack.constants import DEV_ACCESS_KEY
from devstack.stack import Ports
from functions.catalog.operations import OPERATIONS
from functions.core.settings import APP_SETTING_NAMES, COMMANDS_STORAGE_CONNECTION
from functions.signalr.connection_string import parse_connection_string

ROOT = Path(__file__).resolve().parents[2]


def test_the_app_registers_every_operation_plus_batch_negotiate_health_openapi_the_queue_upstream_and_fallback(
        registered_functions):
    expected = {op.name for op in OPERATIONS} | {"batch", "negotiate", "health", "openapi", "executeCommand",
                                                  "upstreamEvent", "zzzNoSuchRoute"}
    assert set(registered_functions) == expected
    for function in registered_functions.values():
        if function.get_trigger().type == "httpTrigger":
            assert function.get_function_json()
            assert '"authLevel": "ANONYMOUS"' in function.get_function_json()


def test_the_queue_trigger_reads_its_queue_and_connection_from_settings(registered_functions):
    bindings = json.loads(registered_functions["executeCommand"].get_function_json())["bindings"]
    trigger = next(b for b in bindings if b["type"] == "queueTrigger")
    outputs = {b["name"]: b for b in bindings if b["type"] == "queue"}
    assert trigger["queueName"] == "%SIGNALR_COMMANDS_QUEUE%"
    assert {name: b["queueName"] for name, b in outputs.items()} == {
        "deadletter": "%SIGNALR_COMMANDS_QUEUE%-invalid",
        "requeue": "%SIGNALR_COMMANDS_QUEUE%",  # what is left of a batch, as one new message
        "poison": "%SIGNALR_COMMANDS_QUEUE%-poison",
    }
    assert {trigger["connection"]} | {b["connection"] for b in outputs.values()} == {COMMANDS_STORAGE_CONNECTION}


def test_the_route_prefix_is_defined_once_as_host_json_sets_it():
    from functions.catalog.operations import ROUTE_PREFIX

    host = json.loads((ROOT / "host.json").read_text())
    assert "/" + host["extensions"]["http"]["routePrefix"] == ROUTE_PREFIX


def test_the_sample_settings_name_every_setting_the_code_reads():
    values = json.loads((ROOT / "local.settings.sample.json").read_text())["Values"]
    optional_dev_only = {"ENTRA_METADATA_URL"}
    assert set(APP_SETTING_NAMES) - optional_dev_only <= set(values)


def test_the_sample_settings_reach_the_local_emulator_with_the_dev_key():
    # The JSON sample cannot import the key, so this keeps its copy equal to the one source.
    values = json.loads((ROOT / "local.settings.sample.json").read_text())["Values"]
    info = parse_connection_string(values["AzureSignalRConnectionString"])
    assert info.access_key == DEV_ACCESS_KEY
    assert info.endpoint == f"http://127.0.0.1:{Ports().emulator}"


def ignored(path: str, patterns: list[str]) -> bool:
    parts = path.split("/")
    return any(fnmatch.fnmatch(path, p.rstrip("/")) or any(fnmatch.fnmatch(part, p.rstrip("/")) for part in parts)
               for p in patterns)


def test_funcignore_deploys_only_the_app():
    patterns = [line.strip() for line in (ROOT / ".funcignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    for kept in ("function_app.py", "host.json", "requirements.txt", "functions/catalog/operations.py",
                 "functions/auth/keys.py"):
        assert not ignored(kept, patterns), kept
    for dropped in ("devstack/stack.py", "tests/conftest.py", "bench/__main__.py", "node_modules/x",
                    "infra/bicep/main.bicep", "local.settings.json", ".venv/bin/python", "requirements-dev.txt"):
        assert ignored(dropped, patterns), dropped


def test_runtime_requirements_are_the_pinned_runtime_dependencies():
    lines = [line for line in (ROOT / "requirements.txt").read_text().splitlines()
             if line and not line.startswith(("#", "-c "))]
    names = {line.split("==")[0].split("[")[0].lower() for line in lines}
    assert names == {"azure-functions", "requests", "pyjwt", "azure-identity", "msgpack"}
    assert all("==" in line for line in lines)


def test_funcignore_knows_everything_gitignore_knows():
    # A publish from a working checkout must not ship what git ignores (local state, Azurite's
    # data, schemathesis reports that can hold bearer tokens).
    def patterns(name: str) -> set[str]:
        return {line.strip() for line in (ROOT / name).read_text().splitlines()
                if line.strip() and not line.startswith("#")}

    assert patterns(".gitignore") <= patterns(".funcignore"), patterns(".gitignore") - patterns(".funcignore")


def constraints() -> dict[str, str]:
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    return {name.lower().replace("_", "-"): version for name, version in
            (line.split("==") for line in lines if line and not line.startswith("#"))}


def test_requirements_apply_the_constraints_file():
    assert "-c constraints.txt" in (ROOT / "requirements.txt").read_text().splitlines()


def runtime_closure() -> dict[str, str]:
    """The runtime dependencies and everything they need, as installed in this venv."""
    from importlib import metadata

    from packaging.requirements import Requirement

    seen: dict[str, str] = {}
    todo = [("azure-functions", set()), ("requests", set()), ("pyjwt", {"crypto"}), ("azure-identity", set()),
            ("msgpack", set())]
    while todo:
        name, extras = todo.pop()
        key = name.lower().replace("_", "-")
        distribution = metadata.distribution(name)
        seen[key] = distribution.version
        for text in distribution.requires or []:
            requirement = Requirement(text)
            environment = [{"extra": extra} for extra in extras] or [{"extra": ""}]
            if requirement.marker and not any(requirement.marker.evaluate(env) for env in environment):
                continue
            child = requirement.name.lower().replace("_", "-")
            if child not in seen:
                todo.append((requirement.name, set(requirement.extras)))
    return seen


def test_every_transitive_runtime_dependency_is_pinned_at_the_installed_version():
    assert runtime_closure() == constraints()


def test_the_documented_layout_names_every_module_of_the_app_and_the_stack():
    page = (ROOT / "docs" / "development" / "contributing.md").read_text()
    layout = page[page.index("## Project layout"):]
    layout = layout[:layout.index("```", layout.index("```") + 3)]
    for folder in ("functions", "devstack"):
        for path in sorted((ROOT / folder).iterdir()):
            if path.name.startswith("__") or path.name == "node_modules":
                continue
            name = path.name if path.suffix == ".py" else path.name + "/"
            if path.is_dir() or path.suffix == ".py":
                assert name in layout, f"the layout in docs/development/contributing.md misses {folder}/{name}"
