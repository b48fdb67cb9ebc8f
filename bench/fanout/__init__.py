"""Fan-out: one broadcast to many connected clients, through the facade and direct (``run``)."""
