"""The service rules as data: each rule's kinds, what opens it, what satisfies it, its default
duration and clock, and what happens on a breach. Defaults come from the source documents
(seeds 000, 002, 004); ``policy.PolicyTable`` layers per-kind and per-zone overrides on top."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from backend.domain.work_orders.model import FAULT_KINDS, FIELD_KINDS, Kind


class Rule(StrEnum):
    ORDER_ENTRY = "order_entry"
    ACKNOWLEDGE = "acknowledge"
    CUSTOMER_CONTACT = "customer_contact"
    STATUS_FEEDBACK = "status_feedback"
    FEEDBACK_URGE = "feedback_urge"
    RESPONSE = "response"
    COMPLAINT_REPLY = "complaint_reply"
    CONSULTATION_HANDOFF = "consultation_handoff"
    CONSULTATION_CALLBACK = "consultation_callback"
    DEPARTMENT_ANSWER = "department_answer"
    RESCUE_NOTICE = "rescue_notice"
    NEW_FAULT_NOTICE = "new_fault_notice"
    NEW_FAULT_APPOINTMENT = "new_fault_appointment"


class TimeBasis(StrEnum):
    WALL = "wall"  # every second counts
    BUSINESS = "business"  # only opening hours on business days count


class Escalation(StrEnum):
    """What a breach sets off, besides the supervisors' alert every breach raises."""

    PHONE_ENGINEER_AND_MANAGER = "phone_engineer_and_manager"  # an agent task; push to both
    URGE = "urge"  # the order is urged automatically (by the system)
    MARK_OVERDUE = "mark_overdue"  # 拖单: the order is overdue, its provider not timely
    ALERT = "alert"  # the supervisors' alert is the whole escalation
    CALL_BACK_TASK = "call_back_task"  # an agent task to call the customer back


class Notify(StrEnum):
    ENGINEER = "engineer"
    MANAGER = "manager"  # the service managers of the order's region


# Engineer progress that counts as a status report to the call center.
PROGRESS = frozenset({"CustomerContacted", "EngineerDeparted", "EngineerArrived", "WorkOrderHeld",
                      "WorkOrderCompleted"})
# Events that end every open deadline of the order.
FINAL_EVENTS = frozenset({"WorkOrderCancelled", "WorkOrderVoided", "WorkOrderClosed"})


@dataclass(frozen=True, slots=True)
class RuleSpec:
    rule: Rule
    kinds: frozenset[Kind]  # where it applies unless a policy entry enables/disables it
    opens_on: frozenset[str]  # event types that open (or restart) the deadline
    measured_from: str  # the start instant: "event" (when it happened), "reported", "scheduled", "call"
    met_by: frozenset[str]
    duration: timedelta
    basis: TimeBasis
    escalation: Escalation
    notify: frozenset[Notify] = frozenset()
    cancelled_by: frozenset[str] = frozenset()  # besides FINAL_EVENTS
    source: str = ""
    description: str = ""


def _spec(rule: Rule, kinds: frozenset[Kind], opens_on: set[str], measured_from: str, met_by: set[str],
          duration: timedelta, basis: TimeBasis, escalation: Escalation, *, notify: set[Notify] | None = None,
          cancelled_by: set[str] | None = None, source: str = "", description: str = "") -> RuleSpec:
    return RuleSpec(rule, kinds, frozenset(opens_on), measured_from, frozenset(met_by), duration, basis,
                    escalation, frozenset(notify or ()), frozenset(cancelled_by or ()), source, description)


M, H = timedelta(minutes=1), timedelta(hours=1)
W, B = TimeBasis.WALL, TimeBasis.BUSINESS
E = Escalation
ENG, MGR = Notify.ENGINEER, Notify.MANAGER
_C = frozenset({Kind.COMPLAINT})
_Q = frozenset({Kind.CONSULTATION})

SPECS: dict[Rule, RuleSpec] = {s.rule: s for s in (
    _spec(Rule.ORDER_ENTRY, FIELD_KINDS, {"WorkOrderCreated"}, "call", {"WorkOrderCreated"}, 10 * M, W, E.ALERT,
          source="004 §2.1.3", description="order created within 10 min of the call"),
    _spec(Rule.ACKNOWLEDGE, FIELD_KINDS, {"WorkOrderDispatched"}, "event",
          {"WorkOrderAcknowledged", "WorkOrderDeclined"}, 3 * M, W, E.PHONE_ENGINEER_AND_MANAGER,
          notify={ENG, MGR}, source="000 p.13",
          description="engineer (and manager) reply to the dispatch within 3 min; else an agent phones them"),
    _spec(Rule.CUSTOMER_CONTACT, FIELD_KINDS, {"WorkOrderDispatched"}, "event", {"CustomerContacted"}, 30 * M, B,
          E.ALERT, notify={ENG}, cancelled_by={"WorkOrderDeclined"}, source="004 §2.2.2",
          description="customer contacted within 30 min of the dispatch"),
    _spec(Rule.STATUS_FEEDBACK, FIELD_KINDS, {"WorkOrderDispatched"}, "event", set(PROGRESS), 3 * H, B, E.ALERT,
          notify={ENG, MGR}, cancelled_by={"WorkOrderDeclined"}, source="004 §2.2.2",
          description="status reported to the call center within 3 h of the dispatch"),
    # The urge itself pushes to the people on the order (mobile push reaction): no separate push.
    _spec(Rule.FEEDBACK_URGE, FAULT_KINDS, {"WorkOrderCreated"}, "scheduled", set(PROGRESS), 4 * H, B, E.URGE,
          source="004 §2.2.3",
          description="no feedback 4 h after the report: the order is urged automatically"),
    _spec(Rule.RESPONSE, FAULT_KINDS, {"WorkOrderCreated"}, "scheduled", {"WorkOrderCompleted"}, 72 * H, W,
          E.MARK_OVERDUE, notify={MGR}, source="004 §2.3.3",
          description="repair completed within 24 h (city) / 48 h (suburb) / 72 h (elsewhere), or by the end of "
                      "the day the customer chose; else overdue (拖单) and the provider not timely"),
    _spec(Rule.COMPLAINT_REPLY, _C, {"WorkOrderCreated"}, "reported", {"DeskItemAnswered"}, 24 * H, W, E.ALERT,
          source="004 §2.4.2", description="the area engineer replies to a complaint within 24 h"),
    _spec(Rule.CONSULTATION_HANDOFF, _Q, {"WorkOrderCreated"}, "reported",
          {"DeskItemForwarded", "DeskItemAnswered"}, 30 * M, B, E.ALERT, source="002 §5.2.1b",
          description="a consultation not answered at once is handed to the department within 30 min"),
    _spec(Rule.CONSULTATION_CALLBACK, _Q, {"WorkOrderCreated"}, "reported", {"DeskItemCalledBack"}, 30 * M, B,
          E.CALL_BACK_TASK, source="004 §2.5.1 (30 min); 002 §5.2.1b (3 h)",
          description="the customer is called back within 30 min (configurable to 3 h)"),
    _spec(Rule.DEPARTMENT_ANSWER, _Q, {"DeskItemForwarded"}, "event", {"DeskItemAnswered"}, 2 * H, B, E.ALERT,
          source="002 §5.3.1", description="the department answers a forwarded consultation within 2 h"),
    _spec(Rule.RESCUE_NOTICE, frozenset({Kind.RESCUE}), {"WorkOrderCreated"}, "reported", {"WorkOrderDispatched"},
          10 * M, W, E.ALERT, source="002 §5.2.2",
          description="a rescue notice goes to the nearest provider within 10 min"),
    _spec(Rule.NEW_FAULT_NOTICE, frozenset({Kind.NEW_FAULT_MODE}), {"WorkOrderCreated"}, "reported",
          {"WorkOrderDispatched"}, 60 * M, W, E.ALERT, source="002 §5.2.3",
          description="a new-fault-mode notice goes to the nearest provider within 60 min"),
    _spec(Rule.NEW_FAULT_APPOINTMENT, frozenset({Kind.NEW_FAULT_MODE}), {"WorkOrderDispatched"}, "event",
          {"CustomerContacted"}, 2 * H, B, E.ALERT, notify={ENG}, cancelled_by={"WorkOrderDeclined"},
          source="002 §5.3.3", description="the provider books an appointment within 2 h of the notice"),
)}

# Response deadline by zone (004 §2.3.3); a site without a known zone gets the "elsewhere" 72 h.
ZONE_RESPONSE: dict[str, timedelta] = {"city": 24 * H, "suburb": 48 * H, "remote": 72 * H}

# Follow-up calls (004 §四): every repair, a 30-100 % sample of installations (commissioning goes
# with installation). Percentages per kind; kinds not listed get no follow-up task.
FOLLOW_UP_PERCENT: dict[Kind, int] = {Kind.REPAIR: 100, Kind.RESCUE: 100, Kind.NEW_FAULT_MODE: 100,
                                      Kind.INSTALLATION: 30, Kind.COMMISSIONING: 30}
SAMPLED_KINDS = frozenset({Kind.INSTALLATION, Kind.COMMISSIONING})
SAMPLE_RANGE = (30, 100)  # the sampled kinds' allowed percentage (004 §四)
