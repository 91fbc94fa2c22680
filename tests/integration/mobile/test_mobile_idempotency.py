"""Idempotency-Key over HTTP on SQLite and PostgreSQL: one side effect for 10 sequential and 50
concurrent copies, identical replays, 422 for a different body, 400 for a missing key, keys scoped
to their user, refusals stored but transient ones not, in flight: 409 on PostgreSQL, queued behind the
writer lock then replayed on SQLite; pruning."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import partial

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from backend.domain.mobile.idempotency import lock_id
from backend.persistence.tables import AuditLog, Outbox, WorkOrderEvent
from backend.persistence.tables_mobile import IdempotencyRecord, MobileAction
from backend.services import idempotency
from tests.integration.mobile.harness import MobileHarness, key
from tests.support.apptest import error_code
from tests.support.waiting import wait_until


def _effects(mobile: MobileHarness, order_id: int) -> tuple[int, int, int]:
    return (mobile.count(WorkOrderEvent, WorkOrderEvent.work_order_id == order_id),
            mobile.count(Outbox, Outbox.key == f"work_order:{order_id}"),
            mobile.count(MobileAction, MobileAction.work_order_id == order_id))


def test_same_request_ten_times_is_one_side_effect(mobile: MobileHarness) -> None:
    order = mobile.new_order(engineer=mobile.r.eng_a)
    before = _effects(mobile, order.id)
    k = key()
    responses = [mobile.do(order.id, "acknowledge", {}, idem=k) for _ in range(10)]
    assert {r.status_code for r in responses} == {200}
    assert len({r.content for r in responses}) == 1  # byte-identical replays
    assert "idempotent-replayed" not in responses[0].headers
    assert all(r.headers["idempotent-replayed"] == "true" for r in responses[1:])
    assert all(r.headers["etag"] == responses[0].headers["etag"] for r in responses)
    after = _effects(mobile, order.id)
    assert after == (before[0] + 1, before[1] + 1, before[2] + 1)


def test_fifty_concurrent_copies_apply_once(mobile: MobileHarness) -> None:
    order = mobile.new_order(engineer=mobile.r.eng_a)
    mobile.bearer(mobile.r.eng_a)  # log in before the crowd
    before = _effects(mobile, order.id)
    k = key()
    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(lambda _: mobile.do(order.id, "acknowledge", {}, idem=k), range(50)))
    ok = [r for r in responses if r.status_code == 200]
    busy = [r for r in responses if r.status_code == 409]
    assert len(ok) + len(busy) == 50 and ok
    assert {error_code(r) for r in busy} <= {"idempotency-key-in-use"}
    assert len({r.content for r in ok}) == 1
    assert sum(1 for r in ok if "idempotent-replayed" not in r.headers) == 1
    assert _effects(mobile, order.id) == (before[0] + 1, before[1] + 1, before[2] + 1)
    again = mobile.do(order.id, "acknowledge", {}, idem=k)  # after the crowd: a replay
    assert again.status_code == 200 and again.content == ok[0].content


def test_same_key_different_body_is_422_and_changes_nothing(mobile: MobileHarness) -> None:
    order = mobile.new_order(engineer=mobile.r.eng_a)
    k = key()
    assert mobile.do(order.id, "decline", {"reason": "too far"}, idem=k).status_code == 200
    effects = _effects(mobile, order.id)
    response = mobile.do(order.id, "decline", {"reason": "sick"}, idem=k)
    assert response.status_code == 422 and error_code(response) == "idempotency-key-reused"
    other_path = mobile.do(order.id, "acknowledge", {}, idem=k)
    assert other_path.status_code == 422 and error_code(other_path) == "idempotency-key-reused"
    assert _effects(mobile, order.id) == effects


def test_equivalent_bodies_share_a_fingerprint(mobile: MobileHarness) -> None:
    order = mobile.new_order(engineer=mobile.r.eng_a)
    k = key()
    at = mobile.clock.now() - timedelta(seconds=30)
    first = mobile.do(order.id, "acknowledge", {"occurred_at": at.isoformat(), "queued_offline": False}, idem=k)
    second = mobile.do(order.id, "acknowledge", {"occurred_at": at.isoformat().replace("+00:00", "Z")}, idem=k)
    assert second.status_code == 200 and second.content == first.content


def test_missing_or_malformed_key_is_400_and_changes_nothing(mobile: MobileHarness) -> None:
    order = mobile.new_order(engineer=mobile.r.eng_a)
    before = (_effects(mobile, order.id), mobile.count(IdempotencyRecord))
    missing = mobile.do(order.id, "acknowledge", {}, idem=None)
    assert missing.status_code == 400 and error_code(missing) == "idempotency-key-required"
    bad = mobile.do(order.id, "acknowledge", {}, idem="no")
    assert bad.status_code == 400 and error_code(bad) == "idempotency-key-invalid"
    assert (_effects(mobile, order.id), mobile.count(IdempotencyRecord)) == before


def test_keys_are_scoped_to_their_user(mobile: MobileHarness) -> None:
    mine = mobile.new_order(engineer=mobile.r.eng_a)
    theirs = mobile.new_order(engineer=mobile.r.eng_b)
    k = key()
    first = mobile.do(mine.id, "acknowledge", {}, idem=k, who=mobile.r.eng_a)
    # The same key from another user is another request: no replay of A's response, no 422.
    other = mobile.do(theirs.id, "acknowledge", {}, idem=k, who=mobile.r.eng_b)
    assert other.status_code == 200 and "idempotent-replayed" not in other.headers
    assert other.json()["work_order"]["id"] == theirs.id != first.json()["work_order"]["id"]
    # And B replaying A's exact request cannot read A's stored response: it is B's own request.
    leak = mobile.do(mine.id, "acknowledge", {}, idem=key(), who=mobile.r.eng_b)
    assert leak.status_code == 404
    assert mobile.count(IdempotencyRecord, IdempotencyRecord.key == k) == 2


def test_business_refusal_is_stored_and_replayed(mobile: MobileHarness) -> None:
    order = mobile.new_order(engineer=mobile.r.eng_a)
    k = key()
    refused = mobile.do(order.id, "arrive", {}, idem=k)  # not en route yet
    assert refused.status_code == 409 and error_code(refused) == "invalid-transition"
    assert _effects(mobile, order.id)[0] == 2  # created + dispatched: nothing else
    mobile.walk_to_site(order.id)  # the state moves on...
    replay = mobile.do(order.id, "arrive", {}, idem=k)
    assert replay.status_code == 409 and replay.content == refused.content  # ...the key's answer does not
    assert replay.headers["idempotent-replayed"] == "true"


def test_transient_refusal_is_not_stored(mobile: MobileHarness) -> None:
    order = mobile.new_order(engineer=mobile.r.eng_a)
    k = key()
    future = mobile.clock.now() + timedelta(minutes=10)
    early = mobile.do(order.id, "acknowledge", {"occurred_at": future.isoformat()}, idem=k)
    assert early.status_code == 422 and error_code(early) == "occurred-at-in-future"
    assert mobile.count(IdempotencyRecord, IdempotencyRecord.key == k) == 0
    mobile.clock.advance(minutes=10)  # the server's clock catches up: the same key now works
    assert mobile.do(order.id, "acknowledge", {"occurred_at": future.isoformat()}, idem=k).status_code == 200


def test_if_match_is_part_of_the_request(mobile: MobileHarness) -> None:
    order = mobile.new_order(engineer=mobile.r.eng_a)
    stale = mobile.do(order.id, "acknowledge", {}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412 and error_code(stale) == "version-mismatch"
    assert stale.json()["error"]["details"]["current_version"] == order.version
    fresh = mobile.do(order.id, "acknowledge", {}, headers={"If-Match": f'"{order.version}"'})
    assert fresh.status_code == 200 and fresh.headers["etag"] == f'"{order.version + 1}"'


@pytest.mark.parametrize("mobile", ["postgresql"], indirect=True)  # SQLite: the next test
def test_in_flight_duplicate_is_409(mobile: MobileHarness) -> None:
    order = mobile.new_order(engineer=mobile.r.eng_a)
    k = key()

    async def hold_the_key_and_call() -> tuple[int, str]:
        # What an in-flight first request holds: the (user, key) lock, in an open transaction.
        async with mobile.client.app.state.engine.connect() as conn:
            await conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": lock_id(mobile.r.eng_a.user_id, k)})
            try:
                response = await asyncio.to_thread(mobile.do, order.id, "acknowledge", {}, idem=k)
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock_id(mobile.r.eng_a.user_id, k)})
            return response.status_code, error_code(response)

    assert mobile.client.portal is not None
    assert mobile.client.portal.call(hold_the_key_and_call) == (409, "idempotency-key-in-use")
    assert mobile.count(IdempotencyRecord, IdempotencyRecord.key == k) == 0
    assert mobile.do(order.id, "acknowledge", {}, idem=k).status_code == 200  # released: it runs


@pytest.mark.parametrize("mobile", ["sqlite"], indirect=True)  # PostgreSQL: the test above
def test_duplicates_queued_behind_the_writer_lock_replay(mobile: MobileHarness) -> None:
    """SQLite has one writer at a time (BEGIN IMMEDIATE): a duplicate sent while the first copy
    is still waiting or running queues behind it, then replays its response; never a 409."""
    order = mobile.new_order(engineer=mobile.r.eng_a)
    mobile.bearer(mobile.r.eng_a)  # log in before taking the lock (a login writes)
    before = _effects(mobile, order.id)
    k = key()
    engine = mobile.client.app.state.engine
    checked_out = engine.pool.checkedout()
    database = make_url(mobile.settings.database_url).database
    blocker = sqlite3.connect(database, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")  # another writer holds the database
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = [pool.submit(mobile.do, order.id, "acknowledge", {}, idem=k) for _ in range(2)]
            # Both copies are in flight: each holds a connection, waiting for the writer lock.
            mobile.client.portal.call(partial(wait_until, lambda: engine.pool.checkedout() >= checked_out + 2,
                                              timeout=30, message="both copies waiting for the lock"))
            assert not any(f.done() for f in futures)
            blocker.execute("ROLLBACK")
            responses = [f.result(timeout=60) for f in futures]
    finally:
        blocker.close()
    assert [r.status_code for r in responses] == [200, 200]
    assert responses[0].content == responses[1].content
    assert sorted(r.headers.get("idempotent-replayed", "") for r in responses) == ["", "true"]
    assert _effects(mobile, order.id) == (before[0] + 1, before[1] + 1, before[2] + 1)


@pytest.mark.parametrize("outcome", ["applies again", "already applied"])
def test_a_look_up_that_missed_a_fresh_record_replays_it(mobile: MobileHarness, monkeypatch: pytest.MonkeyPatch,
                                                         outcome: str) -> None:
    """The lock and the look-up are one statement on PostgreSQL, so the look-up can miss a record the
    lock's previous holder committed a moment before. Made to happen here: the duplicate then runs
    (applying again, or as already applied), its record collides with the stored one as it
    commits, everything it wrote is rolled back, and the stored response is the answer."""
    order = mobile.new_order(engineer=mobile.r.eng_a)
    k = key()
    step, body = ("hold", {"reason": "waiting_for_parts"}) if outcome == "applies again" else ("acknowledge", {})
    if step == "hold":
        mobile.walk_to_site(order.id)
    first = mobile.do(order.id, step, body, idem=k)
    assert first.status_code == 200
    if step == "hold":
        assert mobile.do(order.id, "resume", {}).status_code == 200  # so a second hold would apply
    effects = _effects(mobile, order.id)
    real = idempotency.repo.lock_and_find
    missed = []

    async def missing_it_once(*args: object) -> idempotency.repo.Found:
        found = await real(*args)  # type: ignore[arg-type]
        if found.stored is not None and not missed:
            missed.append(found)
            return dataclasses.replace(found, stored=None)  # as if the snapshot predated the first copy's commit
        return found

    monkeypatch.setattr(idempotency.repo, "lock_and_find", missing_it_once)
    again = mobile.do(order.id, step, body, idem=k)
    assert missed, "the look-up was made to miss the record"
    assert again.status_code == 200 and again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert _effects(mobile, order.id) == effects  # the duplicate's writes went with its transaction
    assert mobile.count(IdempotencyRecord, IdempotencyRecord.key == k) == 1


def test_records_are_pruned_after_retention(mobile: MobileHarness) -> None:
    order = mobile.new_order(engineer=mobile.r.eng_a)
    mobile.do(order.id, "acknowledge", {})
    mobile.clock.advance(hours=71)
    mobile.do(order.id, "contact", {"appointment_at": (mobile.clock.now() + timedelta(hours=1)).isoformat()})
    mobile.clock.advance(hours=2)  # the first record is now 73 h old, the second 2 h
    assert mobile.run_uow(lambda uow: idempotency.prune(uow, timedelta(hours=72))) == 1
    assert mobile.count(IdempotencyRecord) == 1
    with pytest.raises(ValueError, match="72"):
        mobile.run_uow(lambda uow: idempotency.prune(uow, timedelta(hours=24)))
    assert mobile.count(AuditLog) > 0  # pruning keys never touches the audit trail
