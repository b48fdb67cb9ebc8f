"""Nothing Flex Consumption refuses or ignores: the "Flex Consumption plan deprecations" table.

Flex Consumption answers BadRequest ("The following list of site configuration properties
(Site.SiteConfig.FtpsState, ...) for Flex Consumption sites is invalid") to some site
properties, and ignores or is broken by some app settings that other plans use. The lists
below are the table "Flex Consumption plan deprecations" in the app settings reference,
https://learn.microsoft.com/azure/azure-functions/functions-app-settings#flex-consumption-plan-deprecations
(with the properties the platform's own BadRequest names), and the settings that
https://learn.microsoft.com/azure/azure-functions/flex-consumption-plan#deprecated-properties-and-settings
points to. A template that sets any of them fails here, before Azure refuses it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from support.bicep_model import BICEP_DIR

DEPRECATED_SITE_CONFIG = {
    "alwaysOn",
    "functionAppScaleLimit",
    "ftpsState",
    "javaVersion",
    "linuxFxVersion",
    "minimumElasticInstanceCount",
    "netFrameworkVersion",
    "powerShellVersion",
    "preWarmedInstanceCount",
    "use32BitWorkerProcess",
    "windowsFxVersion",
}
DEPRECATED_SITE_PROPERTIES = {"containerSize", "dailyMemoryTimeQuota", "isReserved", "IsXenon"}
DEPRECATED_APP_SETTINGS = {
    "ENABLE_ORYX_BUILD",
    "FUNCTIONS_EXTENSION_VERSION",
    "FUNCTIONS_MAX_HTTP_CONCURRENCY",
    "FUNCTIONS_WORKER_DYNAMIC_CONCURRENCY_ENABLED",
    "FUNCTIONS_WORKER_PROCESS_COUNT",
    "FUNCTIONS_WORKER_RUNTIME",
    "FUNCTIONS_WORKER_RUNTIME_VERSION",
    "PYTHON_ISOLATE_WORKER_DEPENDENCIES",
    "SCM_DO_BUILD_DURING_DEPLOYMENT",
    "TZ",
    "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
    "WEBSITE_CONTENTOVERVNET",
    "WEBSITE_CONTENTSHARE",
    "WEBSITE_DNS_SERVER",
    "WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT",
    "WEBSITE_MOUNT_ENABLED",
    "WEBSITE_NODE_DEFAULT_VERSION",
    "WEBSITE_RUN_FROM_PACKAGE",
    "WEBSITE_SKIP_CONTENTSHARE_VALIDATION",
    "WEBSITE_TIME_ZONE",
    "WEBSITE_USE_PLACEHOLDER_DOTNETISOLATED",
    "WEBSITE_VNET_ROUTE_ALL",
    "WEBSITES_CONTAINER_START_TIME_LIMIT",
    "WEBSITES_ENABLE_APP_SERVICE_STORAGE",
}


def keys_everywhere(value: Any) -> set[str]:
    """Every object key at any depth of an evaluated body."""
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found.update(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


@pytest.mark.parametrize("zone_redundant", [False, True])
def test_no_site_sets_a_property_flex_consumption_refuses(resources_of_type, zone_redundant):
    for site in resources_of_type("Microsoft.Web/sites", zoneRedundant=zone_redundant):
        config = site.properties.get("siteConfig", {})
        assert not DEPRECATED_SITE_CONFIG & keys_everywhere(config), sorted(DEPRECATED_SITE_CONFIG & config.keys())
        assert not DEPRECATED_SITE_PROPERTIES & site.properties.keys()


def test_no_site_config_resource_sets_them_either(resources_of_type):
    for config in resources_of_type("Microsoft.Web/sites/config"):
        assert not DEPRECATED_SITE_CONFIG & keys_everywhere(config.properties)


def test_no_app_setting_is_on_the_deprecations_list(app_settings):
    written = {name.upper() for name in app_settings}
    assert not DEPRECATED_APP_SETTINGS & written, sorted(DEPRECATED_APP_SETTINGS & written)


def test_no_template_text_names_a_deprecated_property_or_setting_at_all():
    # The evaluator follows what main.bicep deploys; the text catches a branch it did not take.
    names = DEPRECATED_SITE_CONFIG | DEPRECATED_SITE_PROPERTIES | DEPRECATED_APP_SETTINGS
    pattern = re.compile(r"(?<![\w.])(" + "|".join(sorted(names)) + r")\s*:", re.IGNORECASE)
    for path in sorted(BICEP_DIR.rglob("*.bicep")):
        code = "\n".join(line.split("//", 1)[0] for line in path.read_text().splitlines())
        assert not pattern.search(code), (path.name, pattern.search(code))
