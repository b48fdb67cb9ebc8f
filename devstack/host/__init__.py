"""Local Azure Functions host for the Python v2 programming model (development only, never deployed).

This package stands in for ``func start`` in the tests and ``make run``: it imports
``function_app``, indexes its functions once, serves HTTP triggers by route template and feeds
queue triggers from Storage (Azurite). Azure Functions Core Tools installs from the npm registry
(``azure-functions-core-tools``), but that install downloads the ``func`` binary, and ``func start``
downloads the extension bundle, from Microsoft's CDN; neither works on a machine limited to the
package registries (this project's CI). Where Core Tools can be installed,
``python -m devstack up --core-tools`` runs the same stack with ``func start`` instead.
See docs/development/local-host.md for what this host does like the Functions host and where it differs.

    from devstack.host import LocalHost
    with LocalHost("function_app", Path("."), port=0) as host:
        requests.get(f"{host.base_url}/api/...")
"""

from __future__ import annotations

from devstack.host.cli import main
from devstack.host.http_server import HttpLimits
from devstack.host.local_host import LocalHost

__all__ = ["HttpLimits", "LocalHost", "main"]
