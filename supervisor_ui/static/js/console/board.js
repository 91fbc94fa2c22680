// The dispatch board: open orders in lanes by state, each card with a ticking countdown to its
// next deadline. A changed order moves or patches its own card only; nothing else is redrawn.
import { nextDeadline } from "../core/deadlines.js";
import { h, setAttr, setText } from "../core/dom.js";
import { t } from "../core/i18n.js";
import { engineerName, providerName } from "../core/labels.js";
import { watch } from "../core/ticker.js";

export const LANES = [
  { id: "dispatch", states: ["created"] },
  { id: "ack", states: ["dispatched"] },
  { id: "progress", states: ["acknowledged", "contacted", "en_route", "on_site", "on_hold"] },
  { id: "audit", states: ["completed"] },
  { id: "followup", states: ["approved", "voided", "followed_up"] },
  { id: "desk", states: ["received", "forwarded", "answered", "called_back"] },
];
export const BOARD_STATES = LANES.flatMap((lane) => lane.states);
const laneOf = (state) => LANES.find((lane) => lane.states.includes(state));

export class Board {
  constructor(root, { onSelect }) {
    this.root = root;
    this.onSelect = onSelect;
    this.cards = new Map();
    this.orders = new Map();
    this.lanes = new Map();
    this.selected = null;
    for (const lane of LANES) {
      const count = h("span", { class: "lane-count num", text: "0" });
      const list = h("ol", { "aria-labelledby": `lane-${lane.id}` });
      const section = h("section", { class: "lane", "data-lane": lane.id },
        h("h3", { id: `lane-${lane.id}` }, h("span", { text: t(`lane.${lane.id}`) }), count), list);
      this.lanes.set(lane.id, { section, list, count });
      root.append(section);
    }
    this.counts();
  }

  get(id) { return this.orders.get(id); }

  replaceAll(orders) {
    const keep = new Set(orders.map((o) => o.id));
    for (const id of [...this.cards.keys()]) if (!keep.has(id)) this.remove(id);
    for (const order of orders) this.upsert(order);
  }

  upsert(incoming) {
    let order = incoming;
    const lane = laneOf(order.state);
    if (!lane) { this.remove(order.id); return; }
    const previous = this.orders.get(order.id);
    if (previous && previous.version > order.version) return; // an older copy arrived late
    // A full record has no live `deadline`: keep the feed's until its next delta replaces it.
    if (previous && !("deadline" in order) && "deadline" in previous) order = { ...order, deadline: previous.deadline };
    this.orders.set(order.id, order);
    let item = this.cards.get(order.id);
    if (!item) {
      item = h("li", { "data-order": order.id });
      this.cards.set(order.id, item);
    }
    this.fill(item, order);
    const { list } = this.lanes.get(lane.id);
    const key = Number(item.dataset.sort);
    const before = [...list.children].find((other) => other !== item && Number(other.dataset.sort) > key);
    if (item.parentElement !== list || (before ? item.nextElementSibling !== before : list.lastElementChild !== item)) {
      list.insertBefore(item, before || null);
    }
    this.counts();
  }

  remove(id) {
    this.cards.get(id)?.remove();
    this.cards.delete(id);
    this.orders.delete(id);
    this.counts();
  }

  counts() {
    for (const { list, count } of this.lanes.values()) setText(count, list.children.length);
    setText(document.querySelector("#board-total"), t("board.count", { n: this.cards.size }));
  }

  select(id) {
    this.selected = id;
    for (const [cardId, item] of this.cards) setAttr(item.firstElementChild, "aria-pressed", cardId === id ? "true" : "false");
  }

  fill(item, order) {
    const deadline = nextDeadline(order);
    item.dataset.sort = String(deadline ? deadline.due : Number.MAX_SAFE_INTEGER - order.id);
    const who = order.engineer_id ? engineerName(order.engineer_id) : providerName(order.provider_id);
    const countdown = h("span", { class: "countdown num", "aria-label": deadline ? t(`deadline.${deadline.rule}`) : null });
    const card = h("button", {
      type: "button", class: "card", "aria-pressed": this.selected === order.id ? "true" : "false",
      "data-number": order.number,
      onclick: () => this.onSelect(order.id),
    },
    h("span", { class: "card-top" }, h("span", { text: order.number }),
      h("span", { class: "state-chip", "data-state": order.state, text: t(`state.${order.state}`) })),
    h("span", { class: "card-desc", text: order.description }),
    h("span", { class: "card-meta" },
      h("span", { text: t(`kind.${order.kind}`) }),
      who ? h("span", { text: who }) : null,
      order.urge_count ? h("span", { class: "badge badge-urge", text: t("board.urged", { n: order.urge_count }) }) : null,
      ...order.flags.map((flag) => h("span", { class: "badge badge-flag", text: t(`flag.${flag}`) })),
      deadline ? h("span", {}, `${t(`deadline.${deadline.rule}`)} `, countdown) : null));
    if (deadline) watch(countdown, { due: deadline.due, start: deadline.start });
    item.replaceChildren(card);
  }
}
