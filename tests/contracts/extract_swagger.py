"""Extract machine-readable facts from a swagger 2.0 (or OpenAPI 3.0) JSON file.

Usage:
    python tests/contracts/extract_swagger.py SWAGGER.json --repository Azure/azure-signalr \
        --path docs/swagger/v1.json --commit <40-hex> [--licence MIT] [--note TEXT] [-o FACTS.json]
    python tests/contracts/extract_swagger.py NEW_SWAGGER.json --compare tests/contracts/data/FACTS.json

The facts keep no prose: descriptions, summaries, examples references and tags are dropped.
With --compare the differences between the new swagger and the stored facts are printed and the
exit status is 1 when there is any difference (0 otherwise).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
PARAMETER_KEYS = (
    "type",
    "format",
    "items",
    "collectionFormat",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "enum",
    "default",
)
DROPPED_SCHEMA_KEYS = frozenset({"description", "summary", "title", "x-ms-examples"})


class SwaggerError(ValueError):
    pass


def _pointer(document: dict[str, Any], ref: str) -> tuple[str, Any]:
    if not ref.startswith("#/"):
        raise SwaggerError(f"only local $ref is supported: {ref}")
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            raise SwaggerError(f"unresolvable $ref: {ref}")
        node = node[part]
    return ref.rsplit("/", 1)[-1], node


def resolve_schema(document: dict[str, Any], schema: Any, stack: tuple[str, ...] = ()) -> Any:
    """Resolve $ref recursively, drop descriptions; a cycle is cut as {"$recursive": name}."""
    if isinstance(schema, list):
        return [resolve_schema(document, item, stack) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        name, target = _pointer(document, schema["$ref"])
        if name in stack:
            return {"$recursive": name}
        resolved = resolve_schema(document, target, (*stack, name))
        return {"$definition": name, **resolved} if isinstance(resolved, dict) else resolved
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in DROPPED_SCHEMA_KEYS:
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: resolve_schema(document, sub, stack) for name, sub in value.items()}
        else:
            out[key] = resolve_schema(document, value, stack)
    return out


def _parameter_facts(document: dict[str, Any], raw: dict[str, Any], openapi3: bool) -> dict[str, Any]:
    if "$ref" in raw:
        _, raw = _pointer(document, raw["$ref"])
    facts: dict[str, Any] = {"name": raw["name"], "in": raw["in"], "required": bool(raw.get("required", False))}
    if raw["in"] == "body":
        facts["schema"] = resolve_schema(document, raw.get("schema", {}))
        return facts
    source = raw
    if openapi3 and isinstance(raw.get("schema"), dict):
        source = resolve_schema(document, raw["schema"])
    for key in PARAMETER_KEYS:
        if key in source:
            value = source[key]
            facts[key] = resolve_schema(document, value) if key == "items" else value
    if openapi3 and "explode" in raw:
        facts["explode"] = raw["explode"]
    return facts


def _openapi3_body(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any] | None:
    body = operation.get("requestBody")
    if body is None:
        return None
    if "$ref" in body:
        _, body = _pointer(document, body["$ref"])
    content = body.get("content", {})
    schemas = {media: resolve_schema(document, entry.get("schema", {})) for media, entry in content.items()}
    first = next(iter(schemas.values()), {})
    return {
        "name": "body",
        "in": "body",
        "required": bool(body.get("required", False)),
        "schema": first,
        "content_types": sorted(schemas),
    }


def extract(document: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
    openapi3 = str(document.get("openapi", "")).startswith("3")
    if not openapi3 and document.get("swagger") != "2.0":
        raise SwaggerError("neither swagger 2.0 nor OpenAPI 3.x")
    api_version = document.get("info", {}).get("version")
    operations: list[dict[str, Any]] = []
    for path, item in document.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            merged: dict[tuple[str, str], dict[str, Any]] = {}
            for raw in [*shared, *operation.get("parameters", [])]:
                facts = _parameter_facts(document, raw, openapi3)
                merged[(facts["in"], facts["name"])] = facts
            parameters = list(merged.values())
            if openapi3:
                body = _openapi3_body(document, operation)
                if body is not None:
                    parameters.append(body)
            body_parameter = next((p for p in parameters if p["in"] == "body"), None)
            operations.append(
                {
                    "operationId": operation.get("operationId"),
                    "method": method.upper(),
                    "path": path,
                    "api_version": api_version,
                    "parameters": parameters,
                    "body_schema": body_parameter["schema"] if body_parameter else None,
                    "responses": list(operation.get("responses", {})),
                }
            )
    operations.sort(key=lambda op: (op["path"], op["method"]))
    if openapi3:
        prefix, names = "#/components/schemas/", document.get("components", {}).get("schemas", {})
    else:
        prefix, names = "#/definitions/", document.get("definitions", {})
    definitions = {name: resolve_schema(document, {"$ref": prefix + name}) for name in sorted(names)}
    return {
        "source": source,
        "format": "openapi " + str(document["openapi"]) if openapi3 else "swagger 2.0",
        "api_version": api_version,
        "operations": operations,
        "definitions": definitions,
    }


def make_source(repository: str, path: str, commit: str, licence: str, note: str | None = None) -> dict[str, Any]:
    if len(commit) != 40 or any(c not in "0123456789abcdef" for c in commit):
        raise SwaggerError(f"commit must be 40 lower-case hex digits: {commit!r}")
    source: dict[str, Any] = {
        "repository": repository,
        "path": path,
        "commit": commit,
        "url": f"https://github.com/{repository}/blob/{commit}/{path}",
        "licence": licence,
    }
    if note:
        source["note"] = note
    return source


def _key(op: dict[str, Any]) -> str:
    return f"{op['method']} {op['path']}"


def compare(new: dict[str, Any], stored: dict[str, Any]) -> list[str]:
    """Differences from the stored facts to the new facts, one line each."""
    changes: list[str] = []
    if new.get("api_version") != stored.get("api_version"):
        changes.append(f"api-version changed: {stored.get('api_version')!r} -> {new.get('api_version')!r}")
    old_ops = {_key(op): op for op in stored["operations"]}
    new_ops = {_key(op): op for op in new["operations"]}
    for key in sorted(new_ops.keys() - old_ops.keys()):
        changes.append(f"operation added: {key} ({new_ops[key]['operationId']})")
    for key in sorted(old_ops.keys() - new_ops.keys()):
        changes.append(f"operation removed: {key} ({old_ops[key]['operationId']})")
    for key in sorted(new_ops.keys() & old_ops.keys()):
        old, cur = old_ops[key], new_ops[key]
        if old["operationId"] != cur["operationId"]:
            changes.append(f"{key}: operationId changed: {old['operationId']!r} -> {cur['operationId']!r}")
        old_params = {(p["in"], p["name"]): p for p in old["parameters"]}
        new_params = {(p["in"], p["name"]): p for p in cur["parameters"]}
        for where, name in sorted(new_params.keys() - old_params.keys()):
            changes.append(f"{key}: parameter added: {name} (in {where})")
        for where, name in sorted(old_params.keys() - new_params.keys()):
            changes.append(f"{key}: parameter removed: {name} (in {where})")
        for pk in sorted(new_params.keys() & old_params.keys()):
            a, b = old_params[pk], new_params[pk]
            for field in sorted(a.keys() | b.keys()):
                if a.get(field) != b.get(field):
                    before = json.dumps(a.get(field), sort_keys=True)
                    after = json.dumps(b.get(field), sort_keys=True)
                    changes.append(f"{key}: parameter {pk[1]} (in {pk[0]}) {field} changed: {before} -> {after}")
        if old["responses"] != cur["responses"]:
            changes.append(f"{key}: responses changed: {old['responses']} -> {cur['responses']}")
    return changes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("swagger", type=Path, help="raw swagger 2.0 / OpenAPI 3.0 JSON file")
    parser.add_argument("--repository", default="Azure/azure-signalr")
    parser.add_argument("--path", help="path of the swagger inside the repository")
    parser.add_argument("--commit", help="40-hex commit the swagger was read at")
    parser.add_argument("--licence", default="MIT")
    parser.add_argument("--note", help="optional provenance note stored in source.note")
    parser.add_argument("-o", "--output", type=Path, help="write facts here (default: stdout)")
    parser.add_argument("--compare", type=Path, metavar="FACTS.json", help="print differences to stored facts")
    args = parser.parse_args(argv)

    document = json.loads(args.swagger.read_text(encoding="utf-8"))
    if args.compare is not None:
        stored = json.loads(args.compare.read_text(encoding="utf-8"))
        source = stored["source"]
        if args.commit:
            source = make_source(args.repository, args.path or source["path"], args.commit, args.licence)
        changes = compare(extract(document, source), stored)
        for line in changes:
            print(line)
        if not changes:
            print("no differences")
        return 1 if changes else 0

    if not args.path or not args.commit:
        parser.error("--path and --commit are required when extracting")
    facts = extract(document, make_source(args.repository, args.path, args.commit, args.licence, args.note))
    text = json.dumps(facts, indent=2, ensure_ascii=False) + "\n"
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
