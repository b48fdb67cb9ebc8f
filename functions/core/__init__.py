"""The facade's core: its steps and the three compositions, with no trigger in sight.

- ``facade``: ``Facade``, the per-worker state, and the steps every trigger composes:
  authenticate → validate → authorize → forward. ``Facade.serve`` is an HTTP request,
  ``Facade.run_queued`` a queued command; ``batch_runner.run_batch`` runs a batch's items.
- ``command``: raw inputs → a validated ``Command`` (one implementation for every path);
  ``queued``: a queue message → a ``Command``; ``batch``: the batch format.
- ``errors``: the exception tree (and the one retry rule); ``settings``: read once;
  ``json_input``: I-JSON, the one place input text becomes data.

The core imports no trigger package (``http``, ``batch``, ``queue``, ``upstream``) and no
``azure.functions``: ``tests/unit/test_architecture.py`` holds that. Import the modules directly
(``from functions.core.facade import get_facade``): this package does not re-export them,
so that importing one never drags in the rest.
"""
