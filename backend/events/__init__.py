"""Every event that leaves a service, declared in this package: typed, past tense, no undeclared
fields. One module per aggregate. The outbox stores events as JSON; the hub and the workers read
them back through ``parse_event``."""

from __future__ import annotations

from types import ModuleType
from typing import Annotated, Any, Union

from pydantic import Field, TypeAdapter

from backend.events import mobile, sla, telephony, work_orders
from backend.events.base import Event, WorkOrderEvent
from backend.events.mobile import *  # noqa: F403
from backend.events.sla import *  # noqa: F403
from backend.events.telephony import *  # noqa: F403
from backend.events.work_orders import *  # noqa: F403 - the event classes are this package's API

_MODULES: list[ModuleType] = [work_orders, mobile, sla, telephony]


def _concrete(module: ModuleType) -> list[type[Event]]:
    return [cls for cls in vars(module).values()
            if isinstance(cls, type) and issubclass(cls, Event) and cls.__module__ == module.__name__
            and isinstance(cls.model_fields["type"].default, str)]


ALL_EVENTS: tuple[type[Event], ...] = tuple(cls for module in _MODULES for cls in _concrete(module))
AnyEvent = Annotated[Union[ALL_EVENTS], Field(discriminator="type")]  # noqa: UP007 - built at runtime
_adapter: TypeAdapter[Any] = TypeAdapter(AnyEvent)


def parse_event(data: dict[str, Any]) -> Event:
    return _adapter.validate_python(data)


def event_types() -> list[str]:
    return [cls.model_fields["type"].default for cls in ALL_EVENTS]


__all__ = ["ALL_EVENTS", "AnyEvent", "Event", "WorkOrderEvent", "event_types", "parse_event"]
