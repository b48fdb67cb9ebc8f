"""The one retry rule, held per error class, and the docs' queue table generated from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from devstack.docs_table import QUEUE_BEGIN, QUEUE_END, queue_outcomes_table
from functions.core import errors
from functions.core.errors import error_classes

QUEUE_GUIDE = Path(__file__).parents[3] / "docs" / "guides" / "queue-commands.md"

# Every class, explicitly: a new error must be classified here before it can ship.
RETRYABLE = {
    "FacadeError": True,  # unforeseen: the poison queue keeps it rather than a dead letter by mistake
    "ConfigurationError": True,  # an operator fixes the settings; the message waits
    "RequestError": False, "ValidationError": False, "PayloadTooLarge": False, "UnsupportedMediaType": False,
    "OperationNotAllowed": False, "ContinuationRefused": False,
    "NoSuchRoute": False, "MethodNotAllowed": False,  # HTTP routing only: a request error, never a queue's
    "AuthenticationError": False, "MissingToken": False, "InvalidToken": False,
    "PermissionDenied": False, "NotFound": False, "GroupTooLarge": False,
    "NotAttempted": True,  # never sent: sending it later is safe
    "SigningKeysUnavailable": True,
    "CallerLimited": True,  # the budget refills: the same command fits later
    "UpstreamError": True, "UpstreamRejected": False,
    "UpstreamMisconfigured": True,  # role assignments take up to 30 minutes to propagate
    "UpstreamServerError": True, "UpstreamUnavailable": True, "UpstreamTimeout": True,
    "ClientInvocationFailed": False,  # the client answered: asking again repeats its answer
    "ClientTimeout": True,
}


def test_every_error_class_is_classified_here():
    assert {cls.__name__ for cls in error_classes()} == set(RETRYABLE)


@pytest.mark.parametrize("name", sorted(RETRYABLE))
def test_each_error_class_is_retryable_or_not_by_the_one_rule(name):
    assert getattr(errors, name).retryable is RETRYABLE[name]


def test_the_docs_queue_table_is_generated_from_the_rule():
    text = QUEUE_GUIDE.read_text()
    table = text[text.index(QUEUE_BEGIN) + len(QUEUE_BEGIN):text.index(QUEUE_END)].strip()
    assert table == queue_outcomes_table(), "regenerate with: .venv/bin/python -m devstack docs"
