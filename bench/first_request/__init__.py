"""The first request of a new worker, the facade against a naive function (``run``)."""
