"""The store's vocabulary: what a reservation can come to, what an answer holds, and the limits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from functions.core.idempotency.keys import RecordKey

# Longer than a send can take (the SignalR transport's connect and read timeouts with its retries),
# short enough that a key whose worker died is free again soon.
LEASE_SECONDS = 60
# A batch's items (HTTP or queued) are sent concurrently, but a thousand of them behind a throttled
# service take longer than one command: their records are leased for longer.
BATCH_LEASE_SECONDS = 300
TRANSACTION_LIMIT = 100  # entities per Table transaction (one partition)
QUERY_COMPARISONS = 14  # keys per read: the service allows 15 comparisons in a $filter, one is the partition
BODY_CHUNK = 32_000  # characters per string property (64 KiB of UTF-16)
MAX_BODY_CHUNKS = 24  # an answer's body up to 768,000 characters (the entity limit is 1 MiB)
MAX_TRIES = 4  # rounds of insert / read / take over before a contended key is reported busy
Clock = Callable[[], float]


class Verdict(Enum):
    CLAIMED = "claimed"  # ours: send, then complete or release
    DONE = "done"  # already answered: replay it (HTTP) or skip the duplicate (queue)
    BUSY = "busy"  # reserved by a request still within its lease
    MISMATCH = "mismatch"  # the key was first used for another request


@dataclass(frozen=True)
class Answer:
    """What a command came to, as it is replayed: an HTTP status, and the body and its media type."""

    status: int
    body: str = ""
    content_type: str | None = None


@dataclass(frozen=True)
class Reservation:
    key: RecordKey
    verdict: Verdict
    etag: str | None = None  # CLAIMED: the reservation's, for the conditional complete or release
    answer: Answer | None = None  # DONE: the recorded answer (None when it could not be kept)
    retry_after: int = 1  # BUSY: seconds
