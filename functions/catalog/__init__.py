"""The operation catalog: every operation as data, written once.

``operations`` holds the model (``OperationSpec``, ``Param``, ``Permission``, ...) and the
table (``OPERATIONS``); ``rules`` the input rules, ``bodies`` the request bodies,
``answers`` the answers' schemas, ``paging`` the list pages, ``odata`` the ``:execute``
filter. HTTP routes, queue and batch dispatch, the OpenAPI document and the docs' operations
table are all derived from it.
"""

from __future__ import annotations

from functions.catalog.operations import (
    OPERATIONS,
    OPERATIONS_BY_NAME,
    Answer,
    OperationSpec,
    Param,
    Permission,
)

__all__ = ["OPERATIONS", "OPERATIONS_BY_NAME", "Answer", "OperationSpec", "Param", "Permission"]
