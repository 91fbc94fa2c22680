// Deadlines of a work order, in one place. When the server sends the order's deadlines (the SLA
// timers' rows: [{rule, due_at, ...}]) those win; until then they are derived from the order's own
// timestamps with the service rules of DOMAIN.md (acknowledge 3 min and contact the customer 30 min
// after dispatch, status report 3 h, response by zone 24/48/72 h, consultation call-back 30 min,
// complaint reply 24 h, rescue notice 10 min, new fault mode 60 min).

const MIN = 60_000;
const HOUR = 60 * MIN;
const ZONE_HOURS = { city: 24, suburb: 48, remote: 72 };
const FIELD_OPEN = ["created", "dispatched", "acknowledged", "contacted", "en_route", "on_site", "on_hold"];
const ms = (iso) => (iso ? Date.parse(iso) : null);

function derived(order) {
  const out = [];
  const add = (rule, start, window) => {
    if (start !== null && start !== undefined) out.push({ rule, start, due: start + window });
  };
  const reported = ms(order.scheduled_for) ?? ms(order.reported_at);
  const dispatched = ms(order.dispatched_at);
  const state = order.state;
  if (FIELD_OPEN.includes(state)) {
    if (state === "created" && order.kind === "rescue") add("rescue-notice", ms(order.reported_at), 10 * MIN);
    if (state === "created" && order.kind === "new_fault_mode") add("fault-notice", ms(order.reported_at), 60 * MIN);
    if (state === "dispatched") add("acknowledge", dispatched, 3 * MIN);
    if (["dispatched", "acknowledged"].includes(state)) add("contact", dispatched, 30 * MIN);
    if (["dispatched", "acknowledged", "contacted"].includes(state) && !order.contacted_at) {
      add("status-report", dispatched, 3 * HOUR);
    }
    if (!order.arrived_at && ZONE_HOURS[order.zone]) add("respond", reported, ZONE_HOURS[order.zone] * HOUR);
  }
  if (order.kind === "consultation" && ["received", "forwarded"].includes(state)) {
    add("call-back", ms(order.reported_at), 30 * MIN);
  }
  if (order.kind === "complaint" && ["received", "forwarded"].includes(state)) {
    add("complaint-reply", ms(order.reported_at), 24 * HOUR);
  }
  return out;
}

/** [{rule, start, due}] sorted by due time (epoch ms). The live board's card carries the next
 * deadline the server computed (`deadline: {kind, due_at}`); it wins over the derived ones. */
export function deadlinesOf(order) {
  if (order.deadline !== undefined && !Array.isArray(order.deadlines)) {
    if (!order.deadline) return [];
    const due = ms(order.deadline.due_at);
    const same = derived(order).find((d) => d.rule === order.deadline.kind);
    return Number.isFinite(due) ? [{ rule: order.deadline.kind, start: same ? same.start : null, due }] : [];
  }
  const list = Array.isArray(order.deadlines)
    ? order.deadlines.filter((d) => !d.met_at && !d.closed_at).map((d) => ({
      rule: d.rule, start: ms(d.opened_at ?? d.start_at) ?? null, due: ms(d.due_at),
    }))
    : derived(order);
  return list.filter((d) => Number.isFinite(d.due)).sort((a, b) => a.due - b.due);
}

export const nextDeadline = (order) => deadlinesOf(order)[0] || null;

/** red when past due, amber in the last fifth of the window (at least the last minute). */
export function deadlineLevel(deadline, now) {
  if (!deadline) return "none";
  const left = deadline.due - now;
  if (left <= 0) return "red";
  const window = deadline.start ? deadline.due - deadline.start : 0;
  return left <= Math.max(MIN, window * 0.2) ? "amber" : "green";
}
