"""The added cost of an Idempotency-Key: an HTTP command with a key against Azurite's table service,
beside the same command without one (``python -m bench --only idempotency``)."""
