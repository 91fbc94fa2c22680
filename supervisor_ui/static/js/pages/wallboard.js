// The wallboard (TV / kiosk): queue tiles, the agent grid, the breach feed, deadlines about to
// breach, overdue and urged orders, all from the live feed; a clock and a connection indicator.
// Read-only for the wallboard account; supervisors may also set the thresholds from here.
import { serverNow } from "../core/api.js";
import { startPage } from "../core/chrome.js";
import { $, setText } from "../core/dom.js";
import { lang, t } from "../core/i18n.js";
import { loadLabels, queues } from "../core/labels.js";
import { LiveFeed, showStatus } from "../core/live.js";
import { loadThresholds } from "../core/thresholds.js";
import { everySecond } from "../core/ticker.js";
import { AgentGrid } from "../wallboard/agents.js";
import { AlertsView, Beeper } from "../wallboard/alerts.js";
import { setUpThresholdEditor } from "../wallboard/threshold_editor.js";
import { Tiles } from "../wallboard/tiles.js";

const THRESHOLDS_REFRESH_MS = 60_000;
const WINDOW_KEY = "fieldline.wallboard.window";

async function main() {
  const user = await startPage("wallboard");
  if (!user) return;
  await Promise.all([loadThresholds().catch(() => null), loadLabels()]);

  const tiles = new Tiles($("#tiles"));
  const grid = new AgentGrid($("#agent-grid"), $("#agent-totals"), $("#agents-empty"));
  const beeper = new Beeper();
  const alerts = new AlertsView({
    feed: $("#alert-feed"), feedEmpty: $("#alerts-empty"), soon: $("#soon-list"), soonEmpty: $("#soon-empty"),
    orders: $("#order-list"), ordersEmpty: $("#orders-empty"), beeper,
  });

  const windowSelect = $("#wb-window");
  windowSelect.value = localStorage.getItem(WINDOW_KEY) || "today";
  tiles.setWindow(windowSelect.value);
  windowSelect.addEventListener("change", () => {
    localStorage.setItem(WINDOW_KEY, windowSelect.value); // a kiosk setting, not a secret
    tiles.setWindow(windowSelect.value);
  });
  $("#wb-sound").addEventListener("click", (e) => e.currentTarget.setAttribute("aria-pressed", String(beeper.toggle())));
  $("#wb-fullscreen").addEventListener("click", () => {
    if (document.fullscreenElement) document.exitFullscreen();
    else document.documentElement.requestFullscreen?.().catch(() => {});
  });
  if (["supervisor", "admin"].includes(user.role)) {
    setUpThresholdEditor({ queues, onSaved: () => tiles.refreshLevels() });
  }
  setInterval(() => loadThresholds().then(() => tiles.refreshLevels()).catch(() => {}), THRESHOLDS_REFRESH_MS);

  const clock = $("#wb-clock");
  everySecond((now) => setText(clock, new Date(now).toLocaleTimeString(lang() === "zh-CN" ? "zh-CN" : "en-GB")));
  setText(clock, new Date(serverNow()).toLocaleTimeString(lang() === "zh-CN" ? "zh-CN" : "en-GB"));

  const indicator = showStatus($("#conn"), t);
  let boardWatched = false;
  const live = new LiveFeed({
    onStatus: (status) => {
      indicator(status);
      $("#wb-stale").hidden = status !== "stale" && status !== "offline";
    },
    onHello: (hello) => {
      if (hello.channels.includes("work_orders") && !live.state("work_orders") && !boardWatched) {
        boardWatched = true;
        live.subscribe("work_orders", (state) => { alerts.setBoard(state?.orders || {}); alerts.renderOrders([]); });
      }
    },
  });
  live.subscribe("queues", (state, change) => {
    if (change.snapshot) tiles.render(state);
    else if (change.ops) tiles.patch(state, change.ops);
  });
  live.subscribe("agents", (state, change) => {
    if (change.snapshot) grid.render(state);
    else if (change.ops) grid.patch(state, change.ops);
  });
  live.subscribe("alerts", (state, change) => {
    if (change.snapshot) alerts.render(state);
    else if (change.ops) alerts.patch(state, change.ops);
  });
  live.start();
}

main();
