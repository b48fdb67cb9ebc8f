"""The emulator, written independently of the catalog, serves every catalog operation as the catalog expects."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from devstack.emulator import rest_api
from functions.catalog.operations import OPERATIONS, OperationSpec

SAMPLE = {"hub": "chat", "group": "a/../b", "user": "u 1", "connectionId": "c?1"}


def emulator_route(spec: OperationSpec, method: str) -> rest_api.Route:
    path = spec.upstream_path.format(**{k: quote(v, safe="") for k, v in SAMPLE.items()})
    segments = rest_api._segments(path)
    dated = segments[:2] != ["api", "v1"]
    assert dated == (spec.api_version is not None), "dated upstream paths go with an api-version"
    routes, rest = (rest_api.DATED_ROUTES, segments[1:]) if dated else (rest_api.V1_ROUTES, segments[2:])
    route, params = rest_api._match(routes, rest, method)
    assert set(params) == {p.name for p in spec.params if p.location == "path"}
    return route


@pytest.mark.parametrize("spec", OPERATIONS, ids=lambda spec: spec.name)
def test_every_catalog_operation_has_an_emulator_route_answering_a_catalog_success(spec):
    for method in spec.http_methods:
        route = emulator_route(spec, method)
        assert route.success in spec.success, (spec.name, method, route.success)
