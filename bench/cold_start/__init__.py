"""Cold start: a new worker's import and first invocation, the facade against a naive function (``run``)."""
