"""Role assignments: built-in roles by GUID, each on the exact resource that needs it."""

from __future__ import annotations

import re

from support.bicep_model import Unknown, named, object_property, text, walk

ROLE_ASSIGNMENT = "Microsoft.Authorization/roleAssignments"
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

# Built-in role definition ids (learn.microsoft.com/azure/role-based-access-control/built-in-roles).
STORAGE_BLOB_DATA_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
STORAGE_QUEUE_DATA_CONTRIBUTOR = "974c5e8b-45b9-4653-ba55-5f855dd0fb88"
STORAGE_QUEUE_DATA_MESSAGE_SENDER = "c6a89b2d-59bc-44d0-9896-0f6e12d7b80a"
STORAGE_TABLE_DATA_CONTRIBUTOR = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"
SIGNALR_REST_API_OWNER = "fd53cd77-2268-407a-8f46-7e7863d0f521"
MONITORING_METRICS_PUBLISHER = "3913510d-42f4-4e42-8a64-420c390055eb"

# (scope resource type, role) for the function app's identity: nothing more, nothing less.
APP_IDENTITY_ROLES = {
    ("Microsoft.Storage/storageAccounts", STORAGE_BLOB_DATA_OWNER),
    ("Microsoft.Storage/storageAccounts", STORAGE_QUEUE_DATA_CONTRIBUTOR),
    ("Microsoft.Storage/storageAccounts", STORAGE_TABLE_DATA_CONTRIBUTOR),
    ("Microsoft.SignalRService/signalR", SIGNALR_REST_API_OWNER),
    ("Microsoft.Insights/components", MONITORING_METRICS_PUBLISHER),
}


def granted(assignments):
    """(scope resource type, role id, principal) of evaluated role assignments."""
    found = set()
    for assignment in assignments:
        scope = scope_declaration(assignment.template.file, assignment.body["scope"].text)
        role_id = assignment.properties["roleDefinitionId"].rsplit("/", 1)[-1]
        found.add((scope.resource_type, role_id, assignment.properties["principalId"]))
    return found


def scope_declaration(template, reference):
    """The resource a scope expression names: `storage`, or `storage::queueService::commandsQueue`."""
    return template.resources[reference.split("::")[-1]]


def test_the_app_identity_has_exactly_its_data_plane_roles(resources_of_type):
    assignments = resources_of_type(ROLE_ASSIGNMENT)
    app_identity = Unknown("identity.outputs.principalId")
    assert granted(assignments) == {(scope, role, app_identity) for scope, role in APP_IDENTITY_ROLES}
    for assignment in assignments:
        assert assignment.properties["principalType"] == "ServicePrincipal"


def test_role_definitions_are_subscription_level_built_in_roles(resources_of_type):
    for assignment in resources_of_type(ROLE_ASSIGNMENT, commandsQueueSenderPrincipalIds=["backend"]):
        definition = assignment.properties["roleDefinitionId"]
        assert re.fullmatch(
            r"/subscriptions/\{subscription\}/providers/Microsoft\.Authorization/roleDefinitions/" + GUID.pattern,
            definition,
        )


def test_every_assignment_is_scoped_to_a_resource_never_a_group_or_subscription(bicep_files):
    # Without `scope:` an assignment would cover the whole resource group.
    for template in bicep_files.values():
        for decl in template.resources_of_type(ROLE_ASSIGNMENT):
            scope = object_property(decl.value, "scope")
            assert scope is not None, f"{decl.name} has no scope"
            assert scope.type in ("identifier", "resource_expression"), f"{decl.name}: {text(scope)}"
            assert scope_declaration(template, text(scope)).existing, decl.name


def test_assignment_names_are_guid_of_scope_principal_and_role(bicep_files):
    for template in bicep_files.values():
        for decl in template.resources_of_type(ROLE_ASSIGNMENT):
            assert decl.value.type == "for_statement", f"{decl.name} is not a loop over roles or principals"
            scope = text(object_property(decl.value, "scope"))
            properties = object_property(decl.value, "properties")
            role = named(object_property(properties, "roleDefinitionId").child_by_field_name("arguments"))[-1]
            principal = object_property(properties, "principalId")
            name = object_property(decl.value, "name")
            assert text(name.child_by_field_name("function")) == "guid", decl.name
            arguments = [text(a) for a in named(name.child_by_field_name("arguments"))]
            assert arguments == [f"{scope}.id", text(principal), text(role)], decl.name


def test_role_ids_are_named_variables_not_inline_literals(bicep_files):
    for name, template in bicep_files.items():
        strings = [n for n in walk(template.tree.root_node) if n.type == "string"]
        for literal in (n for n in strings if GUID.fullmatch(text(n)[1:-1])):
            assert literal.parent.type == "variable_declaration", f"{name}: a GUID outside a variable"


def test_queue_senders_may_only_send_and_only_to_the_commands_queue(resources_of_type):
    senders = ["11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"]
    assignments = [
        a
        for a in resources_of_type(ROLE_ASSIGNMENT, commandsQueueSenderPrincipalIds=senders)
        if a.properties["principalId"] in senders
    ]
    assert granted(assignments) == {
        ("Microsoft.Storage/storageAccounts/queueServices/queues", STORAGE_QUEUE_DATA_MESSAGE_SENDER, sender)
        for sender in senders
    }
    rbac = assignments[0].template
    [queue] = rbac.instances(scope_declaration(rbac.file, assignments[0].body["scope"].text))
    assert queue["name"] == "signalr-commands"


STORAGE_QUEUE_DATA_MESSAGE_PROCESSOR = "8a0f0c08-91a1-4084-bc3d-661d67233fed"


def test_event_readers_may_only_process_messages_and_only_on_the_events_queue(resources_of_type):
    assignments = [a for a in resources_of_type(ROLE_ASSIGNMENT, eventsQueueReaderPrincipalIds=["backend"])
                   if a.properties["principalId"] == "backend"]
    assert len(assignments) == 1
    [assignment] = assignments
    assert assignment.properties["roleDefinitionId"].rsplit("/", 1)[-1] == STORAGE_QUEUE_DATA_MESSAGE_PROCESSOR
    assert assignment.body["scope"].text == "storage::queueService::eventsQueue"
    scope = scope_declaration(assignment.template.file, assignment.body["scope"].text)
    assert scope.resource_type == "Microsoft.Storage/storageAccounts/queueServices/queues"


def test_every_role_assignment_names_its_principal_type(resources_of_type):
    """Issue 22, item 7: without principalType ARM looks the principal up, and misses one created
    moments before (replication delay), failing the deployment. Every list filled, so each loop is seen."""
    principals = ["11111111-1111-1111-1111-111111111111"]
    assignments = resources_of_type(ROLE_ASSIGNMENT, commandsQueueSenderPrincipalIds=principals,
                                    eventsQueueReaderPrincipalIds=principals)
    assert {a.body["scope"].text for a in assignments} >= {"storage::queueService::eventsQueue",
                                                         "storage::queueService::commandsQueue"}
    for assignment in assignments:
        assert assignment.properties.get("principalType") in ("ServicePrincipal", "User", "Group"), assignment.body
