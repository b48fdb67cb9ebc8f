"""Every upstream request the facade can make, checked against Microsoft's swaggers (issue 23, contract tests).

Each catalog operation is sent through the facade's own pipeline (``Facade.forward``, the client, the
transport) to the recording stand-in, with and without each optional parameter, with and without
``SIGNALR_APPLICATION`` (and the multi-tenant namespace), over access-key and Entra credentials. What
arrives is checked against the stored facts of the swagger its path belongs to
(tests/contracts/data/signalr-swagger-*.json, Azure/azure-signalr docs/swagger): the method and path
template, every query parameter (one the swagger does not define for that operation fails), path and
query values against their patterns, the body schema, the api-version; and the access-key token's
``aud`` per the Management SDK's rule (management-sdk-rules.json).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, replace
from typing import Any

import jwt
import pytest

from contracts.body_schema import body_problems
from contracts.contract_data import load_management_sdk_rules, load_swagger
from devstack.constants import DEV_ACCESS_KEY
from functions.catalog.operations import OPERATIONS, OperationSpec
from functions.core.command import build_command
from functions.core.errors import FacadeError
from functions.core.facade import Facade, check_prefixed_hub, tenant_namespace
from functions.core.settings import Settings
from support.recording_upstream import Answer, Recorded

TENANT = "5e7a1c0d-9b2f-4c3e-8d4a-1f2e3d4c5b6a"
OTHER_TENANT = "cccccccc-0000-4000-8000-00000000000c"
# Answers every operation can read: a page, a client result, a token (any 2xx is success).
ANSWER = Answer(200, {"Content-Type": "application/json"},
                json.dumps({"value": [{"connectionId": "c1", "userId": "u1"}], "result": 1, "token": "t"}).encode())

REQUIRED = {"hub": "Chat_v2", "group": "Group/A b", "user": "User A", "connectionId": "conn:1/x"}
OPTIONAL = {"excluded": ["c1", "c 2"], "reason": "bye now", "ttl": 60, "maxpagesize": 10, "top": 5,
            "continuationToken": "sealed-below", "filter": "userId eq 'u1'"}
PAYLOAD = {"target": "notify", "arguments": ["hi", {"n": 1}]}
COMMANDS = [{"type": "SendMessage", "message": PAYLOAD}, {"type": "JoinGroup", "group": "g"},
            {"type": "LeaveGroup", "group": "g"}, {"type": "CloseConnection", "reason": "r"}]


@dataclass(frozen=True)
class Mode:
    """How the facade is configured: credential kind and application namespace."""

    credential: str  # "access-key" or "entra"
    application: str | None  # SIGNALR_APPLICATION
    multi_tenant: bool = False

    @property
    def id(self) -> str:
        return "-".join([self.credential, self.application or "no-app", "multi" if self.multi_tenant else "single"])

    @property
    def namespace(self) -> str | None:
        parts = [p for p in (self.application, tenant_namespace(OTHER_TENANT) if self.multi_tenant else None) if p]
        return "_".join(parts) or None


MODES = [Mode(c, a, m) for c, a, m in itertools.product(("access-key", "entra"), (None, "Shop"), (False, True))]


class FixedEntraToken:
    """azure-identity cannot reach Entra here: the one double, for the credential only."""

    def bearer(self, url: str) -> str:
        return "entra-token"


def facade_for(mode: Mode, port: int) -> Facade:
    auth = f"AccessKey={DEV_ACCESS_KEY}" if mode.credential == "access-key" else "AuthType=azure.msi"
    env = {"AzureSignalRConnectionString": f"Endpoint=https://demo.service.signalr.net;{auth};Version=1.0;"
                                           f"ServerEndpoint=http://127.0.0.1:{port}",
           "ENTRA_TENANT_ID": TENANT, "ENTRA_AUDIENCES": "api://facade"}
    if mode.application:
        env["SIGNALR_APPLICATION"] = mode.application
    if mode.multi_tenant:
        env.update(ENTRA_TENANT_ID="organizations", ENTRA_ALLOWED_TENANTS=OTHER_TENANT)
    facade = Facade(Settings.from_environ(env))
    assert facade.settings.problems() == []
    if mode.credential == "entra":
        facade.client.credential = FixedEntraToken()
    return facade


def input_variants(spec: OperationSpec) -> list[dict[str, Any]]:
    """Required inputs alone, with each optional one, and with all of them."""
    base = {p.name: REQUIRED[p.name] for p in spec.params if p.required}
    optional = [p.name for p in spec.params if not p.required]
    variants = [base] + [{**base, name: OPTIONAL[name]} for name in optional]
    if len(optional) > 1:
        variants.append({**base, **{name: OPTIONAL[name] for name in optional}})
    return variants


def body_for(spec: OperationSpec) -> Any:
    if spec.body is None:
        return None
    return COMMANDS if spec.name == "executeCommands" else PAYLOAD


def cases() -> list[tuple[OperationSpec, dict[str, Any], str]]:
    found = []
    for spec in OPERATIONS:
        for inputs in input_variants(spec):
            for method in spec.http_methods:
                found.append((spec, inputs, method))
    return found


CASES = cases()


def swagger_for(path: str):
    return load_swagger("v1" if path.startswith("/api/v1/") else "2024-12-01")


def contract_problems(request: Recorded) -> list[str]:
    """Everything about one recorded request that its swagger does not allow."""
    swagger = swagger_for(request.path)
    match = swagger.match_with_values(request.method, request.raw_path)
    if match is None:
        return [f"{request.method} {request.path}: no operation of the {swagger.version} swagger"]
    operation = match.operation
    query: dict[str, str | list[str]] = {}
    for name, value in request.query:
        query[name] = [*query[name], value] if isinstance(query.get(name), list) else \
            [query[name], value] if name in query else value  # type: ignore[list-item]
    problems = operation.check_query(query) + operation.check_path(match.path_values)
    if "api-version" in operation.query_parameters and query.get("api-version") != swagger.api_version:
        problems.append(f"api-version {query.get('api-version')!r}, the swagger is {swagger.api_version}")
    if operation.body_schema is not None and request.body:
        problems += body_problems(operation.body_schema, request.json(), swagger.definitions)
    elif request.body:
        problems.append("a body where the swagger defines none")
    return [f"{operation.operation_id}: {p}" for p in problems]


def audience_problems(request: Recorded) -> list[str]:
    """The access-key token's aud: Endpoint's scheme://host (no port) + the request path, no query.

    Management SDK (management-sdk-rules.json): AudienceBaseUrl is scheme://host of Endpoint, whatever
    ServerEndpoint says; the path is the request's. The SDK's dated era appends ?application=&api-version=;
    the service's own rule (Azure/azure-signalr docs/rest-api.md: "the SAME as your HTTP request url,
    trailing slash and query parameters not included") leaves the query out, as the SDK's v1 era did:
    the facade follows that documented rule for every version.
    """
    claims = jwt.decode(request.bearer, DEV_ACCESS_KEY, algorithms=["HS256"], options={"verify_aud": False})
    expected = "https://demo.service.signalr.net" + request.path
    return [] if claims.get("aud") == expected else [f"aud {claims.get('aud')!r}, expected {expected!r}"]


@pytest.fixture
def answering(upstream):
    upstream.default = ANSWER
    return upstream


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.id)
def test_every_upstream_request_is_one_the_swagger_defines(answering, mode):
    facade = facade_for(mode, answering.port)
    problems: list[str] = []
    sent = 0
    for spec, inputs, method in CASES:
        answering.requests.clear()
        command = build_command(spec, inputs, body_for(spec))
        if "continuationToken" in inputs:  # one the facade sealed for this very listing (its nextLink)
            listing = replace(command, application=mode.namespace.lower() if mode.namespace else None)
            sealed = facade.page_tokens.seal(listing, "upstream/token")
            command = replace(command, args={**command.args, "continuationToken": sealed})
        facade.forward(command, tenant_id=OTHER_TENANT if mode.multi_tenant else None, method=method)
        assert answering.requests, f"{spec.name} sent nothing"
        for request in answering.requests:
            sent += 1
            found = contract_problems(request)
            if mode.credential == "access-key":
                found += audience_problems(request)
            else:
                assert request.bearer == "entra-token"
            found += namespace_problems(spec, request, mode)
            problems += [f"{spec.name} {method} {sorted(inputs)}: {p}" for p in found]
    assert sent >= len(CASES)
    assert problems == []


def namespace_problems(spec: OperationSpec, request: Recorded, mode: Mode) -> list[str]:
    """The application reaches the service where the swagger carries it: the query where the operation
    defines ``application``, else the hub segment (lower(app)_lower(hub))."""
    operation = swagger_for(request.path).match(request.method, request.raw_path)
    assert operation is not None
    hub = swagger_for(request.path).match_with_values(request.method, request.raw_path).path_values["hub"]
    query = dict(request.query)
    if mode.namespace is None:
        expected_hub, expected_app = "chat_v2", None
    elif "application" in operation.query_parameters:
        expected_hub, expected_app = "chat_v2", mode.namespace.lower()
    else:
        expected_hub, expected_app = check_prefixed_hub(mode.namespace, "Chat_v2"), None
    found = []
    if hub != expected_hub:
        found.append(f"hub segment {hub!r}, expected {expected_hub!r}")
    if query.get("application") != expected_app:
        found.append(f"application {query.get('application')!r}, expected {expected_app!r}")
    return found


@pytest.mark.parametrize("mode", [m for m in MODES if m.credential == "entra"], ids=lambda m: m.id)
def test_the_client_token_request_of_negotiate_is_one_the_swagger_defines(answering, mode):
    facade = facade_for(mode, answering.port)
    hub = check_prefixed_hub(mode.namespace, "Chat_v2")  # what negotiate asks for (Facade.negotiate)
    assert facade.client.generate_client_token(hub, "user-1", 15) == "t"
    (request,) = answering.requests
    assert contract_problems(request) == []
    assert namespace_problems_for_token(request, hub) == []


def namespace_problems_for_token(request: Recorded, hub: str) -> list[str]:
    values = load_swagger("2024-12-01").match_with_values(request.method, request.raw_path)
    assert values is not None
    assert values.operation.operation_id == "HubProxyV20221101_GenerateClientToken"
    return [] if values.path_values["hub"] == hub and "application" not in dict(request.query) else [
        f"generateToken addressed {values.path_values['hub']!r} with {request.query}"]


def test_the_health_probe_is_one_the_swagger_defines(answering):
    facade = facade_for(MODES[0], answering.port)
    assert facade.client.health() == 200
    (request,) = answering.requests
    assert contract_problems(request) == []
    assert audience_problems(request) == []


@pytest.mark.parametrize("example", load_management_sdk_rules()["examples"]["v1"],
                         ids=lambda e: f"{e['app']}-{e['hub']}-{e['call']}")
def test_the_access_key_audience_is_the_management_sdks_for_its_v1_examples(upstream, example):
    """The SDK's own test contexts (RestApiProviderFacts.cs, v1 era), sent by the facade: same aud."""
    operation = {"broadcast": "broadcast", "user-group management": "addUserToGroup"}[example["call"]]
    spec = next(s for s in OPERATIONS if s.name == operation)
    env = {"AzureSignalRConnectionString": f"Endpoint={load_management_sdk_rules()['examples']['endpoint']};"
                                           f"AccessKey={DEV_ACCESS_KEY};Version=1.0;"
                                           f"ServerEndpoint=http://127.0.0.1:{upstream.port}",
           "SIGNALR_APPLICATION": example["app"], "ENTRA_TENANT_ID": TENANT, "ENTRA_AUDIENCES": "api://facade"}
    inputs = {"hub": example["hub"], "group": example.get("group"), "user": example.get("user")}
    if "/" in example["app"] + example["hub"]:
        # The service's hub pattern refuses '/': the facade refuses it before anything goes upstream.
        settings = Settings.from_environ(env)
        refused = bool(settings.problems())  # an application with '/': a settings problem, nothing runs
        if not refused:
            with pytest.raises(FacadeError):  # a hub with '/': a 400 before anything is sent
                Facade(settings).forward(build_command(spec, inputs, body_for(spec)))
        assert upstream.requests == []
        return
    Facade(Settings.from_environ(env)).forward(build_command(spec, inputs, body_for(spec)))
    (request,) = upstream.requests
    claims = jwt.decode(request.bearer, DEV_ACCESS_KEY, algorithms=["HS256"], audience=example["audience"])
    assert claims["aud"] == example["audience"]


def test_a_query_parameter_the_swagger_does_not_define_fails_the_check():
    """The check itself can fail: `application` on a v1 path, and on `:execute`, are not defined."""
    v1 = Recorded("POST", "/api/v1/hubs/chat?application=shop", [("application", "shop")], {}, b"")
    execute = Recorded("POST", "/api/hubs/chat/:execute?application=shop&api-version=2024-12-01",
                       [("application", "shop"), ("api-version", "2024-12-01")], {}, b"[]")
    old_token = Recorded("POST", "/api/hubs/chat/:generateToken?api-version=2023-07-01",
                         [("api-version", "2023-07-01")], {}, b"")
    assert any("'application' is not defined" in p for p in contract_problems(v1))
    assert any("'application' is not defined" in p for p in contract_problems(execute))
    assert any("api-version" in p for p in contract_problems(old_token))
    bad_body = Recorded("POST", "/api/hubs/chat/:send?api-version=2024-12-01", [("api-version", "2024-12-01")],
                        {}, b'{"Target": "t"}')
    assert any("'Target' is not defined" in p for p in contract_problems(bad_body))
