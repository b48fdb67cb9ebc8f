"""The batch settings: defaults, bounds, and a malformed value reported by name, never by value."""

from __future__ import annotations

import pytest

from functions.core.settings import Settings


def test_batches_default_to_sixteen_at_once_and_five_attempts():
    settings = Settings.from_environ({})
    assert (settings.batch_parallelism, settings.batch_max_attempts) == (16, 5)
    assert settings.read_problems == ()


def test_valid_values_are_read():
    settings = Settings.from_environ({"SIGNALR_BATCH_PARALLELISM": " 4 ", "SIGNALR_BATCH_MAX_ATTEMPTS": "100"})
    assert (settings.batch_parallelism, settings.batch_max_attempts) == (4, 100)


@pytest.mark.parametrize(("name", "value"), [("SIGNALR_BATCH_PARALLELISM", "0"), ("SIGNALR_BATCH_PARALLELISM", "33"),
                                             ("SIGNALR_BATCH_PARALLELISM", "-1"), ("SIGNALR_BATCH_MAX_ATTEMPTS", "x7"),
                                             ("SIGNALR_BATCH_MAX_ATTEMPTS", "101")])
def test_a_malformed_value_is_a_problem_named_by_setting_and_the_default_is_kept(name, value):
    settings = Settings.from_environ({name: value})
    [problem] = settings.read_problems
    assert problem.startswith(name)
    assert value not in problem
    assert (settings.batch_parallelism, settings.batch_max_attempts) == (16, 5)
