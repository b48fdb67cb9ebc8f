"""Fixtures for the facade's functions, named after what they return."""

from __future__ import annotations

import pytest

from support.http_calls import function_caller


@pytest.fixture
def call(registered_functions, secured_env, identity_provider):
    """Call a registered HTTP function by name: ``call(name, method, route_params, query, body=...)``."""
    return function_caller(registered_functions, identity_provider)
