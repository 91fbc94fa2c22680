// The agent's own view: state with buttons (available, pause with a reason, log out of the
// queues), the callers waiting in the agent's queues, and the agent's calls today.
import { setMyState, PAUSE_REASONS } from "../core/agent_actions.js";
import { attempt, startPage } from "../core/chrome.js";
import { $, formatDuration, formatTime, h, setAttr, setText } from "../core/dom.js";
import { lang, t } from "../core/i18n.js";
import { loadLabels, queueName } from "../core/labels.js";
import { LiveFeed, showStatus } from "../core/live.js";
import { watch } from "../core/ticker.js";
import { reasonLabel } from "../wallboard/agents.js";

async function main() {
  const user = await startPage("agent");
  if (!user) return;
  await loadLabels();
  const reason = $("#me-reason");
  for (const r of PAUSE_REASONS) reason.append(h("option", { value: r, text: reasonLabel(r) }));
  $("#me-available").addEventListener("click", () => attempt(() => setMyState("available"), t("me.done-available")));
  $("#me-pause").addEventListener("click", () => attempt(() => setMyState("paused", reason.value), t("me.done-pause")));
  $("#me-logout").addEventListener("click", () => attempt(() => setMyState("logged_out"), t("me.done-logout")));

  const indicator = showStatus($("#conn"), t);
  const live = new LiveFeed({ onStatus: indicator });
  const queueSubs = new Map();
  const waiting = new Map(); // queue -> waiting map

  const renderWaiting = () => {
    const rows = [];
    for (const [queue, callers] of waiting) for (const c of Object.values(callers || {})) rows.push({ queue, ...c });
    rows.sort((a, b) => Date.parse(a.joined_at) - Date.parse(b.joined_at));
    $("#waiting-rows").replaceChildren(...rows.map((c) => {
      const waited = h("td", { class: "num" });
      watch(waited, { since: Date.parse(c.joined_at) });
      return h("tr", {}, h("td", { text: queueName(c.queue) }), h("td", { text: c.caller }), waited,
        h("td", {}, h("a", { href: `/?phone=${encodeURIComponent(c.caller)}`, text: t("callbacks.pop") })));
    }));
    $("#waiting-empty").hidden = rows.length > 0;
  };

  const followQueues = (codes) => {
    for (const code of codes) {
      if (queueSubs.has(code)) continue;
      queueSubs.set(code, live.subscribe(`queue:${code}`, (state) => {
        waiting.set(code, state?.waiting || {});
        renderWaiting();
      }));
    }
  };

  live.subscribe(`agent:${user.id}`, (state, change) => {
    if (change.error || !state) {
      $("#me-empty").hidden = false;
      return;
    }
    const agents = Object.values(state.agents || {});
    const me = agents[0];
    $("#me-empty").hidden = Boolean(me);
    $("#me-card").hidden = !me;
    if (me) {
      const text = me.state === "paused" && me.reason ? `${t("agent.paused")}: ${reasonLabel(me.reason)}` : t(`agent.${me.state}`);
      setText($("#me-state"), text);
      setAttr($("#me-dot"), "data-state", me.state);
      watch($("#me-time"), { since: me.since ? Date.parse(me.since) : null });
      setText($("#me-queues"), (me.queues || []).map(queueName).join(" · "));
      followQueues(me.queues || []);
    }
    const calls = Object.values(state.calls || {}).sort((a, b) => Date.parse(b.answered_at) - Date.parse(a.answered_at));
    $("#call-rows").replaceChildren(...calls.map((c) => h("tr", {},
      h("td", { text: formatTime(c.answered_at, lang()) }), h("td", { text: queueName(c.queue) }), h("td", { text: c.caller }),
      h("td", { class: "num", text: formatDuration(c.wait_s) }), h("td", { class: "num", text: c.talk_s === null ? "–" : formatDuration(c.talk_s) }),
      h("td", { text: t(`outcome.${c.outcome}`) }))));
    $("#calls-empty").hidden = calls.length > 0;
    const totals = state.totals || {};
    setText($("#me-totals"), t("me.totals", { n: totals.calls_today ?? 0, aht: totals.aht_s === null || totals.aht_s === undefined ? "–" : formatDuration(totals.aht_s) }));
  });
  live.start();
}

main();
