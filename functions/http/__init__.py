"""The HTTP surface: one function per catalog operation, negotiate, health and the OpenAPI document.

``request`` turns a ``func.HttpRequest`` into a ``Command``; ``responses`` turns outcomes and
errors into ``func.HttpResponse`` (problem+json for every failure).
"""

from __future__ import annotations

from functions.http.fallback import bp as fallback
from functions.http.health import bp as health
from functions.http.negotiate import bp as negotiate
from functions.http.openapi import bp as openapi
from functions.http.operations import bp as operations

blueprints = (operations, negotiate, health, openapi)
# The catch-all (functions/http/fallback.py), registered after every other blueprint of the app.
fallback_blueprint = fallback

__all__ = ["blueprints", "fallback_blueprint"]
