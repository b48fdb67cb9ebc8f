"""Local Azure Functions host for the Python v2 programming model (development only, never deployed).

Azure Functions Core Tools cannot be installed here, so this package stands in for
``func start``: it imports ``function_app``, indexes its functions once, serves HTTP triggers
by route template and feeds queue triggers from Storage (Azurite). See docs/development/local-host.md for
what it does like the Functions host and where it differs.

    from devstack.host import LocalHost
    with LocalHost("function_app", Path("."), port=0) as host:
        requests.get(f"{host.base_url}/api/...")
"""

from __future__ import annotations

from devstack.host.cli import main
from devstack.host.http_server import HttpLimits
from devstack.host.local_host import LocalHost

__all__ = ["HttpLimits", "LocalHost", "main"]
