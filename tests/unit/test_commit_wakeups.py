"""Which background loop a commit wakes: the timer loop only for a deadline set before its planned
look, the report runner only for a queued job, the relay only for events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from backend.clock import FrozenClock
from backend.relay import OutboxRelay
from backend.settings import Settings
from workers.embedded import ReportRunner, TimerLoop

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def committed(*, timers_at: datetime | None = None, jobs: bool = False, emitted: int = 0) -> Any:
    return SimpleNamespace(timers_at=timers_at, jobs_queued=jobs, emitted=[object()] * emitted)


def woken(waker: Any) -> bool:
    return waker._event.is_set()


def test_the_timer_loop_wakes_only_for_a_deadline_before_its_planned_look() -> None:
    loop = TimerLoop(None, FrozenClock(NOW), Settings(environment="test"))  # type: ignore[arg-type]
    loop.wake_at = NOW + timedelta(seconds=2)
    loop.after_commit(committed())  # a status change that set no deadline
    loop.after_commit(committed(timers_at=NOW + timedelta(minutes=3)))  # found at the planned look
    assert not woken(loop.waker)
    loop.after_commit(committed(timers_at=NOW + timedelta(seconds=1)))
    assert woken(loop.waker)


def test_while_the_timer_loop_is_looking_any_new_deadline_makes_it_look_again() -> None:
    loop = TimerLoop(None, FrozenClock(NOW), Settings(environment="test"))  # type: ignore[arg-type]
    loop.wake_at = None
    loop.after_commit(committed(timers_at=NOW + timedelta(hours=4)))
    assert woken(loop.waker)


def test_the_report_runner_wakes_for_a_queued_job_only() -> None:
    runner = ReportRunner(None, Settings(environment="test"))  # type: ignore[arg-type]
    runner.after_commit(committed(emitted=3, timers_at=NOW))
    assert not woken(runner.waker)
    runner.after_commit(committed(jobs=True))
    assert woken(runner.waker)


def test_the_relay_wakes_for_events_only() -> None:
    relay = OutboxRelay(None, None, FrozenClock(NOW))  # type: ignore[arg-type]
    relay.after_commit(committed(timers_at=NOW, jobs=True))
    assert not relay._wake.is_set()
    relay.after_commit(committed(emitted=1))
    assert relay._wake.is_set()
