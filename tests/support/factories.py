"""Small reference data for service and API tests: two regions, providers, engineers, a manager,
console users, a customer with a site per zone and equipment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from backend.auth.passwords import hash_password
from backend.domain.actors import Principal, Role
from backend.persistence.tables import Customer, Equipment, Provider, Region, Site, User

PASSWORD = "correct horse battery"
_HASH = hash_password(PASSWORD)


@dataclass
class Ref:
    region: int
    other_region: int
    provider: int
    other_provider: int
    eng_a: Principal
    eng_b: Principal
    eng_c: Principal  # other region / provider
    manager: Principal
    other_manager: Principal
    agent: Principal
    supervisor: Principal
    wallboard: Principal
    customer: int
    site: int  # city zone, region
    remote_site: int
    equipment: int
    old_equipment: int  # out of warranty
    customer_phone: str


async def _user(session: AsyncSession, username: str, role: Role, now: datetime, region: int | None = None,
                provider: int | None = None, skills: list[str] | None = None) -> Principal:
    user = User(username=username, display_name=username.title(), role=role, password_hash=_HASH,
                region_id=region, provider_id=provider, skills=skills or [], created_at=now)
    session.add(user)
    await session.flush()
    return Principal(user_id=user.id, role=role, username=username, region_id=region, provider_id=provider)


async def seed(session: AsyncSession, now: datetime, suffix: str = "") -> Ref:
    east, west = Region(code=f"east{suffix}", name="East"), Region(code=f"west{suffix}", name="West")
    session.add_all([east, west])
    await session.flush()
    assert east.id and west.id
    p1, p2 = Provider(name="Pudong", region_id=east.id), Provider(name="Chengdu", region_id=west.id)
    session.add_all([p1, p2])
    await session.flush()
    assert p1.id and p2.id
    phone = f"1380000{abs(hash(suffix)) % 10000:04d}"
    customer = Customer(name="Acme Construction", phone=phone, created_at=now)
    session.add(customer)
    await session.flush()
    assert customer.id
    site = Site(customer_id=customer.id, name="Yard", zone="city", region_id=east.id, latitude=31.2,
                longitude=121.5)
    remote = Site(customer_id=customer.id, name="Quarry", zone="remote", region_id=east.id)
    session.add_all([site, remote])
    await session.flush()
    assert site.id and remote.id
    eq = Equipment(serial_number=f"SY215C-{suffix}001", model="SY215C", customer_id=customer.id, site_id=site.id,
                   warranty_end=date(2099, 1, 1), running_hours=1200)
    old = Equipment(serial_number=f"SY75C-{suffix}002", model="SY75C", customer_id=customer.id, site_id=site.id,
                    warranty_end=date(2001, 1, 1), running_hours=9000)
    session.add_all([eq, old])
    await session.flush()
    assert eq.id and old.id
    return Ref(
        region=east.id, other_region=west.id, provider=p1.id, other_provider=p2.id,
        eng_a=await _user(session, f"eng-a{suffix}", Role.ENGINEER, now, east.id, p1.id, ["excavator"]),
        eng_b=await _user(session, f"eng-b{suffix}", Role.ENGINEER, now, east.id, p1.id, ["crane"]),
        eng_c=await _user(session, f"eng-c{suffix}", Role.ENGINEER, now, west.id, p2.id, ["excavator"]),
        manager=await _user(session, f"mgr-east{suffix}", Role.SERVICE_MANAGER, now, east.id),
        other_manager=await _user(session, f"mgr-west{suffix}", Role.SERVICE_MANAGER, now, west.id),
        agent=await _user(session, f"agent{suffix}", Role.AGENT, now),
        supervisor=await _user(session, f"super{suffix}", Role.SUPERVISOR, now),
        wallboard=await _user(session, f"wall{suffix}", Role.WALLBOARD, now),
        customer=customer.id, site=site.id, remote_site=remote.id, equipment=eq.id, old_equipment=old.id,
        customer_phone=phone,
    )
