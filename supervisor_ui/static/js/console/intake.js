// Taking a call: screen pop by caller number (customer, sites, equipment, open orders, the agent
// who served them last), then a new work order or desk item prefilled from it.
import { get, post } from "../core/api.js";
import { attempt } from "../core/chrome.js";
import { $, clear, h } from "../core/dom.js";
import { t } from "../core/i18n.js";

const KINDS = ["repair", "installation", "commissioning", "proactive", "rescue", "new_fault_mode",
  "consultation", "complaint", "suggestion"];
const FIELD_KINDS = KINDS.slice(0, 6);
const SUBTYPES = ["pre_acceptance", "start_up", "periodic_inspection"];
const LEVELS = ["general", "medium", "strong", "irrational"];
const CHANNELS = ["phone", "email", "sms", "fax", "web"];

const options = (select, values, prefix, blank = false) => {
  clear(select);
  if (blank) select.append(h("option", { value: "", text: "—" }));
  for (const v of values) select.append(h("option", { value: v, text: t(`${prefix}.${v}`) }));
};

export class Intake {
  constructor({ user, onCreated, onOpen }) {
    this.user = user;
    this.onCreated = onCreated;
    this.onOpen = onOpen;
    this.pop = null;
    options($("#c-kind"), KINDS, "kind");
    options($("#c-subtype"), SUBTYPES, "subtype");
    options($("#c-level"), LEVELS, "level");
    options($("#c-channel"), CHANNELS, "channel");
    $("#c-now-box").hidden = !["supervisor", "admin"].includes(user.role);
    $("#c-kind").addEventListener("change", () => this.kindChanged());
    $("#c-customer").addEventListener("change", () => this.customerChanged());
    $("#c-site").addEventListener("change", () => this.siteChanged());
    $("#pop-form").addEventListener("submit", (e) => { e.preventDefault(); this.lookUp($("#pop-phone").value); });
    $("#create-form").addEventListener("submit", (e) => { e.preventDefault(); this.create(); });
    this.fillCustomers([]);
    this.kindChanged();
    const phone = new URLSearchParams(location.search).get("phone");
    if (phone) { $("#pop-phone").value = phone; this.lookUp(phone); } // a CTI link can pop the page directly
  }

  /** A number to call back (or a CTI link): look it up like an incoming call. */
  popCall(phone) {
    $("#pop-phone").value = phone;
    $("#pop-phone").scrollIntoView({ block: "nearest" });
    return this.lookUp(phone);
  }

  async lookUp(phone) {
    const result = $("#pop-result");
    if (!phone.trim()) return;
    const pop = await attempt(() => get(`/api/console/v1/screen-pop?phone=${encodeURIComponent(phone.trim())}`));
    if (!pop) return;
    this.pop = pop;
    clear(result);
    if (!pop.customers.length) {
      result.append(h("p", { class: "muted", text: t("pop.unknown", { phone: pop.phone }) }));
    }
    for (const entry of pop.customers) {
      const c = entry.customer;
      result.append(h("div", { class: "pop-customer", "data-customer": c.id },
        h("strong", { text: c.name }), h("div", { class: "muted", text: [c.contact_name, c.phone].filter(Boolean).join(" · ") }),
        entry.last_agent ? h("div", { class: "muted", text: t("pop.last-agent", { name: entry.last_agent.name }) }) : null,
        h("div", { text: t("pop.equipment", { n: entry.equipment.length }) }),
        h("ul", {}, ...entry.equipment.map((e) => h("li", { text: `${e.model} · ${e.serial_number}${e.warranty_end && new Date(e.warranty_end) < new Date() ? ` · ${t("pop.out-of-warranty")}` : ""}` }))),
        entry.open_orders.length ? h("div", {}, h("div", { text: t("pop.open-orders") }),
          h("ul", {}, ...entry.open_orders.map((o) => h("li", {}, h("a", { href: "#", onclick: (ev) => { ev.preventDefault(); this.onOpen(o.id); }, text: `${o.number} · ${t(`kind.${o.kind}`)} · ${t(`state.${o.state}`)}` }))))) : null));
    }
    this.fillCustomers(pop.customers);
    $("#c-phone").value = pop.phone;
    const first = pop.customers[0]?.customer;
    if (first) $("#c-contact").value = first.contact_name || "";
  }

  fillCustomers(customers) {
    const select = $("#c-customer");
    clear(select);
    select.append(h("option", { value: "", text: t("create.no-customer") }));
    for (const entry of customers) select.append(h("option", { value: entry.customer.id, text: entry.customer.name }));
    if (customers.length) select.value = String(customers[0].customer.id);
    this.customerChanged();
  }

  entry() {
    const id = Number($("#c-customer").value);
    return this.pop?.customers.find((e) => e.customer.id === id) || null;
  }

  customerChanged() {
    const entry = this.entry();
    const site = $("#c-site");
    clear(site);
    site.append(h("option", { value: "", text: "—" }));
    for (const s of entry?.sites || []) site.append(h("option", { value: s.id, text: `${s.name} (${t(`zone.${s.zone}`)})` }));
    if (entry?.sites.length) site.value = String(entry.sites[0].id);
    this.siteChanged();
  }

  siteChanged() {
    const entry = this.entry();
    const siteId = Number($("#c-site").value);
    const equipment = $("#c-equipment");
    clear(equipment);
    equipment.append(h("option", { value: "", text: "—" }));
    for (const e of (entry?.equipment || []).filter((e) => !siteId || e.site_id === siteId)) {
      equipment.append(h("option", { value: e.id, text: `${e.model} · ${e.serial_number}` }));
    }
  }

  kindChanged() {
    const kind = $("#c-kind").value;
    $("#c-subtype-box").hidden = kind !== "proactive";
    $("#c-level-box").hidden = kind !== "complaint";
  }

  async create() {
    const error = $("#create-error");
    error.hidden = true;
    const kind = $("#c-kind").value;
    const num = (sel) => ($(sel).value ? Number($(sel).value) : null);
    const body = {
      kind, description: $("#c-desc").value.trim(), channel: $("#c-channel").value,
      customer_id: num("#c-customer"), site_id: num("#c-site"), equipment_id: num("#c-equipment"),
      contact_name: $("#c-contact").value.trim(), contact_phone: $("#c-phone").value.trim(),
      special_incident: $("#c-special").checked,
    };
    if (kind === "proactive") body.subtype = $("#c-subtype").value;
    if (kind === "complaint") body.complaint_level = $("#c-level").value;
    if (!$("#c-now-box").hidden && $("#c-now").checked) body.schedule_now = true;
    if (!body.description) {
      error.textContent = t("create.need-description");
      error.hidden = false;
      $("#c-desc").focus();
      return;
    }
    if (FIELD_KINDS.includes(kind) && (!body.customer_id || !body.site_id)) {
      error.textContent = t("create.need-site");
      error.hidden = false;
      return;
    }
    const submit = $("#create-submit");
    submit.disabled = true;
    const order = await attempt(() => post("/api/console/v1/work-orders", body), t("done.create"));
    submit.disabled = false;
    if (order) {
      $("#c-desc").value = "";
      this.onCreated(order);
    }
  }
}
