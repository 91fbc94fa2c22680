"""The policy table: defaults from ``rules.SPECS`` with overrides per rule, kind and zone (rows of the
``sla_policy`` table, edited at the console). The most specific entry wins, field by field:
(kind, zone) over (kind, *) over (*, zone) over (*, *) over the rule's defaults."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from datetime import timedelta

from backend import errors
from backend.domain.sla.rules import (
    FOLLOW_UP_PERCENT,
    SAMPLE_RANGE,
    SAMPLED_KINDS,
    SPECS,
    ZONE_RESPONSE,
    Rule,
    RuleSpec,
    TimeBasis,
)
from backend.domain.work_orders.model import FOLLOW_UP_KINDS, Kind

ANY = "*"
FOLLOW_UP = "follow_up"  # not a deadline: the share of completed orders that get a follow-up call
ZONES = frozenset(ZONE_RESPONSE)
MAX_DURATION = timedelta(days=30)
DEFAULT_WARNING = timedelta(minutes=10)
DEFAULT_WARNING_SHARE = 0.2  # warn at most 20 % of a deadline's duration before it


@dataclass(frozen=True, slots=True)
class PolicyEntry:
    """One row of the policy table; ``None`` fields inherit from the less specific entries."""

    rule: str
    kind: str = ANY
    zone: str = ANY
    seconds: int | None = None
    warn_seconds: int | None = None
    basis: str | None = None
    enabled: bool | None = None
    percent: int | None = None  # follow_up only

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.rule, self.kind, self.zone)


@dataclass(frozen=True, slots=True)
class Policy:
    """A rule as it applies to one kind and zone."""

    spec: RuleSpec
    enabled: bool
    duration: timedelta
    warning: timedelta
    basis: TimeBasis

    @property
    def rule(self) -> Rule:
        return self.spec.rule


def default_warning(duration: timedelta) -> timedelta:
    return min(DEFAULT_WARNING, duration * DEFAULT_WARNING_SHARE)


DEFAULT_ENTRIES: tuple[PolicyEntry, ...] = (
    *(PolicyEntry(Rule.RESPONSE, zone=zone, seconds=int(d.total_seconds())) for zone, d in ZONE_RESPONSE.items()),
    *(PolicyEntry(FOLLOW_UP, kind=kind, percent=pct) for kind, pct in FOLLOW_UP_PERCENT.items()),
)

_MERGED = [f.name for f in fields(PolicyEntry) if f.name not in ("rule", "kind", "zone")]


def _merge(base: PolicyEntry, top: PolicyEntry) -> PolicyEntry:
    return replace(base, **{n: getattr(top, n) for n in _MERGED if getattr(top, n) is not None})


class PolicyTable:
    def __init__(self, overrides: Iterable[PolicyEntry] = ()) -> None:
        self.entries: dict[tuple[str, str, str], PolicyEntry] = {}
        for entry in (*DEFAULT_ENTRIES, *overrides):
            current = self.entries.get(entry.key)
            self.entries[entry.key] = _merge(current, entry) if current else entry

    def _layers(self, rule: str, kind: str | None, zone: str | None) -> list[PolicyEntry]:
        keys = [(rule, ANY, ANY), (rule, ANY, zone or ANY), (rule, kind or ANY, ANY), (rule, kind or ANY, zone or ANY)]
        seen: list[tuple[str, str, str]] = []
        for key in keys:
            if key not in seen:
                seen.append(key)
        return [self.entries[k] for k in seen if k in self.entries]

    def resolve(self, rule: Rule, kind: str | None, zone: str | None) -> Policy:
        spec = SPECS[rule]
        merged = PolicyEntry(str(rule))
        for layer in self._layers(str(rule), kind, zone):
            merged = _merge(merged, layer)
        duration = timedelta(seconds=merged.seconds) if merged.seconds is not None else spec.duration
        warning = (timedelta(seconds=merged.warn_seconds) if merged.warn_seconds is not None
                   else default_warning(duration))
        enabled = merged.enabled if merged.enabled is not None else (kind in spec.kinds)
        basis = TimeBasis(merged.basis) if merged.basis is not None else spec.basis
        return Policy(spec=spec, enabled=enabled, duration=duration, warning=min(warning, duration), basis=basis)

    def follow_up_percent(self, kind: str) -> int:
        merged = PolicyEntry(FOLLOW_UP)
        for layer in self._layers(FOLLOW_UP, kind, None):
            merged = _merge(merged, layer)
        return merged.percent or 0


def validate_entry(entry: PolicyEntry) -> PolicyEntry:
    """Refuse an override the rules cannot honour, with a stable code."""
    if entry.kind != ANY and entry.kind not in {k.value for k in Kind}:
        raise errors.ValidationFailed("sla-kind-unknown", f"unknown kind {entry.kind!r}",
                                      allowed=[k.value for k in Kind])
    if entry.zone != ANY and entry.zone not in ZONES:
        raise errors.ValidationFailed("sla-zone-unknown", f"unknown zone {entry.zone!r}", allowed=sorted(ZONES))
    if entry.rule == FOLLOW_UP:
        return _validate_follow_up(entry)
    if entry.rule not in {r.value for r in Rule}:
        raise errors.ValidationFailed("sla-rule-unknown", f"unknown rule {entry.rule!r}",
                                      allowed=[*(r.value for r in Rule), FOLLOW_UP])
    if entry.percent is not None:
        raise errors.ValidationFailed("sla-field-misplaced", "percent is for the follow_up rule only")
    if entry.seconds is not None and not 0 < entry.seconds <= MAX_DURATION.total_seconds():
        raise errors.ValidationFailed("sla-duration-invalid", "a duration is 1 s to 30 days",
                                      seconds=entry.seconds)
    if entry.warn_seconds is not None and entry.warn_seconds < 0:
        raise errors.ValidationFailed("sla-warning-invalid", "the warning margin cannot be negative")
    if entry.basis is not None and entry.basis not in {b.value for b in TimeBasis}:
        raise errors.ValidationFailed("sla-basis-invalid", f"unknown time basis {entry.basis!r}",
                                      allowed=[b.value for b in TimeBasis])
    return entry


def _validate_follow_up(entry: PolicyEntry) -> PolicyEntry:
    if entry.zone != ANY or entry.kind == ANY or entry.percent is None:
        raise errors.ValidationFailed("follow-up-policy-invalid", "a follow-up policy names a kind and a percent")
    if any(getattr(entry, n) is not None for n in ("seconds", "warn_seconds", "basis", "enabled")):
        raise errors.ValidationFailed("sla-field-misplaced", "a follow-up policy has a percent only")
    if entry.kind in FOLLOW_UP_KINDS:
        if entry.percent != 100:
            raise errors.ValidationFailed("follow-up-percent-fixed", "every completed repair gets a follow-up call")
    elif entry.kind in SAMPLED_KINDS:
        low, high = SAMPLE_RANGE
        if not low <= entry.percent <= high:
            raise errors.ValidationFailed("follow-up-percent-invalid", f"installations are sampled {low}-{high} %",
                                          percent=entry.percent)
    elif not 0 <= entry.percent <= 100:
        raise errors.ValidationFailed("follow-up-percent-invalid", "a percentage is 0 to 100", percent=entry.percent)
    return entry
