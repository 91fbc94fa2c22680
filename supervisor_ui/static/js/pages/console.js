// The dispatch console (agents, supervisors): intake on the left, the board in the middle, the
// selected order on the right; abandoned calls and agents below the board when the hub is there.
import { get } from "../core/api.js";
import { startPage } from "../core/chrome.js";
import { $ } from "../core/dom.js";
import { loadLabels } from "../core/labels.js";
import { Board, BOARD_STATES } from "../console/board.js";
import { Detail } from "../console/detail.js";
import { Intake } from "../console/intake.js";
import { startAgentsPanel } from "../console/agents.js";
import { startCallBacks } from "../console/callbacks.js";
import { startConsoleFeed } from "../console/feed.js";
import { LiveFeed } from "../core/live.js";

async function main() {
  const user = await startPage("console");
  if (!user) return;
  await loadLabels();
  let board = null;
  const detail = new Detail($("#detail"), {
    user,
    cardFor: (id) => board?.get(id),
    onChanged: (order) => board.upsert(order),
  });
  const open = (id) => {
    board.select(id);
    detail.show(id);
  };
  board = new Board($("#board"), { onSelect: open });
  const intake = new Intake({ user, onCreated: (order) => { board.upsert(order); open(order.id); }, onOpen: open });

  const loadAll = async () => {
    const data = await get(`/api/console/v1/work-orders?state=${BOARD_STATES.join(",")}&limit=200`);
    board.replaceAll(data.items);
    const shown = detail.order && data.items.find((o) => o.id === detail.order.id);
    if (shown && shown.version !== detail.order.version) detail.show(shown.id);
    return data.items;
  };
  const live = new LiveFeed({});
  startCallBacks($("#callbacks"), { onPop: (phone) => intake.popCall(phone) });
  if (["supervisor", "admin"].includes(user.role)) startAgentsPanel($("#agents-panel"), live);
  startConsoleFeed({
    live,
    board, loadAll,
    onOrder: (order, { fromFeed } = {}) => {
      const before = board.get(order.id);
      board.upsert(order);
      if (fromFeed) detail.refreshIfChanged(before, order);
    },
  });
}

main();
