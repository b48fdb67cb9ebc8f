"""Start-up work off the request path: when the worker loads the app, fetch the token-signing
keys and (with an Entra credential) the SignalR token in background threads, so the first
request finds them ready or, arriving earlier, waits for at most the one round trip already
under way (the key cache and the credential serialise callers on the fetch in flight).

Only in a Functions worker (the Python worker's package is loaded, or ``FUNCTIONS_WORKER_RUNTIME``
is set, as the local host sets it from local.settings.json) and only with sound settings; a test or tool importing
``function_app`` starts nothing. Failures are left for the first request to meet: it tries
once itself, fails closed as it would have without a warm-up, and nothing is logged here
beyond the kind of failure.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from functions.signalr.service import SignalRService

log = logging.getLogger(__name__)

# The Python worker's packages (before Python 3.13, and from it), loaded before it imports the app:
# https://github.com/Azure/azure-functions-python-worker/tree/dev/workers
WORKER_MODULES = ("azure_functions_worker", "proxy_worker")


def in_functions_worker() -> bool:
    return bool(os.environ.get("FUNCTIONS_WORKER_RUNTIME")) or any(m in sys.modules for m in WORKER_MODULES)


def start() -> list[threading.Thread]:
    """Begin the warm-up (call once, at app load); the threads started, for tests."""
    if not in_functions_worker():
        return []
    from functions.core.facade import get_facade

    facade = get_facade()  # built here, in the loading thread, so the warm-up fills the very one requests use
    threads = [threading.Thread(target=_quietly, args=(name, task), name=f"warmup-{name}", daemon=True)
               for name, task in (("signing-keys", lambda: facade.validator.keys.prefetch()),
                                  ("signalr-token", lambda: _prefetch_credentials(facade.client)))]
    for thread in threads:
        thread.start()
    return threads


def _prefetch_credentials(client: SignalRService) -> None:
    # Several SignalR endpoints (functions.signalr.router): each has its own credential.
    for one in client.clients:
        _prefetch_credential(one.credential)


def _prefetch_credential(credential: object) -> None:
    prefetch = getattr(credential, "prefetch", None)  # AccessKey tokens are signed locally: nothing to fetch
    if prefetch is not None:
        prefetch()


def _quietly(name: str, task: Callable[[], None]) -> None:
    try:
        task()
    except Exception as e:  # unusable settings and the like: the request path reports them properly
        log.info("warm-up of %s skipped: %s", name, type(e).__name__)
