// The `alerts` channel on the wallboard: the SLA breach feed (open breaches and every breach,
// escalation and urge notice as it happens; an aria-live log, optional sound), deadlines about to
// breach with local countdowns, and the overdue and urged orders.
import { serverNow } from "../core/api.js";
import { formatTime, h, setText } from "../core/dom.js";
import { lang, t } from "../core/i18n.js";
import { watch } from "../core/ticker.js";

const FEED_MAX = 40;
const NOTICE_TYPES = new Set(["SlaBreached", "SlaEscalated", "WorkOrderUrged"]);

// An alert of the SLA engine (backend/domain/sla/alerts.py): {alert: "breach"|"approaching", ...}.
const isBreach = (alert) => alert.alert === "breach" || (alert.breach_id !== undefined && alert.breach_id !== null);
const ruleText = (rule) => {
  const key = `rule.${rule}`;
  const text = t(key);
  return text === key ? (rule || "") : text;
};

/** A short beep made in the browser (no audio file to fetch); needs a user gesture to enable. */
export class Beeper {
  constructor() { this.enabled = false; this.ctx = null; }
  toggle() {
    this.enabled = !this.enabled;
    if (this.enabled && !this.ctx && window.AudioContext) this.ctx = new AudioContext();
    return this.enabled;
  }
  beep() {
    if (!this.enabled || !this.ctx) return;
    const osc = this.ctx.createOscillator();
    const gain = this.ctx.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.2, this.ctx.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, this.ctx.currentTime + 0.6);
    osc.connect(gain).connect(this.ctx.destination);
    osc.start();
    osc.stop(this.ctx.currentTime + 0.6);
  }
}

export class AlertsView {
  constructor({ feed, feedEmpty, soon, soonEmpty, orders, ordersEmpty, beeper }) {
    Object.assign(this, { feed, feedEmpty, soon, soonEmpty, orders, ordersEmpty, beeper });
    this.feedItems = new Map(); // key -> li
    this.urged = new Map(); // work order id -> {number, count, at}
    this.boardOrders = null; // from the work_orders channel when this role may read it
  }

  render(state) {
    const open = state.open || [];
    const liveKeys = new Set();
    for (const alert of open.filter(isBreach)) {
      const key = this.breachKey(alert);
      liveKeys.add(key);
      this.addFeed(key, {
        type: "SlaBreached", number: alert.number, rule: alert.rule,
        at: alert.detected_at || alert.breached_at || alert.due_at,
      }, { append: true });
    }
    // Breaches no longer open (resolved) leave the feed; notices of urges stay until pushed out.
    for (const [key, li] of this.feedItems) {
      if (key.startsWith("b:") && !liveKeys.has(key)) { li.remove(); this.feedItems.delete(key); }
    }
    this.renderSoon(open.filter((a) => !isBreach(a)));
    for (const notice of state.notices || []) this.notice(notice, { quiet: true });
    this.renderOrders(open);
    this.empties();
  }

  patch(state, ops) {
    for (const op of ops) {
      if (op.notice) this.notice(op.notice, { quiet: false });
    }
    if (ops.some((op) => op.path?.[0] === "open")) this.render({ open: state.open, notices: [] });
    this.renderOrders(state.open || []);
    this.empties();
  }

  breachKey(alert) {
    return `b:${alert.breach_id ?? `${alert.work_order_id}:${alert.rule}`}`;
  }

  notice(notice, { quiet }) {
    if (!NOTICE_TYPES.has(notice.type)) return;
    const data = notice.data || {};
    if (notice.type === "WorkOrderUrged") {
      const prev = this.urged.get(notice.work_order_id);
      this.urged.set(notice.work_order_id, {
        number: data.number || prev?.number || `#${notice.work_order_id}`, count: (prev?.count || 0) + 1, at: notice.at,
      });
    }
    const key = notice.type === "SlaBreached" ? this.breachKey({ ...data, work_order_id: notice.work_order_id })
      : `n:${notice.event_id}`;
    const added = this.addFeed(key, {
      type: notice.type, number: data.number || `#${notice.work_order_id}`, rule: data.rule,
      at: notice.at, action: data.action, by: data.by,
    }, { append: false });
    if (added && !quiet && notice.type === "SlaBreached") this.beeper?.beep();
  }

  addFeed(key, item, { append }) {
    if (this.feedItems.has(key)) return false;
    const what = item.type === "WorkOrderUrged"
      ? t("wb.notice.urged", { by: t(`urge.${item.by || "center"}`) })
      : item.type === "SlaEscalated" ? t("wb.notice.escalated", { action: item.action || "" })
        : t("wb.notice.breached", { rule: ruleText(item.rule) });
    const li = h("li", { "data-type": item.type, "data-key": key },
      h("strong", { text: item.number }), ` ${what} `,
      h("span", { class: "when", text: formatTime(item.at, lang()) }));
    if (append) this.feed.append(li);
    else this.feed.prepend(li);
    this.feedItems.set(key, li);
    while (this.feed.children.length > FEED_MAX) {
      const last = this.feed.lastElementChild;
      this.feedItems.delete(last.dataset.key);
      last.remove();
    }
    return true;
  }

  renderSoon(alerts) {
    const sorted = [...alerts].sort((a, b) => Date.parse(a.due_at) - Date.parse(b.due_at)).slice(0, 12);
    this.soon.replaceChildren(...sorted.map((a) => {
      const left = h("span", { class: "countdown num" });
      watch(left, { due: Date.parse(a.due_at) });
      return h("li", { "data-level": "amber" }, h("strong", { text: a.number }), ` ${ruleText(a.rule)} `, left);
    }));
  }

  /** Board orders (when the role reads `work_orders`) or what the alerts tell. */
  setBoard(orders) {
    this.boardOrders = orders;
  }

  renderOrders(open) {
    const rows = new Map();
    if (this.boardOrders) {
      const now = serverNow(); // the server's clock: a TV's own may be minutes off
      for (const o of Object.values(this.boardOrders)) {
        const overdue = o.deadline && Date.parse(o.deadline.due_at) < now;
        if (overdue || o.urge_count) rows.set(o.id, { number: o.number, overdue, urges: o.urge_count || 0 });
      }
    } else {
      for (const a of open.filter(isBreach)) {
        rows.set(a.work_order_id, { number: a.number, overdue: true, urges: rows.get(a.work_order_id)?.urges || 0 });
      }
      for (const [id, u] of this.urged) {
        const row = rows.get(id) || { number: u.number, overdue: false, urges: 0 };
        row.urges = Math.max(row.urges, u.count);
        rows.set(id, row);
      }
    }
    const items = [...rows.values()].sort((a, b) => Number(b.overdue) - Number(a.overdue) || b.urges - a.urges).slice(0, 12);
    this.orders.replaceChildren(...items.map((r) => h("li", { "data-level": r.overdue ? "red" : "amber" },
      h("strong", { text: r.number }), " ",
      r.overdue ? h("span", { text: t("wb.overdue") }) : null, " ",
      r.urges ? h("span", { text: t("board.urged", { n: r.urges }) }) : null)));
  }

  empties() {
    this.feedEmpty.hidden = this.feed.children.length > 0;
    this.soonEmpty.hidden = this.soon.children.length > 0;
    this.ordersEmpty.hidden = this.orders.children.length > 0;
    setText(this.feedEmpty, t("wb.no-alerts"));
  }
}
