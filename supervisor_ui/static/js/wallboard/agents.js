// The agent grid: one coloured cell per agent with state, pause reason, time in state (ticking
// locally from `since`) and calls today; totals per state. Sorted by state, then name, so colours
// group; a state change moves that one cell, nothing else is redrawn.
import { h, setAttr, setText } from "../core/dom.js";
import { t } from "../core/i18n.js";
import { watch } from "../core/ticker.js";

export const STATES = ["available", "ringing", "on_call", "wrap_up", "paused", "logged_out"];
const rank = (agent) => STATES.indexOf(agent.state);
const MAX_DENSITY = 3; // .wb-grid[data-density] in app.css

export function reasonLabel(reason) {
  if (!reason) return "";
  const key = `pause.${reason}`;
  const text = t(key);
  return text === key ? reason : text;
}

export class AgentGrid {
  constructor(grid, totals, empty, { showLoggedOut = false } = {}) {
    this.grid = grid;
    this.totals = totals;
    this.empty = empty;
    this.showLoggedOut = showLoggedOut;
    this.cells = new Map();
    this.totalItems = new Map();
    for (const state of STATES) {
      const count = h("span", { class: "num", text: "0" });
      const item = h("li", { "data-state": state }, `${t(`agent.${state}`)} `, count);
      this.totalItems.set(state, count);
      totals.append(item);
    }
    // The grid's box changes with the screen and with the tiles above it: fit again then.
    new ResizeObserver(() => { this.fitted = null; this.fit(); }).observe(grid);
  }

  /** The grid never scrolls on a TV: when the cells overflow it, step up its density (smaller
   * cells, names never under 12 px) until they fit. Only when the number of cells changes. */
  fit() {
    if (this.fitted === this.cells.size) return;
    this.fitted = this.cells.size;
    let density = 0;
    this.grid.dataset.density = "0";
    while (density < MAX_DENSITY && this.grid.scrollHeight > this.grid.clientHeight + 1) {
      density += 1;
      this.grid.dataset.density = String(density);
    }
  }

  render(state) {
    const ids = new Set(Object.keys(state.agents || {}));
    for (const id of [...this.cells.keys()]) if (!ids.has(id)) this.drop(id);
    for (const [id, agent] of Object.entries(state.agents || {})) this.upsert(id, agent);
    this.renderTotals(state);
    this.fit();
  }

  patch(state, ops) {
    for (const op of ops) {
      if (op.path?.[0] === "agents" && op.path.length >= 2) {
        const id = op.path[1];
        if (op.delete && op.path.length === 2) this.drop(id);
        else if (state.agents[id]) this.upsert(id, state.agents[id]);
      } else if (op.path?.[0] === "totals") {
        this.renderTotals(state);
      }
    }
    this.fit();
  }

  renderTotals(state) {
    for (const [s, count] of this.totalItems) setText(count, state.totals?.[s] ?? 0);
  }

  drop(id) {
    this.cells.get(id)?.el.remove();
    this.cells.delete(id);
    this.empty.hidden = this.cells.size > 0;
  }

  upsert(id, agent) {
    if (agent.state === "logged_out" && !this.showLoggedOut) { this.drop(id); return; }
    let cell = this.cells.get(id);
    if (!cell) {
      const name = h("div", { class: "agent-name" });
      const label = h("span", { class: "agent-reason" });
      const time = h("span", { class: "num" });
      const calls = h("span", { class: "agent-calls num" });
      const el = h("div", { class: "agent", role: "listitem", "data-agent": id },
        h("div", { class: "agent-top" }, name, calls), h("div", { class: "agent-line" }, label, time));
      cell = { el, name, label, time, calls, agent: null };
      this.cells.set(id, cell);
    }
    const moved = !cell.agent || cell.agent.state !== agent.state || cell.agent.name !== agent.name;
    cell.agent = agent;
    setText(cell.name, agent.name);
    setAttr(cell.el, "data-state", agent.state);
    const stateText = agent.state === "paused" && agent.reason
      ? `${t("agent.paused")}: ${reasonLabel(agent.reason)}` : t(`agent.${agent.state}`);
    setText(cell.label, stateText);
    const calls = t("agent.calls-today", { n: agent.calls_today ?? 0 });
    setAttr(cell.el, "title", `${agent.name} · ${stateText} · ${calls}`);
    setText(cell.calls, agent.calls_today ?? 0);
    setAttr(cell.calls, "aria-label", calls);
    watch(cell.time, { since: agent.since ? Date.parse(agent.since) : null });
    if (moved || !cell.el.isConnected) this.place(cell);
    this.empty.hidden = true;
  }

  place(cell) {
    const key = [rank(cell.agent), cell.agent.name];
    const before = [...this.grid.children].find((other) => {
      if (other === cell.el) return false;
      const o = this.cells.get(other.dataset.agent)?.agent;
      if (!o) return false;
      const k = [rank(o), o.name];
      return k[0] > key[0] || (k[0] === key[0] && k[1].localeCompare(key[1]) > 0);
    });
    this.grid.insertBefore(cell.el, before || null);
  }
}
