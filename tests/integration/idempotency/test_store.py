"""The idempotency store against Azurite's table service: reserve, complete, release, leases, windows,
races between workers, a store that is down, and a batch's records in Table transactions."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from functions.core.errors import IdempotencyUnavailable
from functions.core.idempotency.config import StoreSettings
from functions.core.idempotency.keys import RecordKey, queue_scope
from functions.core.idempotency.records import BATCH_LEASE_SECONDS, LEASE_SECONDS, Answer, Verdict
from functions.core.idempotency.store import IdempotencyStore

from .conftest import Clock, CountingTransport

SCOPE = queue_scope("signalr-commands")


def key(value: str, fingerprint: str = "f1", scope: str = SCOPE) -> RecordKey:
    return RecordKey(scope, value, fingerprint)


def test_a_new_key_is_claimed_then_a_repeat_is_busy_until_answered_then_replayed(make_store):
    store = make_store()
    first = store.reserve(key("k"))
    assert first.verdict is Verdict.CLAIMED
    assert store.reserve(key("k")).verdict is Verdict.BUSY
    assert store.complete(first, Answer(202, "", None))
    repeat = store.reserve(key("k"))
    assert (repeat.verdict, repeat.answer) == (Verdict.DONE, Answer(202, "", None))


def test_the_same_key_for_another_request_is_a_mismatch_answered_or_not(make_store):
    store = make_store()
    first = store.reserve(key("k", "body-a"))
    assert store.reserve(key("k", "body-b")).verdict is Verdict.MISMATCH
    store.complete(first, Answer(202))
    assert store.reserve(key("k", "body-b")).verdict is Verdict.MISMATCH


def test_keys_of_two_scopes_never_collide(make_store):
    store = make_store()
    assert store.reserve(key("k", scope="http\nt\nalice\napp")).verdict is Verdict.CLAIMED
    assert store.reserve(key("k", scope="http\nt\nbob\napp")).verdict is Verdict.CLAIMED


def test_a_released_key_can_be_reserved_again_at_once(make_store):
    store = make_store()
    store.release(store.reserve(key("k")))
    assert store.reserve(key("k")).verdict is Verdict.CLAIMED


def test_a_large_answer_is_kept_whole(make_store):
    store = make_store()
    body = '{"results": "' + "x" * 100_000 + '"}'
    store.complete(store.reserve(key("k")), Answer(207, body, "application/json"))
    assert store.reserve(key("k")).answer == Answer(207, body, "application/json")


def test_a_reservation_left_by_a_dead_worker_is_taken_over_after_its_lease_only(make_store):
    clock = Clock()
    dead_worker, retry = make_store(clock), make_store(clock)
    orphan = dead_worker.reserve(key("k"))  # reserved, never sent, never completed
    clock.now += LEASE_SECONDS - 1
    assert retry.reserve(key("k")).verdict is Verdict.BUSY
    clock.now += 2
    taken = retry.reserve(key("k"))
    assert taken.verdict is Verdict.CLAIMED
    # The dead worker's late completion cannot overwrite the new holder's reservation (ETag-conditional).
    assert not dead_worker.complete(orphan, Answer(202))
    assert retry.complete(taken, Answer(202))
    assert retry.reserve(key("k")).verdict is Verdict.DONE


def test_an_answered_record_is_forgotten_after_the_window(make_store, settings):
    clock = Clock()
    store = make_store(clock)
    store.complete(store.reserve(key("k")), Answer(202))
    clock.now += settings.ttl - 1
    assert store.reserve(key("k")).verdict is Verdict.DONE
    clock.now += 2
    assert store.reserve(key("k")).verdict is Verdict.CLAIMED


def test_many_workers_racing_for_one_new_key_claim_it_once(make_store):
    stores = [make_store() for _ in range(12)]
    barrier = threading.Barrier(len(stores))

    def race(store: IdempotencyStore) -> Verdict:
        barrier.wait(timeout=10)
        return store.reserve(key("hot")).verdict

    with ThreadPoolExecutor(len(stores)) as pool:
        verdicts = list(pool.map(race, stores))
    assert verdicts.count(Verdict.CLAIMED) == 1
    assert set(verdicts) <= {Verdict.CLAIMED, Verdict.BUSY}


def test_many_workers_taking_over_one_expired_lease_claim_it_once(make_store):
    clock = Clock()
    make_store(clock).reserve(key("orphan"))
    clock.now += LEASE_SECONDS + 1
    stores = [make_store(clock) for _ in range(12)]
    barrier = threading.Barrier(len(stores))

    def race(store: IdempotencyStore) -> Verdict:
        barrier.wait(timeout=10)
        return store.reserve(key("orphan")).verdict

    with ThreadPoolExecutor(len(stores)) as pool:
        verdicts = list(pool.map(race, stores))
    assert verdicts.count(Verdict.CLAIMED) == 1


def test_a_store_that_is_down_is_unavailable_promptly():
    with __import__("socket").socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = StoreSettings(connection_string=(
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
        f"TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"))
    store = IdempotencyStore(down)
    started = time.monotonic()
    with pytest.raises(IdempotencyUnavailable) as raised:
        store.reserve(key("k"))
    assert time.monotonic() - started < 5
    assert raised.value.status == 503
    assert raised.value.headers()["Retry-After"]


def test_a_missing_table_is_created_on_first_use(make_store, azurite, settings):
    from azure.data.tables import TableServiceClient

    store = make_store()
    assert store.reserve(key("k")).verdict is Verdict.CLAIMED
    names = [t.name for t in TableServiceClient.from_connection_string(azurite.connection_string).list_tables()]
    assert settings.table in names


def test_workers_meeting_a_missing_table_at_once_all_get_their_keys(make_store):
    store = make_store()  # one store per worker process, its threads racing on the first use
    barrier = threading.Barrier(8)

    def first_use(n: int) -> Verdict:
        barrier.wait(timeout=10)
        return store.reserve(key(f"k{n}")).verdict

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(first_use, range(8))) == [Verdict.CLAIMED] * 8


# A batch's records.

def batch_keys(prefix: str, count: int) -> list[RecordKey]:
    return [key(f"{prefix}-{i}") for i in range(count)]


def test_a_hundred_new_keys_cost_one_round_trip_to_reserve_and_one_to_complete(make_store):
    transport = CountingTransport()
    store = make_store(transport=transport)
    store.reserve(key("warm-the-table"))  # creates the table: not part of the batch's cost
    transport.sent.clear()
    reservations = store.reserve_many(batch_keys("b", 100), lease=BATCH_LEASE_SECONDS)
    assert [r.verdict for r in reservations] == [Verdict.CLAIMED] * 100
    assert len(transport.sent) == 1
    assert store.complete_many([(r, Answer(202)) for r in reservations]) == 100
    assert len(transport.sent) == 2


def test_two_hundred_keys_of_two_scopes_cost_one_transaction_per_partition_and_hundred(make_store):
    transport = CountingTransport()
    store = make_store(transport=transport)
    store.reserve(key("warm-the-table"))
    transport.sent.clear()
    keys = [key(f"a-{i}", scope="queue\nq\ntenant-a") for i in range(150)] + \
           [key(f"b-{i}", scope="queue\nq\ntenant-b") for i in range(50)]
    assert all(r.verdict is Verdict.CLAIMED for r in store.reserve_many(keys))
    assert len(transport.sent) == 3  # tenant-a: 100 + 50; tenant-b: 50


def test_a_batch_seen_before_is_judged_item_by_item(make_store):
    clock = Clock()
    transport = CountingTransport()
    store = make_store(clock, transport)
    earlier = store.reserve_many(batch_keys("b", 30))
    store.complete_many([(r, Answer(202)) for r in earlier[:10]])  # 10 answered, 10 leased, 10 released
    store.release_many(earlier[20:])
    transport.sent.clear()
    keys = batch_keys("b", 30) + batch_keys("new", 20)
    keys[5] = key("b-5", "another-body")
    verdicts = [r.verdict for r in store.reserve_many(keys)]
    assert verdicts[:10] == [Verdict.DONE] * 5 + [Verdict.MISMATCH] + [Verdict.DONE] * 4
    assert verdicts[10:20] == [Verdict.BUSY] * 10
    assert verdicts[20:] == [Verdict.CLAIMED] * 30
    # The failed transaction, the reads (14 keys per filter), then one transaction for the rest.
    assert len(transport.sent) == 1 + 4 + 1


def test_a_batch_takes_over_leases_that_ended(make_store):
    clock = Clock()
    store = make_store(clock)
    store.reserve_many(batch_keys("b", 10))
    clock.now += LEASE_SECONDS + 1
    assert [r.verdict for r in store.reserve_many(batch_keys("b", 10))] == [Verdict.CLAIMED] * 10


def test_a_key_twice_in_one_batch_is_claimed_once(make_store):
    store = make_store()
    keys = [key("same"), key("other"), key("same"), key("same", "another-body")]
    assert [r.verdict for r in store.reserve_many(keys)] == [
        Verdict.CLAIMED, Verdict.CLAIMED, Verdict.DONE, Verdict.MISMATCH]


def test_a_batch_whose_store_is_down_is_unavailable():
    down = StoreSettings(connection_string=(
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
        "TableEndpoint=http://127.0.0.1:9/devstoreaccount1;"))
    with pytest.raises(IdempotencyUnavailable):
        IdempotencyStore(down).reserve_many(batch_keys("b", 3))
