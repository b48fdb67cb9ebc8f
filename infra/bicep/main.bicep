// signalr-facade: a secured Azure Functions facade over the Azure SignalR Service REST API.
// Deploys into an existing resource group; the API's Entra app registration comes from
// entra.bicep (deployed first, see docs/operations/deploy.md). No keys, passwords or secrets anywhere:
// the app reaches SignalR, Storage and Application Insights with its managed identity.
targetScope = 'resourceGroup'

// ---------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------

@minLength(1)
@maxLength(32)
@description('Name of the environment (dev, prod, ...). Seeds the resource names and the azd-env-name tag.')
param environmentName string

@description('Region of every resource; it must offer Flex Consumption (az functionapp list-flexconsumption-locations).')
param location string = resourceGroup().location

@minLength(36)
@maxLength(36)
@description('Application (client) id of the API app registration: the apiClientId output of entra.bicep.')
param apiClientId string

@description('ENTRA_TENANT_ID: the tenant GUID that issues tokens, or organizations for a multi-tenant API (then set entraAllowedTenants).')
param entraTenantId string = tenant().tenantId

@description('ENTRA_AUDIENCES: accepted token audiences. Empty means the API\'s client id and api://<client id>.')
param entraAudiences array = []

@description('ENTRA_ALLOWED_TENANTS: tenant GUIDs accepted when entraTenantId is organizations. May be empty.')
param entraAllowedTenants array = []

@description('ENTRA_ACCEPT_V1_TOKENS: also accept v1.0 access tokens (entra.bicep asks Entra for v2.0 tokens).')
param entraAcceptV1Tokens bool = false

@description('SIGNALR_ALLOWED_HUBS: the hubs the facade may address. Empty allows any valid hub name.')
param signalRAllowedHubs array = []

@maxLength(64)
@description('SIGNALR_APPLICATION: SignalR application name passed on every upstream call, so several apps can share one SignalR instance (a letter, then letters, digits or underscores). Empty: none.')
param signalRApplication string = ''

@description('ENTRA_ALLOWED_CLIENT_APPS: application (client) ids allowed to call the facade (azp/appid). Empty allows any client app of an allowed tenant.')
param entraAllowedClientApps array = []

@minLength(3)
@maxLength(55)
@description('SIGNALR_COMMANDS_QUEUE: the commands queue. <name>-invalid (dead letters) and <name>-poison are created beside it.')
param commandsQueueName string = 'signalr-commands'

@description('SIGNALR_BATCH_PARALLELISM: batch items one worker sends to SignalR at once (a whole number, 1-32).')
param batchParallelism string = '16'

@description('SIGNALR_BATCH_MAX_ATTEMPTS: attempts at a queued batch\'s failing items before they go to <queue>-poison (1-100).')
param batchMaxAttempts string = '5'

@description('SIGNALR_CALLER_LIMIT: commands per second per caller (tenant + oid) on each worker, burst ten seconds of it and at least one 1,000-item batch; 0 turns it off. Per worker: put an APIM or Front Door rate limit in front for a global one.')
param callerLimit string = '100'

@description('Principal (object) ids of backends allowed to put commands on the queue (Storage Queue Data Message Sender on that queue only).')
param commandsQueueSenderPrincipalIds array = []

@allowed([
  'ServicePrincipal'
  'User'
  'Group'
])
@description('Kind of the commandsQueueSenderPrincipalIds: ServicePrincipal (managed identities and apps), User or Group.')
param commandsQueueSenderPrincipalType string = 'ServicePrincipal'

@minLength(3)
@maxLength(63)
@description('SIGNALR_EVENTS_QUEUE: the queue the upstream receiver puts client events on (connected, disconnected, invocations).')
param eventsQueueName string = 'signalr-events'

@description('Principal (object) ids of backends that read client events (Storage Queue Data Message Processor on the events queue only).')
param eventsQueueReaderPrincipalIds array = []

@allowed([
  'ServicePrincipal'
  'User'
  'Group'
])
@description('Kind of the eventsQueueReaderPrincipalIds: ServicePrincipal (managed identities and apps), User or Group.')
param eventsQueueReaderPrincipalType string = 'ServicePrincipal'

@description('Base URL SignalR calls for client events. Empty: https://<function app name>.azurewebsites.net (set it for a custom domain or a unique default hostname).')
param upstreamBaseUrl string = ''

@description('Browser origins (scheme://host[:port]) allowed to call the facade and to connect to SignalR; never \'*\' (the browser client sends credentials). Empty allows none.')
param corsAllowedOrigins array = []

@allowed([
  'Free_F1'
  'Standard_S1'
  'Premium_P1'
])
@description('SignalR Service SKU: Standard_S1 for production, Free_F1 for a trial (20 connections, no SLA).')
param signalRSku string = 'Standard_S1'

@allowed([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100])
@description('SignalR Service units (1,000 connections each on Standard_S1; Free_F1 always has one).')
param signalRCapacity int = 1

@description('Region of an optional second SignalR Service (geo-redundancy, issue 12): same SKU, identity, roles and CORS; the facade sends to both and sends clients to it only when the first is down. Empty: none.')
param signalRSecondaryLocation string = ''

@description('Let SignalR also accept access keys. Off: Entra ID only, and no key exists in any setting.')
param signalRAllowAccessKeys bool = false

@allowed([
  512
  2048
  4096
])
@description('Memory of each Flex Consumption instance, in MB.')
param instanceMemoryMB int = 2048

@minValue(40)
@maxValue(1000)
@description('Maximum number of Flex Consumption instances.')
param maximumInstanceCount int = 100

@description('Spread the Flex Consumption instances over availability zones (only where the region offers it). Costs: a zone-redundant Flex plan keeps at least two always-ready instances of every function group running (billed when idle too), and the storage account becomes Standard_ZRS.')
param zoneRedundant bool = false

@allowed([
  'Standard_LRS'
  'Standard_ZRS'
])
@description('Redundancy of the storage account when zoneRedundant is off (zone-redundant deployments always use Standard_ZRS).')
param storageSkuName string = 'Standard_LRS'

@minValue(30)
@maxValue(730)
@description('Days Log Analytics keeps logs.')
param logRetentionInDays int = 30

// ---------------------------------------------------------------------------------------
// Names and tags
// ---------------------------------------------------------------------------------------

var abbrs = loadJsonContent('abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var tags = {
  'azd-env-name': environmentName
  application: 'signalr-facade'
}

var functionAppName = '${abbrs.webSitesFunctions}${resourceToken}'
var storageAccountName = '${abbrs.storageStorageAccounts}${resourceToken}'
var deploymentContainerName = 'app-package-${take(functionAppName, 32)}-${take(resourceToken, 7)}'
var queueServiceUri = 'https://${storageAccountName}.queue.${environment().suffixes.storage}'
// The commands queue, its dead letters and poison queue, and the client events queue.
var queueNames = [
  commandsQueueName
  '${commandsQueueName}-invalid'
  '${commandsQueueName}-poison'
  eventsQueueName
]
// The app's default hostname, known before the app exists (SignalR and the app refer to each other).
var upstreamUrlTemplate = '${empty(upstreamBaseUrl) ? 'https://${functionAppName}.azurewebsites.net' : upstreamBaseUrl}/api/upstream/{hub}/{category}/{event}'
var signalRSecondaryName = '${abbrs.signalRServiceSignalR}${resourceToken}-2'
var audiences = empty(entraAudiences) ? [apiClientId, 'api://${apiClientId}'] : entraAudiences

// ---------------------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------------------

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
    retentionInDays: logRetentionInDays
  }
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: storageAccountName
    location: location
    tags: tags
    // A zone-redundant app needs zone-redundant storage, or one zone's outage stops it anyway.
    skuName: zoneRedundant ? 'Standard_ZRS' : storageSkuName
    deploymentContainerName: deploymentContainerName
    queueNames: queueNames
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
  }
}

module signalR 'modules/signalr.bicep' = {
  name: 'signalr'
  params: {
    name: '${abbrs.signalRServiceSignalR}${resourceToken}'
    location: location
    tags: tags
    skuName: signalRSku
    capacity: signalRCapacity
    allowedOrigins: corsAllowedOrigins
    disableLocalAuth: !signalRAllowAccessKeys
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
    upstreamUrlTemplate: upstreamUrlTemplate
    upstreamTokenResource: 'api://${apiClientId}'
  }
}

// An optional second instance in another region: a secondary endpoint of the facade.
module signalRSecondary 'modules/signalr.bicep' = if (!empty(signalRSecondaryLocation)) {
  name: 'signalr-secondary'
  params: {
    name: signalRSecondaryName
    location: signalRSecondaryLocation
    tags: tags
    skuName: signalRSku
    capacity: signalRCapacity
    allowedOrigins: corsAllowedOrigins
    disableLocalAuth: !signalRAllowAccessKeys
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
    // Its clients' events reach the same receiver, signed by its own identity.
    upstreamUrlTemplate: upstreamUrlTemplate
    upstreamTokenResource: 'api://${apiClientId}'
  }
}

module rbac 'modules/rbac.bicep' = {
  name: 'rbac'
  params: {
    principalId: identity.outputs.principalId
    storageAccountName: storage.outputs.name
    commandsQueueName: commandsQueueName
    commandsQueueSenderPrincipalIds: commandsQueueSenderPrincipalIds
    eventsQueueName: eventsQueueName
    eventsQueueReaderPrincipalIds: eventsQueueReaderPrincipalIds
    eventsQueueReaderPrincipalType: eventsQueueReaderPrincipalType
    commandsQueueSenderPrincipalType: commandsQueueSenderPrincipalType
    signalRName: signalR.outputs.name
    secondarySignalRName: empty(signalRSecondaryLocation) ? '' : signalRSecondaryName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
  }
  // Its role goes on the second instance, which must exist first.
  dependsOn: [
    signalRSecondary
  ]
}

// The settings functions/settings.py reads. ENTRA_METADATA_URL is for local development only
// and is deliberately absent. The SignalR connection string names an identity, not a key.
var facadeSettings = {
  AzureSignalRConnectionString: 'Endpoint=${signalR.outputs.endpoint};AuthType=azure.msi;ClientId=${identity.outputs.clientId};Version=1.0;'
  ENTRA_TENANT_ID: entraTenantId
  ENTRA_AUDIENCES: join(audiences, ',')
  ENTRA_ALLOWED_TENANTS: join(entraAllowedTenants, ',')
  ENTRA_ACCEPT_V1_TOKENS: entraAcceptV1Tokens ? 'true' : 'false'
  SIGNALR_ALLOWED_HUBS: join(signalRAllowedHubs, ',')
  SIGNALR_APPLICATION: signalRApplication
  ENTRA_ALLOWED_CLIENT_APPS: join(entraAllowedClientApps, ',')
  SIGNALR_COMMANDS_QUEUE: commandsQueueName
  SIGNALR_EVENTS_QUEUE: eventsQueueName
  // Upstream calls carry a token of SignalR's own identity (each instance's); the receiver accepts no other.
  SIGNALR_UPSTREAM_IDENTITIES: empty(signalRSecondaryLocation) ? signalR.outputs.principalId : '${signalR.outputs.principalId},${signalRSecondary.outputs.principalId}'

  SIGNALR_BATCH_PARALLELISM: batchParallelism
  SIGNALR_BATCH_MAX_ATTEMPTS: batchMaxAttempts
  SIGNALR_CALLER_LIMIT: callerLimit
  SIGNALR_COMMANDS_STORAGE__queueServiceUri: queueServiceUri
  SIGNALR_COMMANDS_STORAGE__credential: 'managedidentity'
  SIGNALR_COMMANDS_STORAGE__clientId: identity.outputs.clientId
}

// The second instance in the identity form of the endpoint settings (functions/signalr/endpoints.py):
// endpoint "failover", type secondary, the same identity.
var secondarySignalRSettings = empty(signalRSecondaryLocation) ? {} : {
  Azure__SignalR__Endpoints__failover__secondary__serviceUri: signalRSecondary.outputs.endpoint
  Azure__SignalR__Endpoints__failover__secondary__credential: 'managedidentity'
  Azure__SignalR__Endpoints__failover__secondary__clientId: identity.outputs.clientId
}

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app'
  params: {
    name: functionAppName
    planName: '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerName: deploymentContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    appSettings: union(facadeSettings, secondarySignalRSettings)
    allowedOrigins: corsAllowedOrigins
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    zoneRedundant: zoneRedundant
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
  }
  // The host starts with its roles in place (it reads storage as soon as the site exists).
  dependsOn: [
    rbac
  ]
}

// ---------------------------------------------------------------------------------------
// Outputs (named after the settings and environment variables they feed)
// ---------------------------------------------------------------------------------------

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_APP_URL string = functionApp.outputs.url
output AZURE_SIGNALR_ENDPOINT string = signalR.outputs.endpoint
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output ENTRA_TENANT_ID string = entraTenantId
output ENTRA_AUDIENCES string = join(audiences, ',')
output SIGNALR_COMMANDS_QUEUE string = commandsQueueName
output SIGNALR_COMMANDS_QUEUE_URL string = '${queueServiceUri}/${commandsQueueName}'
output SIGNALR_COMMANDS_STORAGE__queueServiceUri string = queueServiceUri
output SIGNALR_EVENTS_QUEUE string = eventsQueueName
output SIGNALR_EVENTS_QUEUE_URL string = '${queueServiceUri}/${eventsQueueName}'
output SIGNALR_UPSTREAM_URL_TEMPLATE string = upstreamUrlTemplate
output SIGNALR_UPSTREAM_IDENTITIES string = signalR.outputs.principalId
