"""Cold-start child, facade side: import ``function_app``, answer one authenticated broadcast.

The token (RS256, from the parent's DevIdentityProvider) comes in ``BENCH_TOKEN``; the
facade fetches the provider's OpenID configuration and keys itself, as a fresh worker does.
Prints one JSON line: status and the time spent importing and answering.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

import function_app  # noqa: E402
from bench.cold_start.invoke import invoke  # noqa: E402

IMPORTED = time.perf_counter()
status = invoke(function_app.app, "broadcast", f"Bearer {os.environ['BENCH_TOKEN']}")
done = time.perf_counter()
# Heavy imports must stay lazy: with an AccessKey connection string azure-identity is never needed.
print(json.dumps({"status": status, "import_s": IMPORTED - STARTED, "call_s": done - IMPORTED,
                  "azure_identity_loaded": "azure.identity" in sys.modules,
                  # The idempotency store's SDK is imported on first need only (a keyed request, the queue).
                  "azure_data_tables_loaded": "azure.data.tables" in sys.modules}))
