"""The mobile API under test: the app on a fresh database (``tests.support.apptest``) plus helpers
to create and dispatch orders through the services and to call the phone's endpoints."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from backend.domain.actors import Principal
from backend.domain.work_orders import WorkOrder
from backend.domain.work_orders import commands as c
from backend.domain.work_orders.creation import NewWorkOrder
from backend.persistence.tables import Site
from backend.services import work_orders as svc
from tests.support.apptest import AppHarness
from tests.support.factories import Ref

API = "/api/mobile/v1"


def key() -> str:
    return str(uuid.uuid4())


def report(arrived: datetime, hours: float = 1300.0) -> dict[str, Any]:
    return {"arrival_time": arrived.isoformat(), "completion_time": (arrived + timedelta(hours=1)).isoformat(),
            "fault_description": "hydraulic leak", "faulty_part": "main pump seal",
            "repair_method": "replaced the seal", "running_hours": hours, "customer_opinion": "good"}


@dataclass
class MobileHarness(AppHarness):
    ref: Ref | None = None

    @property
    def r(self) -> Ref:
        if self.ref is None:
            self.ref = self.seed()
        return self.ref

    def west_site(self) -> int:
        """A site of the customer in the other region (the seed's sites are all in the first)."""
        ref = self.r

        async def add(session: Any) -> int:
            site = Site(customer_id=ref.customer, name="Chengdu yard", zone="suburb", region_id=ref.other_region,
                        latitude=30.66, longitude=104.06)
            session.add(site)
            await session.commit()
            assert site.id is not None
            return site.id

        return self.run(add)

    def new_order(self, *, engineer: Principal | None = None, provider: int | None = None,
                  site: int | None = None, kind: str = "repair") -> WorkOrder:
        """A repair order created at the console and dispatched to an engineer or a provider."""
        ref = self.r

        async def make(uow: Any) -> WorkOrder:
            spec = NewWorkOrder(kind=kind, description="hydraulic pump leaking", customer_id=ref.customer,
                                site_id=site or ref.site, equipment_id=ref.equipment if site is None else None)
            order = await svc.create_work_order(uow, ref.agent, spec)
            if engineer is not None or provider is not None:
                command = c.Dispatch(engineer_id=engineer.user_id if engineer else None, provider_id=provider)
                order = await svc.act(uow, ref.agent, order.id, command)
            return order

        return self.run_uow(make)

    def console(self, order_id: int, command: c.Command) -> WorkOrder:
        return self.act(self.r.agent, order_id, command)

    def post(self, path: str, body: Any = None, *, who: Principal | None = None, idem: str | None = "new",
             headers: dict[str, str] | None = None) -> httpx.Response:
        hdrs = dict(self.bearer(who or self.r.eng_a))
        if idem is not None:
            hdrs["Idempotency-Key"] = key() if idem == "new" else idem
        hdrs.update(headers or {})
        return self.client.post(API + path, json={} if body is None else body, headers=hdrs)

    def get(self, path: str, *, who: Principal | None = None, headers: dict[str, str] | None = None,
            params: dict[str, Any] | None = None) -> httpx.Response:
        hdrs = {**self.bearer(who or self.r.eng_a), **(headers or {})}
        return self.client.get(API + path, headers=hdrs, params=params)

    def do(self, order_id: int, action: str, body: dict[str, Any] | None = None, **kw: Any) -> httpx.Response:
        return self.post(f"/work-orders/{order_id}/{action}", body, **kw)

    def walk_to_site(self, order_id: int, who: Principal | None = None) -> None:
        """Acknowledge, contact, depart, arrive: the order ends on site."""
        appointment = (self.clock.now() + timedelta(hours=2)).isoformat()
        for action, body in [("acknowledge", {}), ("contact", {"appointment_at": appointment}), ("depart", {}),
                             ("arrive", {"position": {"lat": 31.2, "lon": 121.5, "accuracy_m": 10}})]:
            response = self.do(order_id, action, body, who=who)
            assert response.status_code == 200, response.text
