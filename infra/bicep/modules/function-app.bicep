// The function app on a Flex Consumption plan (Linux, Python 3.11), running as the
// user-assigned identity. App settings: the facade's own (from main.bicep) plus the platform's
// identity-based connections; none holds a key.

@description('Name of the function app.')
param name string

@description('Name of the Flex Consumption plan.')
param planName string

@description('Region of the plan and the app.')
param location string

@description('Tags for the plan and the app.')
param tags object

@description('Resource id of the user-assigned identity the app runs as.')
param identityId string

@description('Client id of that identity; selects it for every identity-based connection.')
param identityClientId string

@description('Storage account of the host and of the deployment package.')
param storageAccountName string

@description('Blob container the deployment package is uploaded to.')
param deploymentContainerName string

@description('Application Insights component that receives the telemetry.')
param applicationInsightsName string

@description('The settings the facade code reads (see main.bicep).')
param appSettings object

@description('Browser origins allowed to call the facade (CORS).')
param allowedOrigins array

@description('Memory of each instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int

@description('Maximum number of instances.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int

@description('Spread the plan\'s instances over availability zones (only in regions where Flex Consumption offers it).')
param zoneRedundant bool

@description('Log Analytics workspace that receives the app\'s resource logs (FunctionAppLogs).')
param logAnalyticsWorkspaceId string

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// Settings the Functions host itself reads. The Application Insights connection string names
// the component (its instrumentation key is an identifier, not a credential: local auth is off).
var platformSettings = {
  AzureWebJobsStorage__accountName: storage.name
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  // checkov:skip=CKV_AZURE_225: zone redundancy is the zoneRedundant parameter; it is off by default because Flex Consumption offers it only in some regions.
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
    zoneRedundant: zoneRedundant
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  // checkov:skip=CKV_AZURE_222: the facade is a public HTTPS API by design; every request but /api/health and /api/openapi.json must carry a valid Entra ID token, checked in code.
  // checkov:skip=CKV_AZURE_17: callers authenticate with Entra ID bearer tokens; requiring TLS client certificates would shut out browsers.
  // checkov:skip=CKV_AZURE_212: not applicable to Flex Consumption, which scales instances out on demand (no instance-count site settings).
  // checkov:skip=CKV_AZURE_78: FTP is off without ftpsState, which Flex Consumption refuses (BadRequest): a Flex app has no FTP endpoint, and the ftp publishing-credentials policy below is off.
  // checkov:skip=CKV_AZURE_213: App Service health check is not available on Flex Consumption; GET /api/health serves external probes instead.
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    publicNetworkAccess: 'Enabled'
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        // Matches pyproject.toml (requires-python >= 3.11) and the azure-functions 1.x pin.
        name: 'python'
        version: '3.11'
      }
    }
    // No ftpsState here: Flex Consumption refuses it (and the other properties of the "Flex
    // Consumption plan deprecations" table, tests/infra/test_infra_flex.py) with BadRequest. A
    // Flex app has no FTP endpoint, and basic publishing credentials are off below.
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      remoteDebuggingEnabled: false
      http20Enabled: true
      cors: {
        // Explicit origins only, never '*': the official browser client (@microsoft/signalr)
        // negotiates with credentials (withCredentials defaults to true), and a browser refuses a
        // credentialed answer without Access-Control-Allow-Credentials and an exact origin.
        allowedOrigins: allowedOrigins
        // A '*' among the origins (which the parameter forbids) must never meet credentials:
        // then the platform answers without them, and the browser client cannot negotiate.
        supportCredentials: !contains(allowedOrigins, '*')
      }
    }
  }

  resource settings 'config' = {
    // This resource holds app settings only; the checks below read site configuration ('web') properties that are set, or do not apply, on the site itself.
    // checkov:skip=CKV_AZURE_13: App Service Authentication stays off: the facade validates Entra ID tokens itself and answers RFC 9457 problems (see docs/operations/deploy.md).
    // checkov:skip=CKV_AZURE_222: see the same skip on the site: a public API with per-request Entra ID authentication.
    // checkov:skip=CKV_AZURE_63: HTTP logging to the file system does not exist on Flex Consumption; requests are traced in Application Insights.
    // checkov:skip=CKV_AZURE_65: detailed error pages are an IIS (Windows) feature; this is a Linux app.
    // checkov:skip=CKV_AZURE_66: failed request tracing is an IIS (Windows) feature; this is a Linux app.
    // checkov:skip=CKV_AZURE_80: .NET Framework version does not apply to a Python app.
    // checkov:skip=CKV_AZURE_88: Flex Consumption keeps no content on Azure Files; the package is in a blob container.
    name: 'appsettings'
    properties: union(platformSettings, appSettings)
  }
}

// No publishing passwords: deployments authenticate with Entra ID (az CLI, Core Tools).
resource basicPublishingCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = [
  for policy in [
    'ftp'
    'scm'
  ]: {
    parent: functionApp
    name: policy
    properties: {
      allow: false
    }
  }
]

// Function execution logs (FunctionAppLogs) in the workspace, beside SignalR's and the queue's.
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: functionApp
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logAnalyticsDestinationType: 'Dedicated'
    logs: [
      {
        category: 'FunctionAppLogs'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

output name string = functionApp.name
output url string = 'https://${functionApp.properties.defaultHostName}'
