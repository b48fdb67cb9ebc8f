// The function app's user-assigned managed identity. Every credential the app uses is this
// identity: host storage, the commands queue, the deployment package, SignalR, telemetry.

@description('Name of the identity.')
param name string

@description('Region of the identity.')
param location string

@description('Tags for the identity.')
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output principalId string = identity.properties.principalId
output clientId string = identity.properties.clientId
