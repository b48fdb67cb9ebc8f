// Data-plane roles, each granted on the one resource that needs it, never on the group.

@description('Principal id of the function app\'s user-assigned identity.')
param principalId string

@description('Storage account of the host, the deployment package and the commands queues.')
param storageAccountName string

@description('The commands queue (in that account).')
param commandsQueueName string

@description('Principals (backends) that may put messages on the commands queue, and only there.')
param commandsQueueSenderPrincipalIds array

@description('Kind of those principals: ServicePrincipal (managed identities, apps), User or Group.')
@allowed([
  'ServicePrincipal'
  'User'
  'Group'
])
param commandsQueueSenderPrincipalType string

@description('The events queue the upstream receiver writes (in that account).')
param eventsQueueName string

@description('Principals (backends) that may read and delete client events, and only on the events queue.')
param eventsQueueReaderPrincipalIds array

@description('Kind of those principals: ServicePrincipal (managed identities, apps), User or Group.')
@allowed([
  'ServicePrincipal'
  'User'
  'Group'
])
param eventsQueueReaderPrincipalType string

@description('The SignalR Service.')
param signalRName string

@description('An optional second SignalR Service (another region); empty: none. Same roles as the first.')
param secondarySignalRName string = ''

@description('The Application Insights component.')
param applicationInsightsName string

// Built-in role definition ids.
var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var storageQueueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
var storageQueueDataMessageSender = 'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a'
var storageQueueDataMessageProcessor = '8a0f0c08-91a1-4084-bc3d-661d67233fed'
var storageTableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
var signalRRestApiOwner = 'fd53cd77-2268-407a-8f46-7e7863d0f521'
var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

// Host storage with an identity: blobs (keys, leases, the deployment package), queues (the
// commands trigger, its -invalid and -poison queues, the events queue the upstream receiver
// writes), tables (host diagnostic events).
var storageRoles = [
  storageBlobDataOwner
  storageQueueDataContributor
  storageTableDataContributor
]

// Hub, group, user and connection operations and client tokens; no access keys.
var signalRRoles = [
  signalRRestApiOwner
]

// Entra-authenticated telemetry ingestion.
var applicationInsightsRoles = [
  monitoringMetricsPublisher
]

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName

  resource queueService 'queueServices' existing = {
    name: 'default'

    resource commandsQueue 'queues' existing = {
      name: commandsQueueName
    }

    resource eventsQueue 'queues' existing = {
      name: eventsQueueName
    }
  }
}

resource signalR 'Microsoft.SignalRService/signalR@2024-03-01' existing = {
  name: signalRName
}

resource secondarySignalR 'Microsoft.SignalRService/signalR@2024-03-01' existing = if (!empty(secondarySignalRName)) {
  name: secondarySignalRName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource storageRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in storageRoles: {
    name: guid(storage.id, principalId, roleId)
    scope: storage
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource signalRRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in signalRRoles: {
    name: guid(signalR.id, principalId, roleId)
    scope: signalR
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource secondarySignalRRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in (empty(secondarySignalRName) ? [] : signalRRoles): {
    name: guid(secondarySignalR.id, principalId, roleId)
    scope: secondarySignalR
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource applicationInsightsRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in applicationInsightsRoles: {
    name: guid(applicationInsights.id, principalId, roleId)
    scope: applicationInsights
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource commandsQueueSenderRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for senderId in commandsQueueSenderPrincipalIds: {
    name: guid(storage::queueService::commandsQueue.id, senderId, storageQueueDataMessageSender)
    scope: storage::queueService::commandsQueue
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageQueueDataMessageSender)
      principalId: senderId
      // Named, so that a principal created moments before is not looked up (and missed) by ARM.
      principalType: commandsQueueSenderPrincipalType
    }
  }
]

resource eventsQueueReaderRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for readerId in eventsQueueReaderPrincipalIds: {
    name: guid(storage::queueService::eventsQueue.id, readerId, storageQueueDataMessageProcessor)
    scope: storage::queueService::eventsQueue
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageQueueDataMessageProcessor)
      principalId: readerId
      // Named, so that a principal created moments before is not looked up (and missed) by ARM.
      principalType: eventsQueueReaderPrincipalType
    }
  }
]
