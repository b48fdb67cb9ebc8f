"""signalr-facade: a secured Azure Functions facade over the Azure SignalR Service REST API."""
