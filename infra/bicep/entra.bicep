// The API's Microsoft Entra app registration, with the Microsoft Graph Bicep extension.
// Deployed on its own, before main.bicep (see docs/operations/deploy.md): it needs directory permissions
// (Application Developer or an Application.ReadWrite.All grant), main.bicep only Azure RBAC,
// and what-if does not cover Graph resources. Its apiClientId output is main.bicep's apiClientId.
extension microsoftGraphV1

// ---------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------

@description('Immutable key of the app registration in the directory; redeploying with the same value updates it.')
param apiAppUniqueName string = 'signalr-facade-api-${uniqueString(resourceGroup().id)}'

@description('Display name of the app registration.')
param apiAppDisplayName string = 'SignalR facade API (${resourceGroup().name})'

@allowed([
  'AzureADMyOrg'
  'AzureADMultipleOrgs'
])
@description('AzureADMyOrg: this tenant only. AzureADMultipleOrgs: any work or school tenant (then deploy main.bicep with entraTenantId=organizations and entraAllowedTenants).')
param signInAudience string = 'AzureADMyOrg'

@description('Require an app role assignment before Entra issues a token for the API to a user or an app. On by default: otherwise any service principal of the tenant can get an (empty) token for the API. Assign users, groups and daemons as docs/operations/deploy.md shows.')
param appRoleAssignmentRequired bool = true

@description('App roles to grant as code: objects { principalId: <object id of a user, group or service principal>, permission: SignalR.Send | SignalR.Groups.Manage | SignalR.Connections.Manage | SignalR.Read | SignalR.Connect | SignalR.Invoke }.')
param appRoleAssignments array = []

// ---------------------------------------------------------------------------------------
// Permissions: each is both an app role (roles claim: daemons, assigned users and groups)
// and a delegated scope (scp claim: users through a client app), with the same value.
// ---------------------------------------------------------------------------------------

var permissions = [
  {
    value: 'SignalR.Send'
    displayName: 'Send SignalR messages'
    description: 'Send messages through the SignalR facade: broadcast to a hub, or send to a user, a connection or a group.'
  }
  {
    value: 'SignalR.Groups.Manage'
    displayName: 'Manage SignalR groups'
    description: 'Add and remove connections and users to and from SignalR groups through the facade.'
  }
  {
    value: 'SignalR.Connections.Manage'
    displayName: 'Close SignalR connections'
    description: 'Close SignalR client connections through the facade.'
  }
  {
    value: 'SignalR.Read'
    displayName: 'Read SignalR presence'
    description: 'Check through the facade whether SignalR connections, users and groups exist, and list who is in a group.'
  }
  {
    value: 'SignalR.Connect'
    displayName: 'Connect to SignalR hubs'
    description: 'Negotiate a SignalR client connection through the facade, for the caller\'s own identity.'
  }
  {
    value: 'SignalR.Invoke'
    displayName: 'Ask SignalR clients for results'
    description: 'Invoke a method on one SignalR client connection through the facade and read the result it returns.'
  }
]

// Each permission's role and scope share one id, stable across redeployments.
var permissionDefinitions = [
  for permission in permissions: union(permission, { id: guid(apiAppUniqueName, permission.value) })
]

// ---------------------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------------------

// First pass: the registration itself, so that Entra assigns its appId. An application
// cannot reference its own appId, so the full definition (with identifierUris api://<appId>)
// is a second declaration of the same uniqueName in a module. Graph upserts by uniqueName
// and PATCH leaves undeclared properties alone, so redeploying this pass changes nothing.
resource apiApp 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: apiAppUniqueName
  displayName: apiAppDisplayName
  signInAudience: signInAudience
}

module apiAppDefinition 'modules/entra-api-app.bicep' = {
  name: 'entra-api-app'
  params: {
    uniqueName: apiAppUniqueName
    displayName: apiAppDisplayName
    signInAudience: signInAudience
    appId: apiApp.appId
    permissions: permissionDefinitions
  }
}

resource apiServicePrincipal 'Microsoft.Graph/servicePrincipals@v1.0' = {
  appId: apiApp.appId
  appRoleAssignmentRequired: appRoleAssignmentRequired
}

resource roleAssignments 'Microsoft.Graph/appRoleAssignedTo@v1.0' = [
  for assignment in appRoleAssignments: {
    principalId: assignment.principalId
    resourceId: apiServicePrincipal.id
    appRoleId: guid(apiAppUniqueName, assignment.permission)
    // The roles exist once the second pass is done.
    dependsOn: [
      apiAppDefinition
    ]
  }
]

// ---------------------------------------------------------------------------------------
// Outputs
// ---------------------------------------------------------------------------------------

output apiClientId string = apiApp.appId
output apiAppObjectId string = apiApp.id
output apiServicePrincipalId string = apiServicePrincipal.id
output apiIdentifierUri string = apiAppDefinition.outputs.identifierUri
output permissions array = permissionDefinitions
