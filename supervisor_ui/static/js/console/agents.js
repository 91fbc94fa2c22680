// Supervisors' agent list on the console: state, pause reason and time in state from the live
// `agents` channel (one row patched per delta), with pause (with a reason), unpause and log out.
import { logOutAgent, PAUSE_REASONS, pauseAgent, unpauseAgent } from "../core/agent_actions.js";
import { attempt } from "../core/chrome.js";
import { h, setAttr, setText } from "../core/dom.js";
import { t } from "../core/i18n.js";
import { watch } from "../core/ticker.js";
import { reasonLabel } from "../wallboard/agents.js";

export function startAgentsPanel(panel, live) {
  panel.hidden = false;
  const body = h("tbody");
  const rows = new Map();
  panel.querySelector("#agents").append(h("table", { class: "table" },
    h("thead", {}, h("tr", {}, ...["agents.name", "agents.state", "agents.time", "agents.calls", "agents.actions"]
      .map((k) => h("th", { scope: "col", text: t(k) })))), body));

  const row = (id) => {
    if (rows.has(id)) return rows.get(id);
    const state = h("span", { class: "state-chip" });
    const time = h("td", { class: "num" });
    const calls = h("td", { class: "num" });
    const reason = h("select", { "aria-label": t("agents.reason") },
      ...PAUSE_REASONS.map((r) => h("option", { value: r, text: reasonLabel(r) })));
    const pause = h("button", { type: "button", class: "btn btn-small", text: t("agents.pause"),
      onclick: () => attempt(() => pauseAgent(id, reason.value), t("agents.done-pause")) });
    const unpause = h("button", { type: "button", class: "btn btn-small", text: t("agents.unpause"),
      onclick: () => attempt(() => unpauseAgent(id), t("agents.done-unpause")) });
    const logout = h("button", { type: "button", class: "btn btn-small btn-danger", text: t("agents.logout"),
      onclick: () => attempt(() => logOutAgent(id), t("agents.done-logout")) });
    const name = h("td");
    const tr = h("tr", { "data-agent": id }, name, h("td", {}, state), time, calls, h("td", { class: "actions" }, reason, pause, unpause, logout));
    const entry = { tr, name, state, time, calls, pause, unpause, logout, reason };
    rows.set(id, entry);
    return entry;
  };

  const fill = (id, agent) => {
    const r = row(id);
    setText(r.name, agent.name);
    setAttr(r.state, "data-state", agent.state);
    setText(r.state, agent.state === "paused" && agent.reason ? `${t("agent.paused")}: ${reasonLabel(agent.reason)}` : t(`agent.${agent.state}`));
    watch(r.time, { since: agent.since ? Date.parse(agent.since) : null });
    setText(r.calls, agent.calls_today ?? 0);
    const out = agent.state === "logged_out";
    r.pause.hidden = out || agent.state === "paused";
    r.reason.hidden = r.pause.hidden;
    r.unpause.hidden = agent.state !== "paused";
    r.logout.hidden = out;
    if (!r.tr.isConnected) {
      const before = [...body.children].find((tr) => rows.get(tr.dataset.agent) && rows.get(tr.dataset.agent).name.textContent.localeCompare(agent.name) > 0);
      body.insertBefore(r.tr, before || null);
    }
  };

  live.subscribe("agents", (state, change) => {
    if (!state) return;
    if (change.snapshot) {
      for (const [id, r] of rows) if (!state.agents[id]) { r.tr.remove(); rows.delete(id); }
      for (const [id, agent] of Object.entries(state.agents)) fill(id, agent);
      return;
    }
    for (const op of change.ops || []) {
      if (op.path?.[0] !== "agents" || op.path.length < 2) continue;
      const id = op.path[1];
      if (op.delete && op.path.length === 2) { rows.get(id)?.tr.remove(); rows.delete(id); }
      else if (state.agents[id]) fill(id, state.agents[id]);
    }
  });
}
