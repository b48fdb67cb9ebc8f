"""Checks a JSON body against a body schema from the stored swagger facts.

Swashbuckle-generated swaggers state ``additionalProperties: false`` on every part of an ``allOf``
and model polymorphic commands by their ``type`` value; a generic JSON-schema validator would
refuse every valid ``:execute`` body. So: objects may hold only the properties the schema (with its
``allOf`` parts) defines, must hold the required ones, and a command is checked against the
definition its ``type`` names. ``items: {}`` and ``items: {type: object}`` without properties (a
.NET ``object``: any JSON, e.g. a hub method's arguments) are not looked into.
"""

from __future__ import annotations

from typing import Any


def _merged(schema: dict[str, Any]) -> dict[str, Any]:
    """One object schema from an ``allOf`` of object schemas (properties and required unioned)."""
    if "allOf" not in schema:
        return schema
    properties: dict[str, Any] = {}
    required: list[str] = []
    for part in schema["allOf"]:
        part = _merged(part)
        properties.update(part.get("properties", {}))
        required.extend(part.get("required", []))
    return {"type": "object", "properties": properties, "required": required}


def body_problems(schema: Any, value: Any, definitions: dict[str, Any], where: str = "body") -> list[str]:
    if not isinstance(schema, dict) or not schema:
        return []
    if schema.get("nullable") and value is None:
        return []
    schema = _merged(schema)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        if not isinstance(value, dict):
            return [f"{where}: {type(value).__name__} where an object is defined"]
        if schema.get("$definition") == "SignalRCommand" and value.get("type") in definitions:
            schema = _merged(definitions[value["type"]])  # the command type's own definition
        properties = schema.get("properties")
        if properties is None:
            return []  # a .NET object: any JSON
        found = [f"{where}: '{name}' is required" for name in schema.get("required", []) if name not in value]
        for name, item in value.items():
            if name not in properties:
                found.append(f"{where}: '{name}' is not defined")
            else:
                found.extend(body_problems(properties[name], item, definitions, f"{where}.{name}"))
        return found
    if kind == "array":
        if not isinstance(value, list):
            return [f"{where}: {type(value).__name__} where an array is defined"]
        items = schema.get("items", {})
        if isinstance(items, dict) and items.get("type") == "object" and "properties" not in items:
            return []
        return [p for i, item in enumerate(value) for p in body_problems(items, item, definitions, f"{where}[{i}]")]
    if kind == "string":
        if not isinstance(value, str):
            return [f"{where}: {type(value).__name__} where a string is defined"]
        found = []
        if len(value) < schema.get("minLength", 0):
            found.append(f"{where}: shorter than {schema['minLength']}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            found.append(f"{where}: longer than {schema['maxLength']}")
        if "enum" in schema and value not in schema["enum"]:
            found.append(f"{where}: {value!r} not in {schema['enum']}")
        return found
    return []
