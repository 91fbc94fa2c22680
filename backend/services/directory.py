"""Read-side use cases for the console: screen pop by caller number and engineer suggestions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backend.domain.actors import Principal
from backend.domain.dispatch import Candidate, Suggestion, rank, required_skill
from backend.domain.work_orders.model import OPEN_STATES
from backend.persistence.repositories import directory as repo
from backend.persistence.repositories import work_orders as orders
from backend.services.uow import UnitOfWork
from backend.services.work_orders import get_visible


@dataclass
class ScreenPop:
    phone: str
    customers: list[dict[str, Any]] = field(default_factory=list)


def _phone(raw: str) -> str:
    return "".join(ch for ch in raw if ch.isdigit() or ch == "+")


async def screen_pop(uow: UnitOfWork, phone: str) -> ScreenPop:
    """Who is calling: customers with this number, their sites, equipment, open orders, and the
    agent who served them last (so the call can go back to them)."""
    session, number = uow.session, _phone(phone)
    pop = ScreenPop(phone=number)
    if not number:
        return pop
    for customer in await repo.customers_by_phone(session, number):
        assert customer.id is not None
        last = await repo.last_served_by(session, customer.id)
        pop.customers.append({
            "customer": customer.model_dump(include={"id", "name", "contact_name", "phone"}),
            "sites": [s.model_dump(include={"id", "name", "address", "zone", "region_id", "latitude", "longitude"})
                      for s in await repo.sites_of(session, customer.id)],
            "equipment": [e.model_dump(include={"id", "serial_number", "model", "site_id", "warranty_end",
                                                "running_hours"})
                          for e in await repo.equipment_of(session, customer.id)],
            "open_orders": [{"id": o.id, "number": o.number, "kind": o.kind, "state": o.state}
                            for o in await repo.open_orders_of(session, customer.id, [str(s) for s in OPEN_STATES])],
            "last_agent": {"id": last.id, "name": last.display_name} if last else None,
        })
    return pop


async def suggest_engineers(uow: UnitOfWork, actor: Principal, work_order_id: int) -> list[Suggestion]:
    order = await get_visible(uow, actor, work_order_id)
    equipment = await orders.equipment(uow.session, order.equipment_id)
    candidates = [
        Candidate(engineer_id=u.id or 0, name=u.display_name, region_id=u.region_id, provider_id=u.provider_id,
                  skills=tuple(u.skills or ()), load=load)
        for u, load in await repo.engineers_with_load(uow.session)
    ]
    return rank(candidates, order.region_id, required_skill(equipment.model if equipment else None))
