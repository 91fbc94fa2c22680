"""In-process broker for embedded mode: published envelopes go to local subscribers, in order."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from backend.ports import Envelope

Subscriber = Callable[[list[Envelope]], Awaitable[None]]


class MemoryBroker:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    async def publish(self, batch: list[Envelope]) -> None:
        for subscriber in list(self._subscribers):
            await subscriber(batch)
