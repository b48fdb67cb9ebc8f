"""Hub and application names as the service allows them (issue 23 item 11).

The dated swaggers state one pattern for both ``hub`` and ``application``:
``^[A-Za-z][A-Za-z0-9_`,.[\\]]{0,127}$`` (Azure/azure-signalr docs/swagger/v20241201.json).
"""

from __future__ import annotations

import re

import pytest
from contracts.contract_data import load_swagger

from functions.catalog.rules import HUB_PATTERN, Invalid, check_hub
from functions.core.settings import SIGNALR_APPLICATION, Settings

ACCEPTED = ["a", "Chat", "chat_v2", "a.b", "a,b", "a`b", "a[0]", "A" + "x" * 127]
REFUSED = ["", "1a", "_a", "a-b", "a b", "a/b", "a%", "é", "A" + "x" * 128]


def test_the_pattern_is_the_dated_swaggers_for_hub_and_application():
    swagger = load_swagger("2024-12-01").operation("SignalR_CloseConnections")
    assert swagger.path_parameters["hub"].raw["pattern"] == HUB_PATTERN
    assert swagger.query_parameters["application"].raw["pattern"] == HUB_PATTERN


@pytest.mark.parametrize("name", ACCEPTED)
def test_hubs_the_service_takes_are_taken(name):
    assert check_hub(name) == name
    assert re.fullmatch(HUB_PATTERN[1:-1], name)


@pytest.mark.parametrize("name", REFUSED)
def test_hubs_the_service_refuses_are_refused_first(name):
    with pytest.raises(Invalid):
        check_hub(name)


# '_' is the service's too, but the facade keeps it out of an application: '<application>_<hub>' must
# name one pair only (the upstream receiver's namespace; functions/core/settings.py _namespace_problems).
@pytest.mark.parametrize("name", [n for n in ACCEPTED if "_" not in n])
def test_an_application_the_service_takes_is_a_sound_setting(name):
    assert Settings.from_environ({SIGNALR_APPLICATION: name}).read_problems == ()


@pytest.mark.parametrize("name", [n for n in REFUSED if n])
def test_an_application_the_service_refuses_is_a_settings_problem(name):
    problems = Settings.from_environ({SIGNALR_APPLICATION: name}).read_problems
    assert problems
    assert all(problem.startswith(SIGNALR_APPLICATION) for problem in problems)


def test_in_multi_tenant_mode_the_application_leaves_room_for_the_tenant_namespace_and_a_hub():
    env = {"ENTRA_TENANT_ID": "organizations"}
    assert Settings.from_environ({**env, SIGNALR_APPLICATION: "a" * 93}).read_problems == ()
    (problem,) = Settings.from_environ({**env, SIGNALR_APPLICATION: "a" * 94}).read_problems
    assert "multi-tenant" in problem
