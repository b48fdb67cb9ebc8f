from __future__ import annotations

import hashlib
import hmac
import json
import re
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from contracts import contract_data, extract_swagger

SYNTHETIC = {
    "swagger": "2.0",
    "info": {"title": "t", "version": "2099-01-01"},
    "parameters": {
        "Hub": {
            "in": "path",
            "name": "hub",
            "required": True,
            "type": "string",
            "pattern": "^[A-Za-z]+$",
            "description": "prose that must not survive",
        },
    },
    "paths": {
        "/api/hubs/{hub}/:send": {
            "post": {
                "operationId": "Send",
                "summary": "prose",
                "parameters": [
                    {"$ref": "#/parameters/Hub"},
                    {"in": "query", "name": "ttl", "type": "integer", "minimum": 1, "maximum": 10},
                    {"in": "body", "name": "payload", "required": True, "schema": {"$ref": "#/definitions/Node"}},
                ],
                "responses": {"202": {"description": "Accepted"}, "default": {"description": "error"}},
            }
        }
    },
    "definitions": {
        "Node": {
            "type": "object",
            "description": "prose",
            "properties": {"name": {"type": "string", "description": "prose"}, "next": {"$ref": "#/definitions/Node"}},
        },
    },
}
SOURCE_ARGS = ["--repository", "example/repo", "--path", "spec.json", "--commit", "a" * 40]


def _write(tmp_path: Path, name: str, data: dict) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# --- extract_swagger ---------------------------------------------------------------------------------------------


def test_extract_synthetic_round_trip(tmp_path: Path) -> None:
    swagger = _write(tmp_path, "s.json", SYNTHETIC)
    out = tmp_path / "facts.json"
    assert extract_swagger.main([str(swagger), *SOURCE_ARGS, "-o", str(out)]) == 0
    facts = json.loads(out.read_text(encoding="utf-8"))
    assert facts["source"]["url"] == f"https://github.com/example/repo/blob/{'a' * 40}/spec.json"
    assert "prose" not in out.read_text(encoding="utf-8")
    (op,) = facts["operations"]
    assert (op["operationId"], op["method"], op["path"], op["api_version"]) == (
        "Send",
        "POST",
        "/api/hubs/{hub}/:send",
        "2099-01-01",
    )
    assert op["parameters"][0] == {
        "name": "hub",
        "in": "path",
        "required": True,
        "type": "string",
        "pattern": "^[A-Za-z]+$",
    }
    assert op["parameters"][1] == {
        "name": "ttl",
        "in": "query",
        "required": False,
        "type": "integer",
        "minimum": 1,
        "maximum": 10,
    }
    assert op["body_schema"]["properties"]["next"] == {"$recursive": "Node"}
    assert op["responses"] == ["202", "default"]
    # The stored facts load and compare equal to a fresh extraction.
    assert extract_swagger.main([str(swagger), "--compare", str(out)]) == 0


def test_compare_detects_added_parameter(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stored = tmp_path / "facts.json"
    extract_swagger.main([str(_write(tmp_path, "old.json", SYNTHETIC)), *SOURCE_ARGS, "-o", str(stored)])
    newer = json.loads(json.dumps(SYNTHETIC))
    newer["paths"]["/api/hubs/{hub}/:send"]["post"]["parameters"].append(
        {"in": "query", "name": "application", "type": "string"}
    )
    newer["paths"]["/api/hubs/{hub}/:send"]["post"]["parameters"][1]["maximum"] = 20
    capsys.readouterr()
    assert extract_swagger.main([str(_write(tmp_path, "new.json", newer)), "--compare", str(stored)]) == 1
    printed = capsys.readouterr().out
    assert "parameter added: application (in query)" in printed
    assert "parameter ttl (in query) maximum changed: 10 -> 20" in printed


def test_compare_detects_removed_operation() -> None:
    stored = extract_swagger.extract(SYNTHETIC, {})
    newer = {**SYNTHETIC, "paths": {}}
    assert extract_swagger.compare(extract_swagger.extract(newer, {}), stored) == [
        "operation removed: POST /api/hubs/{hub}/:send (Send)"
    ]


def test_extract_rejects_bad_commit() -> None:
    with pytest.raises(extract_swagger.SwaggerError):
        extract_swagger.make_source("a/b", "p", "HEAD", "MIT")


# --- stored swagger facts ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v1", "2024-12-01"])
def test_stored_facts_record_their_source(version: str) -> None:
    facts = contract_data.load_swagger(version)
    source = facts.source
    assert source["repository"] == "Azure/azure-signalr"
    assert re.fullmatch(r"[0-9a-f]{40}", source["commit"])
    assert source["url"] == f"https://github.com/Azure/azure-signalr/blob/{source['commit']}/{source['path']}"
    assert source["licence"] == "MIT"
    assert facts.operations


def test_v1_defines_no_application_parameter() -> None:
    facts = contract_data.load_swagger("v1")
    assert all(p.name != "application" for op in facts.operations for p in op.parameters)


def test_dated_operations_without_application() -> None:
    facts = contract_data.load_swagger("2024-12-01")
    missing = {op.operation_id for op in facts.operations if "application" not in op.query_parameters}
    assert missing == {
        "Auth_GetAccessKey",
        "HealthApi_GetServiceStatus",
        "HubProxyV20230701_Execute",
        "HubProxyV20221101_GenerateClientToken",
    }


def test_match_percent_decodes_segments() -> None:
    facts = contract_data.load_swagger("2024-12-01")
    result = facts.match_with_values("put", "/api/hubs/chat/groups/g%2F1/connections/c1?api-version=2024-12-01")
    assert result is not None
    assert result.operation.operation_id == "SignalR_AddConnectionToGroup"
    assert result.path_values == {"hub": "chat", "group": "g/1", "connectionId": "c1"}
    assert facts.match("GET", "/api/hubs/chat/nothing") is None


def test_match_v1_paths() -> None:
    facts = contract_data.load_swagger("v1")
    op = facts.match("HEAD", "/api/v1/hubs/chat/groups/g1")
    assert op is not None
    assert op.operation_id == "HubProxyControllerV1_Head_CheckGroupExistence"
    assert op.success_codes == ("200",)


def test_check_query() -> None:
    op = contract_data.load_swagger("2024-12-01").operation("HubProxyV20241201_ListConnectionsInGroup")
    assert op.check_query({"api-version": "2024-12-01", "maxpagesize": "200", "application": "App_1"}) == []
    problems = op.check_query({"maxpagesize": "201", "application": "1app", "bogus": "x"})
    assert any("maxpagesize" in p and "maximum 200" in p for p in problems)
    assert any("'application'" in p and "does not match" in p for p in problems)
    assert any("'bogus' is not defined" in p for p in problems)
    assert any("required query parameter 'api-version' is missing" == p for p in problems)


def test_path_limits_and_body_schema() -> None:
    facts = contract_data.load_swagger("2024-12-01")
    op = facts.operation("SignalR_AddUserToGroup")
    assert op.check_path({"group": "g" * 1024, "hub": "chat"}) == []
    assert op.check_path({"group": "g" * 1025})
    assert op.check_path({"group": "   "})
    assert op.check_path({"hub": "1chat"})
    send = facts.operation("SignalR_Broadcast")
    assert isinstance(send.body_schema, dict)
    assert send.body_schema["$definition"] == "PayloadMessage"
    assert send.body_schema["required"] == ["target"]


# --- upstream vectors --------------------------------------------------------------------------------------------


def test_signature_vectors_agree_with_hmac() -> None:
    vectors = contract_data.load_functions_extension()["signature_vectors"]
    for key, signature in vectors["signature_for_key"].items():
        digest = hmac.new(key.encode(), vectors["connection_id"].encode(), hashlib.sha256).hexdigest()
        assert signature == "sha256=" + digest
    assert set(vectors["signature_for_key"].values()) == set(vectors["signatures"])


def test_query_vectors_agree_with_a_simple_parser() -> None:
    for case in contract_data.load_functions_extension()["query_vectors"]["cases"]:
        parsed: dict[str, list[str]] = {}
        for key, value in parse_qsl(case["header"].lstrip("?")):
            parsed.setdefault(key, []).append(value)
        assert {k: ",".join(v) for k, v in parsed.items()} == case["expected"]


def test_other_data_files_record_sources() -> None:
    odata = contract_data.load_odata_filter()
    assert re.fullmatch(r"[0-9a-f]{40}", odata["source"]["commit"])
    assert "userId eq 'user''1'" in odata["example_expressions"]["examples_section"]
    rules = contract_data.load_management_sdk_rules()
    assert all(re.fullmatch(r"[0-9a-f]{40}", rule["commit"]) for rule in rules["rules"])
    for rule in contract_data.load_functions_extension()["rules"]:
        assert re.fullmatch(r"[0-9a-f]{40}", rule["commit"])
        assert rule["path"]
