"""Offline replay on SQLite and PostgreSQL: a phone's queue of 200 actions over many orders,
shuffled and duplicated (same keys, and re-queued copies with new keys), replayed late through the
batch endpoint, ends in exactly the state the same actions reach sent in order; actions no longer
possible get per-item errors saying why."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from backend.domain.work_orders import commands as c
from backend.persistence.repositories import work_orders as repo
from tests.integration.mobile.harness import MobileHarness, key, report

VARIANTS: list[list[str]] = [
    ["acknowledge", "contact", "depart", "arrive", "complete"],
    ["acknowledge", "contact", "contact2", "depart", "arrive", "hold", "resume", "complete"],
    ["acknowledge", "contact", "depart", "arrive", "hold", "resume", "hold2"],
    ["acknowledge", "contact", "depart"],  # this order is cancelled at the console before the replay
]
COMPARED = ("state", "version", "engineer_id", "acknowledged_at", "contacted_at", "departed_at", "arrived_at",
            "completed_at", "appointment_at", "hold_reason", "cancel_reason")


def _body(step: str, at: datetime, order_index: int, hours: float) -> tuple[str, dict[str, Any]]:
    appointment = at + timedelta(hours=2 + order_index % 3)
    bodies: dict[str, tuple[str, dict[str, Any]]] = {
        "acknowledge": ("acknowledge", {}),
        "contact": ("contact", {"appointment_at": appointment.isoformat()}),
        "contact2": ("contact", {"appointment_at": (appointment + timedelta(hours=1)).isoformat()}),
        "depart": ("depart", {}),
        "arrive": ("arrive", {"position": {"lat": 31.2, "lon": 121.5, "accuracy_m": 15}}),
        "hold": ("hold", {"reason": "waiting_for_parts", "note": "pump seal on order"}),
        "resume": ("resume", {}),
        "hold2": ("hold", {"reason": "customer_absent"}),
        "complete": ("complete", {"report": report(at - timedelta(minutes=30), hours)}),
    }
    action, body = bodies[step]
    return action, {**body, "occurred_at": at.isoformat()}


def _queue(order_ids: list[int], base: datetime, hours_offset: float, total: int = 200) -> list[dict[str, Any]]:
    """The phone's queue in the order things happened: per order a lifecycle, orders interleaved."""
    items: list[dict[str, Any]] = []
    for j, order_id in enumerate(order_ids):
        for k, step in enumerate(VARIANTS[j % len(VARIANTS)]):
            at = base + timedelta(minutes=10 * k, seconds=j)
            action, body = _body(step, at, j, hours_offset + 10 * k + j / 100)
            items.append({"action": action, "work_order_id": order_id, **body})
    items.sort(key=lambda i: i["occurred_at"])
    items = items[:total]
    for seq, item in enumerate(items):
        item.update(seq=seq, idempotency_key=key())
    return items


def _orders(mobile: MobileHarness, count: int) -> list[int]:
    ids = [mobile.new_order(engineer=mobile.r.eng_a).id for _ in range(count)]
    for j, order_id in enumerate(ids):
        if j % len(VARIANTS) == 3:
            mobile.console(order_id, c.Cancel(reason="customer fixed it"))
    return ids


def _batch(mobile: MobileHarness, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    response = mobile.post("/actions/batch", {"items": items}, idem=None)
    assert response.status_code == 200, response.text
    answers = response.json()["items"]
    assert [a["idempotency_key"] for a in answers] == [i["idempotency_key"] for i in items]
    return answers


def _state(mobile: MobileHarness, order_id: int) -> tuple[Any, ...]:
    order = mobile.run(repo.get, order_id)
    rows = mobile.run(repo.history, order_id)
    hours = round(order.report["running_hours"] % 1000, 6) if order.report else None
    report_fields = {k: v for k, v in (order.report or {}).items() if k != "running_hours"}
    return (*(getattr(order, f) for f in COMPARED), hours, report_fields,
            [(r.type, r.occurred_at) for r in rows[2:]])  # after created + dispatched


def test_shuffled_duplicated_late_queue_ends_as_in_order(mobile: MobileHarness) -> None:
    count = 36
    base = mobile.clock.now() - timedelta(hours=8)  # the phone was offline all day
    in_order_ids, replay_ids = _orders(mobile, count), _orders(mobile, count)
    in_order = _queue(in_order_ids, base, 1300)
    assert len(in_order) == 200
    for start in range(0, len(in_order), 50):  # sent as they happened, in order
        answers = _batch(mobile, in_order[start:start + 50])
        assert all(a["status"] in (200, 409) for a in answers)

    rng = random.Random(20261123)
    queue = _queue(replay_ids, base, 2300)
    duplicates = rng.sample(queue, 60)  # retried: the same keys
    requeued = [{**i, "idempotency_key": key(), "seq": i["seq"] + 1000}  # re-queued: new keys
                for i in rng.sample([i for i in queue if i["action"] in ("arrive", "depart", "acknowledge")], 15)]
    shuffled = queue + duplicates + requeued
    rng.shuffle(shuffled)
    answers = _batch(mobile, shuffled)

    by_key: dict[str, list[dict[str, Any]]] = {}
    for answer in answers:
        by_key.setdefault(answer["idempotency_key"], []).append(answer)
    for copies in by_key.values():  # every copy of a key got the same answer, one of them fresh
        assert len({(a["status"], str(a["body"])) for a in copies}) == 1
        assert sum(not a["replayed"] for a in copies) == 1
    requeued_answers = [by_key[i["idempotency_key"]][0] for i in requeued]
    assert all(a["status"] in (200, 409) for a in requeued_answers)
    assert {a["body"]["outcome"] for a in requeued_answers if a["status"] == 200} == {"already_applied"}
    final = [a for a in answers if a["status"] == 409]
    assert final and {a["body"]["error"]["code"] for a in final} == {"work-order-final"}

    late = _batch(mobile, rng.sample(queue, 40))  # and hours later, some of it once more
    assert all(a["replayed"] for a in late)

    for reference, replayed in zip(in_order_ids, replay_ids, strict=True):
        assert _state(mobile, replayed) == _state(mobile, reference)


def test_actions_no_longer_possible_say_why(mobile: MobileHarness) -> None:
    ref = mobile.r
    cancelled = mobile.new_order(engineer=ref.eng_a)
    mobile.console(cancelled.id, c.Cancel(reason="duplicate call"))
    reassigned = mobile.new_order(engineer=ref.eng_a)
    mobile.console(reassigned.id, c.Dispatch(engineer_id=ref.eng_b.user_id))
    taken = mobile.new_order(provider=ref.provider)
    assert mobile.do(taken.id, "acknowledge", {}, who=ref.eng_b).status_code == 200
    never_mine = mobile.new_order(engineer=ref.eng_c)
    at = (mobile.clock.now() - timedelta(hours=1)).isoformat()
    items = [{"action": "acknowledge", "work_order_id": order_id, "occurred_at": at, "seq": n,
              "idempotency_key": key()}
             for n, order_id in enumerate([cancelled.id, reassigned.id, taken.id, never_mine.id])]
    answers = _batch(mobile, items)
    assert [(a["status"], a["body"]["error"]["code"]) for a in answers] == [
        (409, "work-order-final"), (409, "work-order-reassigned"), (409, "work-order-taken"),
        (404, "work-order-not-found")]
