"""The one way tests wait: poll a predicate against a deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def wait_until(predicate: Callable[[], Awaitable[T] | T], timeout: float = 5.0,
                     interval: float = 0.01, message: str = "condition") -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result) or isinstance(result, Awaitable):
            result = await result
        if result:
            return result  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise TimeoutError(f"{message} not reached within {timeout}s")
        await asyncio.sleep(interval)
