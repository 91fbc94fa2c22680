"""Push notifications as data: what each kind says, its collapse key, priority and lifetime, the
4096-byte payload cap, how a send outcome is classified, and the retry backoff. The FCM adapter
(workers/fcm.py) turns a ``PushMessage`` into the SDK's objects."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

MAX_PAYLOAD_BYTES = 4096
DEFAULT_TTL_S = 24 * 3600
EXPIRE_AFTER_S = 24 * 3600  # a push still unsent a day after the change is dropped
MIN_TTL_S = 60
RETRY_BASE_S = 2.0
RETRY_CAP_S = 3600.0
REMINDER_LEAD = timedelta(minutes=60)  # an appointment reminder goes out this long before the visit


class PushKind(StrEnum):
    DISPATCH = "dispatch"  # a new order for you (or your provider)
    REASSIGNED = "reassigned"  # an order of yours went to someone else
    CANCELLED = "cancelled"
    URGE = "urge"
    ESCALATION = "escalation"  # produced by the SLA timers
    APPOINTMENT_REMINDER = "appointment_reminder"  # scheduled when the appointment is set or moved


class PushState(StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    SENDING = "sending"  # claimed by a sender: never claimed twice
    SENT = "sent"
    FAILED = "failed"  # permanent error or out of attempts
    TOKEN_INVALID = "token_invalid"  # FCM said the token is gone; the device was deactivated
    NO_DEVICE = "no_device"  # recorded for the user, who has no active device
    EXPIRED = "expired"  # not sent within a day (push off, FCM down): too late to matter
    UNKNOWN = "unknown"  # a sender died mid-send: not resent (at most once per token)
    OBSOLETE = "obsolete"  # a reminder whose appointment no longer stands: dropped, never sent


class Outcome(StrEnum):
    SENT = "sent"
    INVALID_TOKEN = "invalid_token"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class PushMessage:
    notification_id: int  # the push_notification row: the dedupe key of one send to one token
    token: str
    title: str
    body: str
    data: dict[str, str]
    collapse_key: str
    ttl_s: int
    high_priority: bool = True


@dataclass(frozen=True, slots=True)
class SendResult:
    notification_id: int
    outcome: Outcome
    message_id: str | None = None
    error_code: str | None = None
    retry_after_s: float | None = None


@dataclass(frozen=True, slots=True)
class Content:
    title: str
    body: str
    data: dict[str, str] = field(default_factory=dict)
    collapse_key: str = ""
    ttl_s: int = DEFAULT_TTL_S
    high_priority: bool = True


_TEXT: dict[PushKind, tuple[str, str]] = {
    PushKind.DISPATCH: ("New work order {number}", "{description} — acknowledge within 3 minutes"),
    PushKind.REASSIGNED: ("Work order {number} reassigned", "It is no longer yours: {description}"),
    PushKind.CANCELLED: ("Work order {number} cancelled", "{description}"),
    PushKind.URGE: ("Urged: {number}", "The call center urged this order. {description}"),
    PushKind.ESCALATION: ("Escalated: {number}", "{description}"),
    PushKind.APPOINTMENT_REMINDER: ("Appointment: {number} at {appointment}", "{description}"),
}


def content(kind: PushKind, *, work_order_id: int, number: str, state: str, description: str,
            ttl_s: int = DEFAULT_TTL_S, extra: dict[str, str] | None = None) -> Content:
    """Title, body and data of a push; ``data`` values are strings as FCM requires."""
    appointment = _hhmm(extra.get("appointment_at")) if extra else ""
    title, body = (t.format(number=number, description=description.strip() or "—", appointment=appointment)
                   for t in _TEXT[kind])
    data = {"type": str(kind), "work_order_id": str(work_order_id), "number": number, "state": state,
            **(extra or {})}
    title, body = fit(title, body, data)
    return Content(title=title, body=body, data=data, collapse_key=f"work_order:{work_order_id}",
                   ttl_s=ttl_s, high_priority=kind is not PushKind.APPOINTMENT_REMINDER)


def _hhmm(iso: str | None) -> str:
    """"2026-03-02 10:00 UTC" from an ISO timestamp (the phone localises ``data.appointment_at``)."""
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def payload_size(title: str, body: str, data: dict[str, str]) -> int:
    """Bytes FCM counts for the payload (keys and values of notification and data)."""
    return len(json.dumps({"notification": {"title": title, "body": body}, "data": data},
                          ensure_ascii=False, separators=(",", ":")).encode())


def fit(title: str, body: str, data: dict[str, str], limit: int = MAX_PAYLOAD_BYTES) -> tuple[str, str]:
    """Shortens the body (then the title) with an ellipsis so the payload stays within ``limit``."""
    if payload_size(title, body, data) <= limit:
        return title, body
    body = _longest_prefix(body, lambda b: payload_size(title, b, data) <= limit)
    if payload_size(title, body, data) > limit:
        title = _longest_prefix(title, lambda t: payload_size(t, body, data) <= limit)
    if payload_size(title, body, data) > limit:
        raise ValueError("push data alone exceeds the FCM payload limit")
    return title, body


def _longest_prefix(text: str, fits: Callable[[str], bool]) -> str:
    """The longest ``text[:n] + "…"`` that fits (or "" when none does), by bisection."""
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(text[:mid] + "…"):
            lo = mid
        else:
            hi = mid - 1
    return text[:lo] + "…" if lo and fits(text[:lo] + "…") else ""


def retry_delay_s(attempt: int, retry_after_s: float | None = None, jitter: float = 0.0) -> float:
    """Exponential backoff (2 s, 4 s, 8 s ... capped at 1 h), never sooner than Retry-After.
    ``jitter`` in [0, 1) is supplied by the caller (random in production, fixed in tests)."""
    backoff = min(RETRY_CAP_S, RETRY_BASE_S * 2 ** max(0, attempt - 1)) * (1 + jitter)
    return max(backoff, retry_after_s or 0.0)


def ttl_at_send(*, created_age_s: float, ttl_s: int, ack_left_s: float | None) -> int:
    """FCM time-to-live when the push actually leaves: a dispatch lives until its acknowledgement
    deadline, any other push for what is left of its own lifetime (at least a minute)."""
    left = ack_left_s if ack_left_s is not None else ttl_s - created_age_s
    return max(MIN_TTL_S, int(left))


# --- appointment reminders ----------------------------------------------------------------------
# States in which an agreed appointment still stands: the engineer has not set off yet.
APPOINTMENT_STATES = frozenset({"dispatched", "acknowledged", "contacted"})


def reminder_at(appointment_at: datetime, now: datetime, lead: timedelta = REMINDER_LEAD) -> datetime | None:
    """When to remind the engineer of ``appointment_at``; None when the appointment is less than
    ``lead`` away (it was just agreed: no reminder, rather than one at once)."""
    at = appointment_at - lead
    return at if at > now else None


def reminder_stands(*, state: str, engineer_id: int | None, appointment_at: datetime | None,
                    user_id: int, reminder_for: datetime, now: datetime) -> bool:
    """Whether a reminder of the appointment ``reminder_for`` sent to ``user_id`` still stands: the
    order still waits for that engineer's visit at that very time, and the visit lies ahead."""
    return (state in APPOINTMENT_STATES and engineer_id == user_id and appointment_at == reminder_for
            and now < reminder_for)
