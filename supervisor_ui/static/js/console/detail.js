// One work order: its facts, deadlines, the actions its state allows (dispatch with suggestions,
// urge, cancel, audit, follow-up, close, desk actions) and its history. Every action sends the
// version it read (If-Match) and shows the server's message when refused.
import { get, post } from "../core/api.js";
import { attempt, notify } from "../core/chrome.js";
import { deadlinesOf } from "../core/deadlines.js";
import { clear, formatDateTime, h } from "../core/dom.js";
import { lang, t } from "../core/i18n.js";
import { engineerName, engineers, providerName, providers, regionName } from "../core/labels.js";
import { watch } from "../core/ticker.js";

const ASSIGNED = ["dispatched", "acknowledged", "contacted", "en_route", "on_site", "on_hold"];
const OPEN = ["created", ...ASSIGNED, "received", "forwarded", "answered"];

/** The ranking's reasons ("same region", "skill: hydraulics", "2 open orders") in the page's language. */
function reasonText(reason) {
  if (reason === "same region") return t("reason.same-region");
  if (reason.startsWith("skill: ")) return t("reason.skill", { skill: reason.slice(7) });
  return ""; // the load is shown beside the name
}

export class Detail {
  constructor(root, { onChanged, user, cardFor = () => null }) {
    this.cardFor = cardFor;
    this.root = root;
    this.body = root.querySelector("#detail-body");
    this.empty = root.querySelector("#detail-empty");
    this.onChanged = onChanged;
    this.user = user;
    this.order = null;
    this.loading = 0;
  }

  async show(id) {
    const ticket = ++this.loading;
    const data = await attempt(() => get(`/api/console/v1/work-orders/${id}`));
    if (!data || ticket !== this.loading) return;
    this.render(data.work_order, data.history);
  }

  /** The live feed moved the shown order: reload it (with its history). */
  refreshIfChanged(before, order) {
    if (!this.order || this.order.id !== order.id) return;
    const keys = ["state", "engineer_id", "provider_id", "urge_count", "version"];
    if (before && !keys.some((k) => order[k] !== undefined && order[k] !== this.order[k])) return;
    const form = this.body.querySelector("#action-form");
    if (form && form.children.length) {
      // Someone is typing into a form: do not pull it from under them; say the order moved.
      const banner = this.body.querySelector("#detail-changed");
      if (banner) banner.hidden = false;
      return;
    }
    this.show(order.id);
  }

  async act(action, body, message) {
    const order = this.order;
    try {
      const updated = await post(`/api/console/v1/work-orders/${order.id}/${action}`, body, { ifMatch: order.version });
      notify(message || t(`done.${action}`), "ok");
      this.onChanged(updated);
      await this.show(updated.id);
      return updated;
    } catch (error) {
      notify(error.message || t("error.network"), "error");
      if (error.status === 412 || error.status === 409) await this.show(order.id); // show what changed
      return undefined;
    }
  }

  render(order, history) {
    this.order = order;
    this.empty.hidden = true;
    clear(this.body);
    const field = (label, value) => (value || value === 0 ? [h("dt", { text: t(label) }), h("dd", { text: value })] : []);
    const language = lang();
    this.body.append(
      h("h3", { "data-testid": "detail-number" }, `${order.number} · `,
        h("span", { class: "state-chip", "data-state": order.state, "data-testid": "detail-state", text: t(`state.${order.state}`) })),
      h("p", { text: order.description }),
      h("dl", {},
        ...field("detail.kind", t(`kind.${order.kind}`)),
        ...field("detail.contact", [order.contact_name, order.contact_phone].filter(Boolean).join(" · ")),
        ...field("detail.region", regionName(order.region_id)),
        ...field("detail.zone", order.zone ? t(`zone.${order.zone}`) : ""),
        ...field("detail.engineer", engineerName(order.engineer_id)),
        ...field("detail.provider", providerName(order.provider_id)),
        ...field("detail.reported", formatDateTime(order.reported_at, language)),
        ...field("detail.scheduled", order.scheduled_for ? formatDateTime(order.scheduled_for, language) : ""),
        ...field("detail.appointment", order.appointment_at ? formatDateTime(order.appointment_at, language) : ""),
        ...field("detail.urges", order.urge_count ? String(order.urge_count) : ""),
        ...field("detail.flags", order.flags.map((f) => t(`flag.${f}`)).join(", ")),
        ...field("detail.register", order.register_number || "")),
    );
    // The live card's next deadline (the server's) wins over the derived ones, as on the board.
    const card = this.cardFor(order.id);
    const deadlines = deadlinesOf(card && card.deadline !== undefined ? { ...order, deadline: card.deadline } : order);
    if (deadlines.length) {
      const list = h("ul", { class: "deadlines" });
      for (const d of deadlines) {
        const span = h("span", { class: "countdown num" });
        list.append(h("li", {}, `${t(`deadline.${d.rule}`)}: ${formatDateTime(new Date(d.due).toISOString(), language)} (`,
          span, ")"));
        watch(span, { due: d.due, start: d.start });
      }
      this.body.append(h("h3", { text: t("detail.deadlines") }), list);
    }
    this.body.append(h("p", { id: "detail-changed", class: "form-error", role: "status", hidden: true },
      `${t("detail.changed")} `, h("button", { type: "button", class: "btn btn-small", text: t("detail.reload"),
                                              onclick: () => this.show(order.id) })));
    this.body.append(h("div", { class: "actions", role: "group", "aria-label": t("detail.actions") }, ...this.actions(order)));
    this.body.append(h("div", { id: "action-form" }));
    this.body.append(h("h3", { text: t("detail.history") }), h("ol", { class: "history" },
      ...history.map((e) => h("li", {}, h("strong", { text: t(`event.${e.type}`) }), " · ",
        h("span", { class: "muted", text: `${formatDateTime(e.occurred_at, language)} · ${t(`role.${e.actor_role}`)}` })))));
  }

  button(label, onClick, kind = "") {
    return h("button", { type: "button", class: `btn btn-small ${kind}`, "data-action": label, onclick: onClick, text: t(`action.${label}`) });
  }

  actions(order) {
    const s = order.state;
    const out = [];
    if (s === "created" || ASSIGNED.includes(s)) out.push(this.button(s === "created" ? "dispatch" : "redispatch", () => this.dispatchForm(), "btn-primary"));
    if (OPEN.includes(s)) out.push(this.button("urge", () => this.urgeForm()));
    if (s === "completed") {
      out.push(this.button("approve", () => this.act("approve", { note: "" }), "btn-primary"));
      out.push(this.button("void", () => this.voidForm(), "btn-danger"));
    }
    if (s === "approved") out.push(this.button("follow-up", () => this.followUpForm(), "btn-primary"));
    if (["followed_up", "voided", "called_back"].includes(s)) out.push(this.button("close", () => this.act("close", undefined)));
    if (["received"].includes(s)) out.push(this.button("forward", () => this.textForm("forward", "department")));
    if (["received", "forwarded"].includes(s)) out.push(this.button("answer", () => this.textForm("answer", "answer")));
    if (s === "answered") out.push(this.button("call-back", () => this.followUpForm("call-back")));
    if (OPEN.includes(s)) out.push(this.button("cancel", () => this.textForm("cancel", "reason"), "btn-danger"));
    return out;
  }

  formArea(title) {
    const area = this.body.querySelector("#action-form");
    clear(area);
    const form = h("form", { class: "inline-form", "aria-label": title });
    area.append(form);
    return form;
  }

  async dispatchForm() {
    const form = this.formArea(t("action.dispatch"));
    form.append(h("h3", { text: t("dispatch.suggested") }));
    const list = h("ul", { class: "suggestions", "aria-live": "polite" }, h("li", { class: "muted", text: t("common.loading") }));
    form.append(list);
    const data = await attempt(() => get(`/api/console/v1/work-orders/${this.order.id}/suggestions`));
    clear(list);
    for (const s of data?.items || []) {
      list.append(h("li", {},
        h("span", {}, h("strong", { text: s.name }), ` · ${t("dispatch.load", { n: s.load })} · `,
          h("span", { class: "muted", text: s.reasons.map(reasonText).filter(Boolean).join(", ") })),
        h("button", { type: "button", class: "btn btn-small btn-primary", "data-engineer": s.engineer_id,
                      onclick: () => this.act("dispatch", { engineer_id: s.engineer_id }), text: t("dispatch.choose") })));
    }
    if (!list.children.length) list.append(h("li", { class: "muted", text: t("dispatch.none") }));
    // Or any engineer / a provider (the first of its engineers to accept takes it).
    const pick = h("select", { id: "dispatch-target" }, h("option", { value: "", text: "—" }),
      ...engineers().filter((e) => e.active).map((e) => h("option", { value: `e${e.id}`, text: e.name })),
      ...providers().map((p) => h("option", { value: `p${p.id}`, text: `${t("dispatch.provider")}: ${p.name}` })));
    form.append(h("label", { for: "dispatch-target", text: t("dispatch.other") }), pick,
      h("div", { class: "actions" }, h("button", { type: "submit", class: "btn", text: t("action.dispatch") })));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = pick.value;
      if (!value) return;
      const id = Number(value.slice(1));
      this.act("dispatch", value[0] === "e" ? { engineer_id: id } : { provider_id: id });
    });
  }

  urgeForm() {
    const form = this.formArea(t("action.urge"));
    const by = h("select", { id: "urge-by" }, h("option", { value: "center", text: t("urge.center") }),
      h("option", { value: "customer", text: t("urge.customer") }));
    const note = h("input", { id: "urge-note", maxlength: 500 });
    form.append(h("label", { for: "urge-by", text: t("urge.by") }), by, h("label", { for: "urge-note", text: t("common.note") }), note,
      h("div", { class: "actions" }, h("button", { type: "submit", class: "btn btn-primary", text: t("action.urge") })));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.act("urge", { by: by.value, note: note.value });
    });
  }

  voidForm() {
    const form = this.formArea(t("action.void"));
    const reason = h("select", { id: "void-reason" }, h("option", { value: "fake", text: t("void.fake") }),
      h("option", { value: "duplicate", text: t("void.duplicate") }));
    const note = h("input", { id: "void-note", maxlength: 500 });
    form.append(h("label", { for: "void-reason", text: t("void.reason") }), reason,
      h("label", { for: "void-note", text: t("common.note") }), note,
      h("div", { class: "actions" }, h("button", { type: "submit", class: "btn btn-danger", text: t("action.void") })));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.act("void", { reason: reason.value, note: note.value });
    });
  }

  textForm(action, fieldName) {
    const form = this.formArea(t(`action.${action}`));
    const input = h(fieldName === "answer" ? "textarea" : "input", { id: `${action}-text`, required: true, maxlength: 4000 });
    form.append(h("label", { for: `${action}-text`, text: t(`field.${fieldName}`) }), input,
      h("div", { class: "actions" }, h("button", { type: "submit", class: `btn ${action === "cancel" ? "btn-danger" : "btn-primary"}`, text: t(`action.${action}`) })));
    input.focus();
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!input.value.trim()) { input.focus(); return; }
      this.act(action, { [fieldName]: input.value.trim() });
    });
  }

  followUpForm(action = "follow-up") {
    const form = this.formArea(t(`action.${action}`));
    const reachable = h("input", { type: "checkbox", id: "fu-reachable", checked: true });
    const satisfaction = h("select", { id: "fu-satisfaction" }, h("option", { value: "", text: "—" }),
      ...[5, 4, 3, 2, 1].map((n) => h("option", { value: n, text: t(`satisfaction.${n}`) })));
    const resolved = h("input", { type: "checkbox", id: "fu-resolved", checked: true });
    const note = h("input", { id: "fu-note", maxlength: 500 });
    form.append(h("label", { class: "check" }, reachable, t("followup.reachable")),
      h("label", { for: "fu-satisfaction", text: t("followup.satisfaction") }), satisfaction,
      action === "follow-up" ? h("label", { class: "check" }, resolved, t("followup.resolved")) : null,
      h("label", { for: "fu-note", text: t("common.note") }), note,
      h("div", { class: "actions" }, h("button", { type: "submit", class: "btn btn-primary", text: t(`action.${action}`) })));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const body = { reachable: reachable.checked, satisfaction: satisfaction.value ? Number(satisfaction.value) : null, note: note.value };
      if (action === "follow-up") body.resolved = reachable.checked ? resolved.checked : null;
      this.act(action, body);
    });
  }
}
