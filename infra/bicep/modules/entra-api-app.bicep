// Second pass of the API app registration (see entra.bicep): the full definition, now that
// the appId is known. App roles and delegated scopes share value and id, and then Entra
// requires them to share display name, description and enabled state too.
extension microsoftGraphV1

@description('uniqueName of the registration created by the first pass.')
param uniqueName string

@description('Display name of the registration.')
param displayName string

@description('Accounts that may sign in: AzureADMyOrg or AzureADMultipleOrgs.')
param signInAudience string

@description('appId the first pass was given; the identifier URI is api://<appId>.')
param appId string

@description('Permissions: objects { id, value, displayName, description }.')
param permissions array

var identifierUri = 'api://${appId}'

resource apiApp 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: uniqueName
  displayName: displayName
  signInAudience: signInAudience
  identifierUris: [
    identifierUri
  ]
  api: {
    // v2.0 access tokens (aud = the client id); the facade refuses v1.0 unless told otherwise.
    requestedAccessTokenVersion: 2
    oauth2PermissionScopes: [
      for permission in permissions: {
        id: permission.id
        value: permission.value
        // Admin consent: an administrator decides which client apps may act for users.
        type: 'Admin'
        adminConsentDisplayName: permission.displayName
        adminConsentDescription: permission.description
        isEnabled: true
      }
    ]
  }
  appRoles: [
    for permission in permissions: {
      id: permission.id
      value: permission.value
      displayName: permission.displayName
      description: permission.description
      allowedMemberTypes: [
        'User'
        'Application'
      ]
      isEnabled: true
    }
  ]
}

output identifierUri string = identifierUri
