"""What the local stack prints: one line per thing a person cares about, SDK chatter off.

The Azure SDKs log every HTTP exchange at INFO (a queue poller alone fills a screen a second),
so their loggers stay at WARNING unless ``--verbose`` asks for everything.
"""

from __future__ import annotations

import logging

CHATTY_LOGGERS = ("azure", "urllib3", "msal", "aiohttp.access")


def configure_logging(fmt: str, *, level: str | int = logging.INFO, verbose: bool = False) -> None:
    """The root logger at ``level`` (DEBUG with ``verbose``); the SDKs' loggers at WARNING unless ``verbose``."""
    logging.basicConfig(level=logging.DEBUG if verbose else level, format=fmt)
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET if verbose else logging.WARNING)
