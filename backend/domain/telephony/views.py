"""What each telephony channel shows, computed from the board: whole snapshots, the value at one
path (for deltas), and which paths a change touches. Values are plain JSON (instants as ISO
strings); shapes are documented in docs/realtime-protocol.md."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from backend.domain.telephony.board import Board, Change
from backend.domain.telephony.model import Agent, AgentState, Call, CallState
from backend.domain.telephony.stats import Counts, sl_label, summary, window_counts

MISSING: Any = object()  # "no value at this path": the delta deletes it
Path = tuple[str, ...]
AGENT_STATES = [str(s) for s in AgentState]
_QUEUE_AGENT_STATES = ("available", "ringing", "on_call", "wrap_up", "paused")


def iso(instant: datetime | None) -> str | None:
    if instant is None:
        return None
    return instant.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- queues -------------------------------------------------------------------------------------


def _agent_counts(agents: Iterable[Agent]) -> dict[str, int]:
    counts = {"logged_in": 0, **dict.fromkeys(_QUEUE_AGENT_STATES, 0)}
    for agent in agents:
        if agent.state is not AgentState.LOGGED_OUT:
            counts["logged_in"] += 1
            counts[str(agent.state)] += 1
    return counts


def _waiting(calls: Iterable[Call]) -> tuple[int, str | None]:
    waiting = [c.joined_at for c in calls if c.is_waiting]
    return len(waiting), iso(min(waiting)) if waiting else None


def _windows(board: Board, calls: Iterable[Call], now: datetime, formula: Any) -> dict[str, Any]:
    counts: dict[str, Counts] = window_counts(
        calls, now=now, day_start=board.day_start, threshold_of=lambda q: board.queue(q).sl_threshold_s,
        short_abandon_s=board.config.short_abandon_s)
    return {name: summary(c, formula) for name, c in counts.items()}


def queue_tile(board: Board, code: str, now: datetime) -> dict[str, Any]:
    queue = board.queue(code)
    calls = list(board.by_queue.get(code, {}).values())
    waiting, oldest = _waiting(calls)
    members = [a for a in board.agents.values() if code in a.queues]
    return {
        "code": code, "name": queue.name, "line": queue.line,
        "sl": {"threshold_s": queue.sl_threshold_s, "formula": str(queue.sl_formula),
               "label": sl_label(queue.sl_formula, queue.sl_threshold_s)},
        "waiting": waiting, "oldest_joined_at": oldest, "agents": _agent_counts(members),
        "windows": _windows(board, calls, now, queue.sl_formula),
    }


def totals_tile(board: Board, now: datetime) -> dict[str, Any]:
    calls = list(board.calls.values())
    waiting, oldest = _waiting(calls)
    formula = board.config.default_formula
    return {
        "sl": {"formula": str(formula), "label": sl_label(formula)},
        "waiting": waiting, "oldest_joined_at": oldest, "agents": _agent_counts(board.agents.values()),
        "windows": _windows(board, calls, now, formula),
    }


def queues_channel(board: Board, now: datetime) -> dict[str, Any]:
    return {"day_start": iso(board.day_start),
            "queues": {code: queue_tile(board, code, now) for code in board.queue_codes()},
            "totals": totals_tile(board, now)}


# --- agents -------------------------------------------------------------------------------------


def _calls_today(board: Board, agent_id: int) -> list[Call]:
    return [c for c in board.by_agent.get(agent_id, {}).values() if c.joined_at >= board.day_start]


def agent_card(board: Board, agent: Agent) -> dict[str, Any]:
    call = board.calls.get(agent.call_id) if agent.call_id else None
    return {
        "id": agent.id, "interface": agent.interface, "name": agent.name, "user_id": agent.user_id,
        "state": str(agent.state),
        "reason": agent.reason if agent.state is AgentState.PAUSED else None, "since": iso(agent.since),
        "queues": list(agent.queues),
        "calls_today": len(_calls_today(board, agent.id)),
        "call": None if agent.call_id is None else {
            "call_id": agent.call_id, "queue": call.queue if call else None, "caller": call.caller if call else None,
            "since": iso(agent.since)},
    }


def agent_totals(board: Board) -> dict[str, int]:
    counts = dict.fromkeys(AGENT_STATES, 0)
    for agent in board.agents.values():
        counts[str(agent.state)] += 1
    return counts


def paused_by_reason(board: Board) -> dict[str, int]:
    counts: dict[str, int] = {}
    for agent in board.agents.values():
        if agent.state is AgentState.PAUSED:
            counts[agent.reason or ""] = counts.get(agent.reason or "", 0) + 1
    return dict(sorted(counts.items()))


def agents_channel(board: Board) -> dict[str, Any]:
    return {"agents": {str(a.id): agent_card(board, a) for a in board.agents.values()},
            "totals": agent_totals(board), "paused_by_reason": paused_by_reason(board)}


# --- one queue, one user -------------------------------------------------------------------------


def waiting_entry(call: Call) -> dict[str, Any]:
    return {"call_id": call.call_id, "caller": call.caller, "joined_at": iso(call.joined_at),
            "ringing": [str(a) for a in call.ringing]}


def queue_channel(board: Board, code: str, now: datetime) -> dict[str, Any]:
    calls = board.by_queue.get(code, {}).values()
    return {"queue": queue_tile(board, code, now),
            "waiting": {c.call_id: waiting_entry(c) for c in calls if c.is_waiting},
            "members": {str(a.id): agent_card(board, a) for a in board.agents.values() if code in a.queues}}


def call_row(call: Call) -> dict[str, Any]:
    return {"call_id": call.call_id, "queue": call.queue, "caller": call.caller, "joined_at": iso(call.joined_at),
            "answered_at": iso(call.answered_at), "ended_at": iso(call.ended_at),
            "wait_s": _round(call.wait_s), "talk_s": _round(call.talk_s), "wrap_s": _round(call.wrap_s),
            "outcome": "answered", "state": str(call.state)}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _user_calls(board: Board, user_id: int) -> list[Call]:
    return [c for a in board.agents_of_user(user_id) for c in _calls_today(board, a.id)]


def user_totals(board: Board, user_id: int) -> dict[str, Any]:
    calls = _user_calls(board, user_id)
    talk = sum(c.talk_s or 0.0 for c in calls)
    handled = [c for c in calls if c.state is CallState.HANDLED and c.talk_s is not None]
    aht = sum((c.talk_s or 0.0) + (c.wrap_s or 0.0) for c in handled) / len(handled) if handled else None
    return {"calls_today": len(calls), "talk_s": round(talk, 1), "aht_s": _round(aht)}


def user_channel(board: Board, user_id: int) -> dict[str, Any]:
    return {"user_id": user_id,
            "agents": {str(a.id): agent_card(board, a) for a in board.agents_of_user(user_id)},
            "calls": {c.call_id: call_row(c) for c in _user_calls(board, user_id)},
            "totals": user_totals(board, user_id)}


# --- snapshots, values at paths, paths touched ---------------------------------------------------


def snapshot(board: Board, kind: str, arg: Any, now: datetime) -> dict[str, Any]:
    if kind == "queues":
        return queues_channel(board, now)
    if kind == "agents":
        return agents_channel(board)
    if kind == "queue":
        return queue_channel(board, arg, now)
    if kind == "agent":
        return user_channel(board, arg)
    raise KeyError(kind)


def value_at(board: Board, kind: str, arg: Any, path: Path, now: datetime) -> Any:
    """The value a fresh snapshot of the channel holds at ``path`` (``MISSING`` if none)."""
    head, rest = path[0], path[1:]
    if kind == "queues":
        if head == "day_start":
            return iso(board.day_start)
        if head == "totals":
            return totals_tile(board, now)
        return queue_tile(board, rest[0], now) if rest[0] in board.queue_codes() else MISSING
    if kind == "agents":
        if head == "totals":
            return agent_totals(board)
        if head == "paused_by_reason":
            return paused_by_reason(board)
        agent = board.agents.get(int(rest[0]))
        return agent_card(board, agent) if agent is not None else MISSING
    if kind == "queue":
        if head == "queue":
            return queue_tile(board, arg, now)
        if head == "waiting":
            call = board.calls.get(rest[0])
            return waiting_entry(call) if call is not None and call.is_waiting and call.queue == arg else MISSING
        agent = board.agents.get(int(rest[0]))
        return agent_card(board, agent) if agent is not None and arg in agent.queues else MISSING
    if kind == "agent":
        if head == "totals":
            return user_totals(board, arg)
        if head == "agents":
            agent = board.agents.get(int(rest[0]))
            return agent_card(board, agent) if agent is not None and agent.user_id == arg else MISSING
        call = board.calls.get(rest[0])
        mine = {a.id for a in board.agents_of_user(arg)}
        if call is None or call.agent_id not in mine or call.answered_at is None or call.joined_at < board.day_start:
            return MISSING
        return call_row(call)
    raise KeyError(kind)


def touched(board: Board, change: Change, kind: str, arg: Any) -> set[Path] | None:
    """The paths of a channel a change may have altered; None means "recompute everything"."""
    if change.everything:
        return None
    if kind == "queues":
        paths: set[Path] = {("queues", q) for q in change.queues}
        return paths | {("totals",)} if paths or change.agents else paths
    if kind == "agents":
        paths = {("agents", str(a)) for a in change.agents}
        return paths | {("totals",), ("paused_by_reason",)} if paths else paths
    if kind == "queue":
        if arg not in change.queues:
            return set()
        return ({("queue",)} | {("waiting", c) for c in change.calls}
                | {("members", str(a)) for a in change.agents})
    if kind == "agent":
        if arg not in change.users:
            return set()
        return ({("totals",)} | {("calls", c) for c in change.calls} | {("agents", str(a)) for a in change.agents})
    raise KeyError(kind)
