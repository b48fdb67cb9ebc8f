"""Exactly once, as seen by clients: idempotency records in Azure Table Storage.

``keys`` names a record (the caller's or the queue's scope, the key, the request's fingerprint),
``config`` reads where the table lives, ``store`` reserves, completes and releases records (one at
a time or a batch's in Table transactions), ``once`` runs one keyed command under a record.
azure-data-tables is imported only by ``store``, on first need: nothing here is on the cold path.
"""
