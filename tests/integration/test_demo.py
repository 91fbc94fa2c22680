"""Demo data: loads on both backends, once only, covers every role, region and zone; the CLI seeds."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from backend.auth.passwords import verify_password
from backend.clock import FrozenClock
from backend.demo import DEMO_LOGINS, load_demo_data
from backend.domain.actors import Role
from backend.persistence.db import create_engine
from backend.persistence.tables import CallQueue, Customer, Equipment, Provider, Region, Site, User
from backend.services.uow import UnitOfWork
from fieldline.cli import main

TODAY = date(2025, 3, 10)
TABLES = [Region, Provider, User, Customer, Site, Equipment, CallQueue]


@pytest.fixture
async def demo(session: AsyncSession) -> AsyncSession:
    uow = UnitOfWork(session, FrozenClock(datetime(2025, 3, 10, 1, 30, tzinfo=UTC)))
    assert await load_demo_data(uow, today=TODAY) is True
    await uow.commit()
    return session


async def _counts(session: AsyncSession) -> dict[str, int]:
    return {t.__name__: (await session.exec(select(func.count()).select_from(t))).one() for t in TABLES}


async def test_loads_once(demo: AsyncSession) -> None:
    before = await _counts(demo)
    assert before["Region"] == 2 and before["Customer"] >= 10 and before["Equipment"] >= 15
    assert await load_demo_data(UnitOfWork(demo, FrozenClock(datetime.now(UTC))), today=TODAY) is False
    assert await _counts(demo) == before


async def test_every_role_and_zone_appears(demo: AsyncSession) -> None:
    roles = set((await demo.exec(select(User.role))).all())
    assert roles == {str(r) for r in Role if r is not Role.SYSTEM}
    zones = set((await demo.exec(select(Site.zone))).all())
    assert zones == {"city", "suburb", "remote"}
    for customer in (await demo.exec(select(Customer))).all():
        sites = (await demo.exec(select(Site).where(Site.customer_id == customer.id))).all()
        assert 1 <= len(sites) <= 2 and customer.phone


async def test_each_region_is_staffed(demo: AsyncSession) -> None:
    for region in (await demo.exec(select(Region))).all():
        providers = (await demo.exec(select(Provider).where(Provider.region_id == region.id))).all()
        assert len(providers) == 1
        users = (await demo.exec(select(User).where(User.region_id == region.id))).all()
        engineers = [u for u in users if u.role == Role.ENGINEER]
        assert len(engineers) == 3
        assert all(e.provider_id == providers[0].id and e.skills and e.phone for e in engineers)
        assert any(u.role == Role.SERVICE_MANAGER for u in users)
        sites = (await demo.exec(select(Site).where(Site.region_id == region.id))).all()
        assert sites and all(s.latitude is not None and s.longitude is not None for s in sites)


async def test_equipment_and_queues(demo: AsyncSession) -> None:
    equipment = (await demo.exec(select(Equipment))).all()
    assert any(e.warranty_end < TODAY for e in equipment), "some equipment must be out of warranty"
    assert any(e.warranty_end >= TODAY for e in equipment)
    for e in equipment:
        site = await demo.get(Site, e.site_id)
        assert site is not None and site.customer_id == e.customer_id
    queues = (await demo.exec(select(CallQueue))).all()
    assert {q.line for q in queues} == {"fault", "consultation"}
    assert all(q.sl_threshold_s == 20 and q.sl_formula == "answered_within_over_offered" for q in queues)


async def test_every_demo_login_verifies(demo: AsyncSession) -> None:
    users = {u.username: u for u in (await demo.exec(select(User))).all()}
    assert set(users) == {username for _, username, _ in DEMO_LOGINS}
    for role, username, password in DEMO_LOGINS:
        assert users[username].role == role
        assert verify_password(users[username].password_hash, password), username


@pytest.fixture
def _restore_logging(monkeypatch: pytest.MonkeyPatch) -> None:
    """``main`` configures logging for the process; give the loggers back afterwards."""
    for logger in (logging.getLogger(), logging.getLogger("uvicorn"), logging.getLogger("uvicorn.error"),
                   logging.getLogger("uvicorn.access")):
        for attr in ("handlers", "level", "propagate", "disabled"):
            value = getattr(logger, attr)
            monkeypatch.setattr(logger, attr, list(value) if attr == "handlers" else value)


@pytest.mark.usefixtures("_restore_logging")
def test_cli_migrate_then_seed(tmp_path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("FIELDLINE_DATABASE_URL", url)
    monkeypatch.setenv("FIELDLINE_LOG_JSON", "false")
    assert main(["migrate"]) == 0
    assert main(["seed"]) == 0
    assert main(["seed"]) == 0
    out = capsys.readouterr().out
    assert "Demo data loaded." in out and "Demo data skipped" in out

    async def usernames() -> set[str]:
        engine = create_engine(url)
        try:
            async with AsyncSession(engine) as session:
                return set((await session.exec(select(User.username))).all())
        finally:
            await engine.dispose()

    assert asyncio.run(usernames()) == {username for _, username, _ in DEMO_LOGINS}
