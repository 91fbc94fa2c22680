// Keeps the board current: the hub's `work_orders` channel when it is live (a delta moves one
// card), and the console API as the source of full records (a snapshot or an unknown order is
// fetched) and as the fallback, polled while the live feed is down.
import { get } from "../core/api.js";
import { $ } from "../core/dom.js";
import { t } from "../core/i18n.js";
import { showStatus } from "../core/live.js";

const POLL_MS = 15_000;

export function startConsoleFeed({ board, loadAll, onOrder, live }) {
  live.onStatus = (status) => statusChanged(status);
  const indicator = showStatus($("#conn"), t);
  let pollTimer = null;
  const poll = async () => {
    clearTimeout(pollTimer);
    try { await loadAll(); } catch { /* shown as stale by the indicator */ }
    if (live.status !== "live") pollTimer = setTimeout(poll, POLL_MS);
  };
  function statusChanged(status) {
    indicator(status === "live" ? "live" : status === "stale" ? "polling" : status);
    if (status !== "live" && !pollTimer) pollTimer = setTimeout(poll, POLL_MS);
  }

  const merge = async (id, card) => {
    const known = board.get(id);
    if (known) {
      onOrder({ ...known, ...card, description: known.description }, { fromFeed: true });
      return;
    }
    try {
      const full = await get(`/api/console/v1/work-orders/${id}`);
      onOrder({ ...full.work_order, ...card }, { fromFeed: true });
    } catch { /* not visible to this user, or gone */ }
  };

  live.subscribe("work_orders", (state, change) => {
    if (change.snapshot) {
      clearTimeout(pollTimer);
      pollTimer = null;
      loadAll().then(() => {
        for (const [id, card] of Object.entries(state.orders || {})) merge(Number(id), card);
      }).catch(() => {});
      return;
    }
    for (const op of change.ops || []) {
      if (op.path?.[0] !== "orders" || op.path.length !== 2) continue;
      const id = Number(op.path[1]);
      if (op.delete) board.remove(id);
      else merge(id, op.value);
    }
  });
  poll();
  live.start();
  return live;
}
