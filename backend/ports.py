"""Interfaces the services need from the outside world; implementations live at the edges
(memory and Redis brokers here in backend, FCM in workers)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from backend.domain.mobile.push import PushMessage, SendResult


@dataclass(frozen=True, slots=True)
class Envelope:
    """One committed event as it travels from the outbox to consumers (who dedupe by event_id)."""

    outbox_id: int
    event_id: str
    type: str
    key: str
    payload: dict[str, Any]
    created_at: datetime


class Broker(Protocol):
    async def publish(self, batch: list[Envelope]) -> None:
        """Hand a batch on, in order. Raising means nothing in the batch counts as delivered."""
        ...


class PushSender(Protocol):
    """Delivers push messages (FCM in ``workers.fcm``): one result per message, never raising for
    a single message's failure."""

    async def send(self, messages: Sequence[PushMessage]) -> list[SendResult]: ...

    async def aclose(self) -> None: ...
