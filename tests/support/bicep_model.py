"""Bicep as the infra tests read it: tree-sitter's syntax tree and a small evaluator over it.

The Bicep CLI cannot run here, so the tests read templates the way a reviewer does:
declarations by name, literals as Python values, and whatever only the deployment knows (a
resource property, ``uniqueString()``, a module output) as an ``Unknown`` that prints as its
source text, ``{identity.outputs.clientId}``. Modules are followed with the parameter values
their caller passes, so a test sees what a deployment would write, placeholders included.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import tree_sitter
import tree_sitter_bicep

PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_bicep.language()))
Node = tree_sitter.Node

REPO = Path(__file__).resolve().parents[2]
BICEP_DIR = REPO / "infra" / "bicep"


def bicep_paths() -> list[Path]:
    """Every template under infra/bicep."""
    return sorted(BICEP_DIR.rglob("*.bicep"))


@dataclass(frozen=True)
class Unknown:
    """A value known only at deployment time, kept as its Bicep source text."""

    text: str

    def __str__(self) -> str:
        return "{" + self.text + "}"


class Partial(str):
    """A string with deployment-time parts, shown as ``{source text}`` placeholders."""


def is_known(value: Any) -> bool:
    return not isinstance(value, (Unknown, Partial))


@dataclass
class Declaration:
    """One top-level (or nested resource) declaration: param, var, resource, module, output."""

    kind: str
    name: str
    node: Node
    type: str | None = None  # resource type@api, module path, or the declared type
    value: Node | None = None  # default, value, or body (a for_statement for loops)
    decorators: dict[str, list[Node]] = field(default_factory=dict)
    existing: bool = False
    parent: Declaration | None = None

    @property
    def resource_type(self) -> str:
        """Full type without the API version, children prefixed with their parent's type."""
        short = (self.type or "").split("@")[0]
        return f"{self.parent.resource_type}/{short}" if self.parent else short

    @property
    def api_version(self) -> str | None:
        if self.type and "@" in self.type:
            return self.type.split("@", 1)[1]
        return self.parent.api_version if self.parent else None


def text(node: Node) -> str:
    return node.text.decode()


def named(node: Node) -> list[Node]:
    return [c for c in node.children if c.is_named and c.type != "comment"]


def object_property(obj: Node, key: str) -> Node | None:
    """The value node of ``key`` in an object node (through a for/if body), or None."""
    obj = body_object(obj)
    for prop in (c for c in obj.children if c.type == "object_property"):
        parts = named(prop)
        if len(parts) == 2 and key_text(parts[0]) == key:
            return parts[1]
    return None


def body_object(node: Node) -> Node:
    """The object a resource or module body ends in, under any for/if wrapper."""
    while node.type in ("for_statement", "if_statement"):
        node = node.child_by_field_name("body") or named(node)[-1]
    return node


def key_text(node: Node) -> str:
    if node.type == "string":
        return "".join(text(c) for c in node.children if c.type == "string_content")
    return text(node)


class BicepFile:
    """Declarations of one .bicep file, by kind and name."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tree = PARSER.parse(path.read_bytes())
        self.params: dict[str, Declaration] = {}
        self.variables: dict[str, Declaration] = {}
        self.outputs: dict[str, Declaration] = {}
        self.modules: dict[str, Declaration] = {}
        self.resources: dict[str, Declaration] = {}
        self.extensions: list[str] = []
        self._read(self.tree.root_node, parent=None)

    def _read(self, container: Node, parent: Declaration | None) -> None:
        decorators: dict[str, list[Node]] = {}
        for node in container.children:
            if node.type == "decorators":
                for decorator in named(node):
                    call = named(decorator)[0]
                    name, arguments = named(call)[0], call.child_by_field_name("arguments")
                    decorators[text(name)] = named(arguments) if arguments else []
                continue
            if node.type == "object_property" and named(node)[0].type == "resource_declaration":
                node = named(node)[0]
            self._declare(node, decorators, parent)
            decorators = {}

    def _declare(self, node: Node, decorators: dict[str, list[Node]], parent: Declaration | None) -> None:
        parts = named(node)
        kind = node.type.removesuffix("_declaration")
        if node.type == "ERROR" and text(node).startswith("extension "):
            self.extensions.append(text(node).split()[1])  # the grammar predates `extension`
            return
        if kind not in ("parameter", "variable", "resource", "module", "output"):
            return
        name = text(parts[0])
        if kind == "variable":
            declared, value = None, parts[1]
        elif kind == "parameter":
            declared, value = parts[1], (parts[2] if len(parts) > 2 else None)
        else:
            declared, value = parts[1], parts[-1]
        type_ = None if declared is None else (key_text(declared) if declared.type == "string" else text(declared))
        decl = Declaration(
            kind,
            name,
            node,
            type_,
            value,
            decorators,
            existing=any(c.type == "existing" for c in node.children),
            parent=parent,
        )
        registry = {
            "parameter": self.params,
            "variable": self.variables,
            "output": self.outputs,
            "module": self.modules,
            "resource": self.resources,
        }[kind]
        registry[name] = decl
        if kind == "resource":
            self._read(body_object(value), parent=decl)

    @cached_property
    def syntax_errors(self) -> list[Node]:
        return [n for n in walk(self.tree.root_node) if n.type == "ERROR" or n.is_missing]

    def resources_of_type(self, resource_type: str) -> list[Declaration]:
        return [r for r in self.resources.values() if r.resource_type.lower() == resource_type.lower()]


def walk(node: Node) -> Iterator[Node]:
    yield node
    for child in node.children:
        yield from walk(child)


def _union(*values: Any) -> Any:
    if all(isinstance(v, dict) for v in values):
        merged: dict[str, Any] = {}
        for value in values:
            merged.update(value)
        return merged
    if all(isinstance(v, list) for v in values):
        return list(dict.fromkeys(x for v in values for x in v))
    raise TypeError("union() of mixed types")


def _join(items: list[Any], separator: str) -> str:
    joined = separator.join(str(i) for i in items)
    return joined if all(is_known(i) for i in items) else Partial(joined)


# Functions whose result is known even when the values inside their arguments are not.
STRUCTURAL = {"union", "join", "empty", "length"}
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "union": _union,
    "join": _join,
    "empty": lambda value: len(value) == 0,
    "split": lambda value, sep: value.split(sep),
    "take": lambda value, count: value[:count],
    "toLower": lambda value: value.lower(),
    "toUpper": lambda value: value.upper(),
    "contains": lambda container, item: item in container,
    "length": len,
    "subscriptionResourceId": lambda type_, *names: (
        "/subscriptions/{subscription}/providers/" + "/".join([type_, *names])
    ),
}


class Evaluator:
    """Values of one file's expressions, given parameter values (defaults fill the rest)."""

    def __init__(self, file: BicepFile, params: dict[str, Any] | None = None) -> None:
        self.file = file
        self._variables: dict[str, Any] = {}
        self.params: dict[str, Any] = {}
        given = params or {}
        for name, decl in file.params.items():
            if name in given:
                self.params[name] = given[name]
            else:
                self.params[name] = Unknown(name) if decl.value is None else self.value(decl.value)

    def variable(self, name: str) -> Any:
        if name not in self._variables:
            self._variables[name] = self.value(self.file.variables[name].value)
        return self._variables[name]

    def instances(self, decl: Declaration) -> list[Any]:
        """The bodies a resource or module declaration deploys: one, none (if false), or a loop's."""
        body = self.value(decl.value)
        if isinstance(body, list):
            return body
        return [] if body is None else [body]

    def module(self, name: str) -> Evaluator:
        """The module's file evaluated with the parameter values this file passes it."""
        decl = self.file.modules[name]
        [body] = self.instances(decl)
        path = (self.file.path.parent / (decl.type or "")).resolve()
        return Evaluator(BicepFile(path), body.get("params", {}))

    def value(self, node: Node, scope: dict[str, Any] | None = None) -> Any:
        scope = scope or {}
        kind = node.type
        if kind == "string":
            return self._string(node, scope)
        if kind == "number":
            return int(text(node))
        if kind == "boolean":
            return text(node) == "true"
        if kind == "null":
            return None
        if kind == "array":
            return [self.value(c, scope) for c in named(node)]
        if kind == "object":
            return {
                self._key(named(p)[0], scope): self.value(named(p)[1], scope)
                for p in named(node)
                if p.type == "object_property" and named(p)[0].type != "resource_declaration"
            }
        if kind == "parenthesized_expression":
            return self.value(named(node)[0], scope)
        if kind == "identifier":
            name = text(node)
            if name in scope:
                return scope[name]
            if name in self.params:
                return self.params[name]
            if name in self.file.variables:
                return self.variable(name)
            return Unknown(name)
        if kind == "for_statement":
            return self._for(node, scope)
        if kind == "if_statement":
            condition = self.value(named(node)[0], scope)
            return (
                self.value(named(node)[-1], scope)
                if condition is True
                else (None if condition is False else Unknown(text(node)))
            )
        known = self._operation(node, scope)
        return Unknown(text(node)) if known is _UNKNOWN else known

    def _key(self, node: Node, scope: dict[str, Any]) -> str:
        return self._string(node, scope) if node.type == "string" else text(node)

    def _string(self, node: Node, scope: dict[str, Any]) -> str:
        parts: list[Any] = []
        for child in node.children:
            if child.type == "string_content":
                parts.append(text(child))
            elif child.type == "escape_sequence":
                parts.append(text(child)[1:])
            elif child.type == "interpolation":
                parts.append(self.value(named(child)[0], scope))
        joined = "".join(str(p) for p in parts)
        return joined if all(is_known(p) for p in parts) else Partial(joined)

    def _for(self, node: Node, scope: dict[str, Any]) -> Any:
        parts = named(node)
        head, source, body = parts[0], parts[1], node.child_by_field_name("body")
        items = self.value(source, scope)
        if not isinstance(items, list):
            return Unknown(text(node))
        if head.type == "for_loop_parameters":
            item_name, index_name = (text(c) for c in named(head))
        else:
            item_name, index_name = text(head), None
        results = []
        for index, item in enumerate(items):
            inner = {**scope, item_name: item, **({index_name: index} if index_name else {})}
            results.append(self.value(body, inner))
        return results

    def _operation(self, node: Node, scope: dict[str, Any]) -> Any:
        kind = node.type
        if kind in ("member_expression", "subscript_expression"):
            target = self.value(node.child_by_field_name("object"), scope)
            if kind == "member_expression":
                key: Any = text(node.child_by_field_name("property"))
            else:
                key = self.value(node.child_by_field_name("index"), scope)
            try:
                return target[key]
            except (KeyError, IndexError, TypeError):
                return _UNKNOWN
        if kind == "unary_expression":
            argument = self.value(node.child_by_field_name("argument"), scope)
            return (not argument) if isinstance(argument, bool) else _UNKNOWN
        if kind == "ternary_expression":
            condition = self.value(node.child_by_field_name("condition"), scope)
            if not isinstance(condition, bool):
                return _UNKNOWN
            branch = "consequence" if condition else "alternative"
            return self.value(node.child_by_field_name(branch), scope)
        if kind == "binary_expression":
            left = self.value(node.child_by_field_name("left"), scope)
            right = self.value(node.child_by_field_name("right"), scope)
            operator = text(node.child_by_field_name("operator"))
            if isinstance(left, Unknown) or isinstance(right, Unknown):
                return _UNKNOWN
            operations = {
                "==": lambda: left == right,
                "!=": lambda: left != right,
                "&&": lambda: left and right,
                "||": lambda: left or right,
                "??": lambda: right if left is None else left,
            }
            return operations[operator]() if operator in operations else _UNKNOWN
        if kind == "call_expression":
            function = text(node.child_by_field_name("function"))
            arguments = [self.value(a, scope) for a in named(node.child_by_field_name("arguments"))]
            if function == "loadJsonContent":
                return json.loads((self.file.path.parent / arguments[0]).read_text())
            if function in ("guid", "uniqueString"):  # deterministic: same arguments, same value
                return Unknown(f"{function}({', '.join(str(a) for a in arguments)})")
            if function not in FUNCTIONS or any(isinstance(a, Unknown) for a in arguments):
                return _UNKNOWN
            if function not in STRUCTURAL and not all(is_known(a) for a in arguments):
                return _UNKNOWN
            return FUNCTIONS[function](*arguments)
        return _UNKNOWN


_UNKNOWN = object()
