"""Schemathesis hooks for ``python -m bench.fuzz`` (loaded through ``SCHEMATHESIS_HOOKS``).

An ``Idempotency-Key`` is state, which a stateless fuzzer cannot respect: it sends the same few
generated keys with different requests, and a key reused for another request is rightly a 422.
So the fuzzer is given the document without that header, and every request it sends is a plain
one. The header itself (repeats, reuse, malformed keys) is tested on purpose in
tests/integration/idempotency.
"""

from __future__ import annotations

from typing import Any

import schemathesis

HEADER = "idempotency-key"


@schemathesis.hook
def before_load_schema(context: Any, raw_schema: dict[str, Any]) -> None:
    for item in raw_schema.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict) and "parameters" in operation:
                operation["parameters"] = [p for p in operation["parameters"]
                                           if not (p.get("in") == "header" and p.get("name", "").lower() == HEADER)]
