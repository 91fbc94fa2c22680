"""The service rules (SLA) as pure code: the rule table and its per-kind/zone policy overrides, the
planner that turns work-order events into deadline changes, the firing verdict, follow-up sampling,
the alert reducer and report aggregation. No I/O here; time is always an argument."""

from backend.domain.sla.policy import ANY, FOLLOW_UP, Policy, PolicyEntry, PolicyTable, validate_entry
from backend.domain.sla.rules import SPECS, Escalation, Notify, Rule, RuleSpec, TimeBasis

__all__ = ["ANY", "FOLLOW_UP", "SPECS", "Escalation", "Notify", "Policy", "PolicyEntry", "PolicyTable", "Rule",
           "RuleSpec", "TimeBasis", "validate_entry"]
