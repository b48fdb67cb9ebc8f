// Azure SignalR Service in Serverless mode. The facade is its only server: it calls the REST
// API with its managed identity; browsers connect as clients with tokens the facade hands out.

@description('Name of the SignalR Service.')
param name string

@description('Region of the service.')
param location string

@description('Tags for the service.')
param tags object

@description('SKU: Standard_S1 for production, Free_F1 for a trial (20 connections, no SLA).')
@allowed([
  'Free_F1'
  'Standard_S1'
  'Premium_P1'
])
param skuName string

@description('Units (Standard_S1 and Premium_P1); Free_F1 always has one.')
@allowed([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100])
param capacity int

@description('Browser origins allowed to call the service\'s client endpoints (each connection still needs a token from the facade).')
param allowedOrigins array

@description('Refuse access keys: only Entra ID tokens reach the REST API and the client endpoints.')
param disableLocalAuth bool

@description('Resource id of the Log Analytics workspace that receives the resource logs.')
param logAnalyticsWorkspaceId string

@description('Where the service POSTs client events (connected, disconnected, invocations): the facade\'s upstream receiver, with {hub}, {category} and {event}.')
param upstreamUrlTemplate string

@description('The resource the service asks a managed-identity token for when it calls the upstream: the facade\'s API (api://<client id>).')
param upstreamTokenResource string

resource signalR 'Microsoft.SignalRService/signalR@2024-03-01' = {
  name: name
  location: location
  tags: tags
  kind: 'SignalR'
  // Its own identity, for the upstream calls: the facade accepts tokens of this identity only.
  identity: {
    type: 'SystemAssigned'
  }
  sku: {
    name: skuName
    tier: split(skuName, '_')[0]
    capacity: skuName == 'Free_F1' ? 1 : capacity
  }
  properties: {
    features: [
      {
        flag: 'ServiceMode'
        value: 'Serverless'
      }
      {
        flag: 'EnableConnectivityLogs'
        value: 'True'
      }
      {
        // Message payloads are the callers' data; they stay out of the logs.
        flag: 'EnableMessagingLogs'
        value: 'False'
      }
    ]
    resourceLogConfiguration: {
      categories: [
        {
          name: 'ConnectivityLogs'
          enabled: 'true'
        }
        {
          name: 'MessagingLogs'
          enabled: 'false'
        }
      ]
    }
    cors: {
      allowedOrigins: allowedOrigins
    }
    disableLocalAuth: disableLocalAuth
    disableAadAuth: false
    publicNetworkAccess: 'Enabled'
    networkACLs: {
      // Serverless: the public endpoint serves browser clients and the facade's REST calls.
      // Server connections (there is no hub server) and live trace are refused.
      defaultAction: 'Deny'
      publicNetwork: {
        allow: [
          'ClientConnection'
          'RESTAPI'
        ]
      }
    }
    tls: {
      clientCertEnabled: false
    }
    // Every client event of every hub goes to the facade's receiver, authenticated with a
    // token of the service's identity for the facade's API (azure-docs concept-upstream.md).
    upstream: {
      templates: [
        {
          urlTemplate: upstreamUrlTemplate
          hubPattern: '*'
          categoryPattern: '*'
          eventPattern: '*'
          auth: {
            type: 'ManagedIdentity'
            managedIdentity: {
              resource: upstreamTokenResource
            }
          }
        }
      ]
    }
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: signalR
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    // Resource-specific table (SignalRServiceDiagnosticLogs) rather than AzureDiagnostics.
    logAnalyticsDestinationType: 'Dedicated'
    logs: [
      {
        categoryGroup: 'allLogs'
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

output name string = signalR.name
output endpoint string = 'https://${signalR.properties.hostName}'
output principalId string = signalR.identity.principalId
