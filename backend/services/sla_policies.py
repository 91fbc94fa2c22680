"""The policy table at the console: the rules with their defaults and sources, the overrides in force,
and setting or removing an override (supervisors and admins; audited). Overrides apply to deadlines
opened after the change; open deadlines keep the due time they were given."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from backend import errors
from backend.domain.actors import Principal, Role
from backend.domain.sla.policy import FOLLOW_UP, PolicyEntry, PolicyTable, validate_entry
from backend.domain.sla.rules import SPECS, ZONE_RESPONSE, Rule
from backend.persistence.repositories import sla as repo
from backend.services.uow import UnitOfWork

EDITORS = frozenset({Role.SUPERVISOR, Role.ADMIN})


def _rule_view(rule: Rule, table: PolicyTable) -> dict[str, Any]:
    spec = SPECS[rule]
    base = table.resolve(rule, None, None)
    return {
        "rule": str(rule), "description": spec.description, "source": spec.source,
        "kinds": sorted(str(k) for k in spec.kinds), "opens_on": sorted(spec.opens_on),
        "measured_from": spec.measured_from, "met_by": sorted(spec.met_by), "escalation": str(spec.escalation),
        "notify": sorted(str(n) for n in spec.notify), "default_seconds": int(spec.duration.total_seconds()),
        "seconds": int(base.duration.total_seconds()), "warn_seconds": int(base.warning.total_seconds()),
        "basis": str(base.basis),
        **({"zone_seconds": {z: int(table.resolve(rule, None, z).duration.total_seconds()) for z in ZONE_RESPONSE}}
           if rule is Rule.RESPONSE else {}),
    }


async def describe(uow: UnitOfWork) -> dict[str, Any]:
    overrides = await repo.policy_entries(uow.session)
    table = PolicyTable(overrides)
    return {
        "rules": [_rule_view(rule, table) for rule in Rule],
        "follow_up_percent": {kind: table.follow_up_percent(kind)
                              for kind in ("repair", "rescue", "new_fault_mode", "installation", "commissioning")},
        "overrides": [asdict(e) for e in overrides],
    }


def _require_editor(actor: Principal) -> None:
    if actor.role not in EDITORS:
        raise errors.Forbidden("role-not-allowed", "only supervisors and admins change service rules")


async def put_override(uow: UnitOfWork, actor: Principal, entry: PolicyEntry) -> dict[str, Any]:
    _require_editor(actor)
    entry = validate_entry(entry)
    await repo.put_policy(uow.session, entry, uow.now(), actor.user_id)
    uow.audit(actor, "sla.policy_set", "sla_policy", f"{entry.rule}/{entry.kind}/{entry.zone}", **asdict(entry))
    return await describe(uow)


async def delete_override(uow: UnitOfWork, actor: Principal, rule: str, kind: str, zone: str) -> dict[str, Any]:
    _require_editor(actor)
    if not await repo.delete_policy(uow.session, rule, kind, zone):
        raise errors.NotFound("sla-policy-not-found", f"no override for {rule}/{kind}/{zone}")
    uow.audit(actor, "sla.policy_removed", "sla_policy", f"{rule}/{kind}/{zone}")
    return await describe(uow)


__all__ = ["FOLLOW_UP", "delete_override", "describe", "put_override"]
