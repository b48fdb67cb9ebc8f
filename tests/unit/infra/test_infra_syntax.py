"""The templates parse, and what the Bicep compiler would check across files holds.

The Bicep CLI cannot be installed here, so these tests stand in for ``az bicep build``:
tree-sitter-bicep and pycep-parser parse every file, and the symbol checks below catch the
mistakes a compiler would (unknown symbols, wrong module parameters or outputs, unused
parameters and variables).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from pycep import BicepParser

from support.bicep_model import BICEP_DIR, BicepFile, Evaluator, Node, bicep_paths, named, text, walk

TEMPLATES = [path.relative_to(BICEP_DIR).as_posix() for path in bicep_paths()]


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_parses_with_tree_sitter_except_the_extension_statement(bicep_files, name):
    # tree-sitter-bicep predates `extension`; the statement must be the only thing it rejects.
    template = bicep_files[name]
    unexpected = [
        f"line {n.start_point.row + 1}: {text(n)[:60]!r}"
        for n in template.syntax_errors
        if not text(n).startswith("extension ")
    ]
    assert not unexpected
    assert len(template.syntax_errors) == len(template.extensions)


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_parses_with_pycep(name):
    parsed = BicepParser().parse(file_path=BICEP_DIR / name)
    assert parsed.get("resources") or parsed.get("modules")


def test_every_extension_is_declared_in_bicepconfig(bicep_files):
    config = json.loads((BICEP_DIR / "bicepconfig.json").read_text())
    used = {alias for template in bicep_files.values() for alias in template.extensions}
    assert used == {"microsoftGraphV1"}
    assert config["extensions"]["microsoftGraphV1"].startswith(
        "br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:"
    )


def test_main_targets_a_resource_group(bicep_files):
    root = bicep_files["main.bicep"].tree.root_node
    [scope] = [n for n in root.children if n.type == "target_scope_assignment"]
    assert text(named(scope)[-1]) == "'resourceGroup'"


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_symbol_a_template_uses_is_declared(bicep_files, name):
    template = bicep_files[name]
    declared = template.params.keys() | template.variables.keys() | template.resources.keys()
    declared |= template.modules.keys()
    unknown = {text(n) for n in symbol_references(template.tree.root_node, frozenset())} - declared
    assert not unknown


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_parameter_and_variable_is_used(bicep_files, name):
    template = bicep_files[name]
    used = {text(n) for n in symbol_references(template.tree.root_node, frozenset())}
    assert not (template.params.keys() | template.variables.keys()) - used


def module_calls() -> Iterator[tuple[str, str]]:
    for path in bicep_paths():
        for module in BicepFile(path).modules:
            yield path.relative_to(BICEP_DIR).as_posix(), module


@pytest.mark.parametrize(("name", "module"), list(module_calls()))
def test_module_call_matches_the_module_parameters_and_outputs(bicep_files, name, module):
    caller = bicep_files[name]
    decl = caller.modules[module]
    target = (caller.path.parent / decl.type).resolve()
    callee = bicep_files[target.relative_to(BICEP_DIR).as_posix()]
    body = named(decl.value)[-1] if decl.value.type == "if_statement" else decl.value  # `= if (...) {...}`
    params_node = object_value(body, "params")
    passed = {text(named(p)[0]) for p in named(params_node) if p.type == "object_property"}
    required = {n for n, p in callee.params.items() if p.value is None}
    assert not passed - callee.params.keys(), "parameters the module does not declare"
    assert not required - passed, "required module parameters left out"
    outputs_read = {
        text(n.child_by_field_name("property"))
        for n in walk(caller.tree.root_node)
        if n.type == "member_expression" and text(n.child_by_field_name("object")) == f"{module}.outputs"
    }
    assert not outputs_read - callee.outputs.keys(), "outputs the module does not declare"


def object_value(obj: Node, key: str) -> Node:
    for prop in named(obj):
        if prop.type == "object_property" and text(named(prop)[0]) == key:
            return named(prop)[1]
    raise KeyError(key)


def symbol_references(node: Node, bound: frozenset[str]) -> Iterator[Node]:
    """Identifiers that name a parameter, variable, resource or module (not keys, functions, loop vars)."""
    if node.type == "ERROR":  # the extension statement, which names an extension, not a symbol
        return
    if node.type == "for_statement":
        head = named(node)[0]
        names = [head] if head.type == "identifier" else named(head)
        bound = bound | {text(n) for n in names}
        yield from symbol_references(named(node)[1], bound - {text(n) for n in names})
        yield from symbol_references(node.child_by_field_name("body"), bound)
        return
    if node.type == "identifier":
        if text(node) not in bound:
            yield node
        return
    skipped: set[int] = set()
    if node.type.endswith("_declaration"):
        skipped.add(named(node)[0].id)  # the declared name
    if node.type == "object_property" and named(node)[0].type in ("identifier", "string"):
        skipped.add(named(node)[0].id)  # the property key
    if node.type == "call_expression":
        skipped.add(node.child_by_field_name("function").id)
    if node.type == "resource_expression":
        skipped.add(node.child_by_field_name("resource").id)  # a nested resource of the object
    for child in node.children:
        if child.id not in skipped:
            yield from symbol_references(child, bound)


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_parameter_is_described(bicep_files, name):
    undescribed = [p for p, decl in bicep_files[name].params.items() if "description" not in decl.decorators]
    assert not undescribed


PYTHON_TYPES = {"string": str, "int": int, "bool": bool, "array": list, "object": dict}


def test_the_parameters_file_sets_declared_parameters_to_allowed_values(bicep_files, main_parameters):
    main = bicep_files["main.bicep"]
    evaluate = Evaluator(main).value
    for name, value in main_parameters.items():
        assert name in main.params, f"{name} is not a parameter of main.bicep"
        decl = main.params[name]
        assert type(value) is PYTHON_TYPES[decl.type], name
        rules = {rule: evaluate(args[0]) for rule, args in decl.decorators.items() if args}
        if "allowed" in rules:
            assert value in rules["allowed"], name
        assert rules.get("minValue", value) <= value <= rules.get("maxValue", value), name
        if isinstance(value, (str, list)):
            assert rules.get("minLength", 0) <= len(value) <= rules.get("maxLength", len(value)), name


def test_only_the_api_client_id_is_left_to_the_command_line(bicep_files, main_parameters):
    required = {name for name, decl in bicep_files["main.bicep"].params.items() if decl.value is None}
    assert required - main_parameters.keys() == {"apiClientId"}


def test_parameter_defaults_satisfy_their_own_rules(bicep_files):
    for template in bicep_files.values():
        evaluator = Evaluator(template)
        for name, decl in template.params.items():
            value = evaluator.params[name]
            allowed = decl.decorators.get("allowed")
            if allowed and decl.value is not None:
                assert value in evaluator.value(allowed[0]), name
