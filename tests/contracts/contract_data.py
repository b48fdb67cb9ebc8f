"""Typed access to the stored contract facts in tests/contracts/data."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

DATA_DIR = Path(__file__).resolve().parent / "data"
SWAGGER_FILES = {
    "v1": "signalr-swagger-v1.json",
    "2024-12-01": "signalr-swagger-2024-12-01.json",
}


@dataclass(frozen=True)
class ParameterFacts:
    name: str
    location: str
    required: bool
    raw: dict[str, Any] = field(repr=False)

    @property
    def type(self) -> str | None:
        return self.raw.get("type")

    def problems(self, value: str) -> list[str]:
        """Problems of one (already decoded) value against pattern, length, range and enum."""
        found: list[str] = []
        label = f"{self.location} parameter {self.name!r}"
        if self.type == "integer":
            try:
                number = int(value)
            except ValueError:
                return [f"{label}: {value!r} is not an integer"]
            if "minimum" in self.raw and number < self.raw["minimum"]:
                found.append(f"{label}: {number} < minimum {self.raw['minimum']}")
            if "maximum" in self.raw and number > self.raw["maximum"]:
                found.append(f"{label}: {number} > maximum {self.raw['maximum']}")
        elif self.type == "boolean" and value.lower() not in ("true", "false"):
            found.append(f"{label}: {value!r} is not a boolean")
        if "minLength" in self.raw and len(value) < self.raw["minLength"]:
            found.append(f"{label}: length {len(value)} < minLength {self.raw['minLength']}")
        if "maxLength" in self.raw and len(value) > self.raw["maxLength"]:
            found.append(f"{label}: length {len(value)} > maxLength {self.raw['maxLength']}")
        pattern = self.raw.get("pattern")
        if pattern is not None and re.search(pattern, value) is None:
            found.append(f"{label}: {value!r} does not match {pattern!r}")
        if "enum" in self.raw and value not in [str(item) for item in self.raw["enum"]]:
            found.append(f"{label}: {value!r} not in {self.raw['enum']}")
        return found


@dataclass(frozen=True)
class OperationFacts:
    operation_id: str | None
    method: str
    path: str
    api_version: str | None
    parameters: tuple[ParameterFacts, ...]
    body_schema: dict[str, Any] | list[Any] | None
    responses: tuple[str, ...]

    @property
    def query_parameters(self) -> dict[str, ParameterFacts]:
        return {p.name: p for p in self.parameters if p.location == "query"}

    @property
    def path_parameters(self) -> dict[str, ParameterFacts]:
        return {p.name: p for p in self.parameters if p.location == "path"}

    @property
    def success_codes(self) -> tuple[str, ...]:
        return tuple(code for code in self.responses if code.startswith("2"))

    def check_query(self, query: dict[str, str | list[str]]) -> list[str]:
        """Problems of a query: undefined parameters, pattern/length/range violations, missing required ones."""
        defined = self.query_parameters
        found: list[str] = []
        for name, value in query.items():
            parameter = defined.get(name)
            if parameter is None:
                found.append(f"query parameter {name!r} is not defined for {self.operation_id}")
                continue
            values = value if isinstance(value, list) else [value]
            if len(values) > 1 and parameter.type != "array":
                found.append(f"query parameter {name!r} given {len(values)} times but is not an array")
            if parameter.type == "array":
                items = ParameterFacts(name, "query", False, parameter.raw.get("items", {}))
                for item in values:
                    found.extend(items.problems(item))
            else:
                for item in values:
                    found.extend(parameter.problems(item))
        for name, parameter in defined.items():
            if parameter.required and name not in query:
                found.append(f"required query parameter {name!r} is missing")
        return found

    def check_path(self, values: dict[str, str]) -> list[str]:
        found: list[str] = []
        for name, value in values.items():
            parameter = self.path_parameters.get(name)
            if parameter is not None:
                found.extend(parameter.problems(value))
        return found


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    pattern = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{pattern}$")


@dataclass(frozen=True)
class MatchResult:
    operation: OperationFacts
    path_values: dict[str, str]


@dataclass(frozen=True)
class SwaggerFacts:
    version: str
    source: dict[str, Any]
    api_version: str | None
    operations: tuple[OperationFacts, ...]
    definitions: dict[str, Any]

    def operation(self, operation_id: str) -> OperationFacts:
        for op in self.operations:
            if op.operation_id == operation_id:
                return op
        raise KeyError(operation_id)

    def match_with_values(self, method: str, path: str) -> MatchResult | None:
        """Match a concrete path; path segments are matched raw, then percent-decoded."""
        path = path.split("?", 1)[0]
        for op in self.operations:
            if op.method != method.upper():
                continue
            found = _template_regex(op.path).match(path)
            if found is not None:
                return MatchResult(op, {k: unquote(v) for k, v in found.groupdict().items()})
        return None

    def match(self, method: str, path: str) -> OperationFacts | None:
        result = self.match_with_values(method, path)
        return result.operation if result else None


def _operation(raw: dict[str, Any]) -> OperationFacts:
    parameters = tuple(ParameterFacts(p["name"], p["in"], bool(p.get("required")), p) for p in raw["parameters"])
    return OperationFacts(
        operation_id=raw.get("operationId"),
        method=raw["method"],
        path=raw["path"],
        api_version=raw.get("api_version"),
        parameters=parameters,
        body_schema=raw.get("body_schema"),
        responses=tuple(raw["responses"]),
    )


def facts_from_dict(version: str, data: dict[str, Any]) -> SwaggerFacts:
    return SwaggerFacts(
        version=version,
        source=data["source"],
        api_version=data.get("api_version"),
        operations=tuple(_operation(op) for op in data["operations"]),
        definitions=data.get("definitions", {}),
    )


def load_json(name: str) -> dict[str, Any]:
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


@cache
def load_swagger(version: str) -> SwaggerFacts:
    """Facts of one stored swagger: 'v1' or '2024-12-01'."""
    if version not in SWAGGER_FILES:
        raise KeyError(f"no stored swagger facts for {version!r}; known: {sorted(SWAGGER_FILES)}")
    return facts_from_dict(version, load_json(SWAGGER_FILES[version]))


def load_functions_extension() -> dict[str, Any]:
    return load_json("functions-extension-upstream.json")


def load_odata_filter() -> dict[str, Any]:
    return load_json("signalr-odata-filter.json")


def load_management_sdk_rules() -> dict[str, Any]:
    return load_json("management-sdk-rules.json")
