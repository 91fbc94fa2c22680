// One timer for the whole page: elements that show a time in state (data-since) or a countdown
// (data-due) are updated locally once a second from the timestamps in the state: no server
// message is needed to make a clock move, and nothing else is re-rendered.
import { serverNow } from "./api.js";
import { formatDuration, setAttr, setText } from "./dom.js";

const watched = new Set();
const hooks = new Set();
let timer = null;

function tickOne(el, now) {
  if (el.dataset.since) {
    // A time in state is never negative, whatever the skew between this screen and the server.
    setText(el, formatDuration(Math.max(0, now - Number(el.dataset.since)) / 1000));
  } else if (el.dataset.due) {
    const left = (Number(el.dataset.due) - now) / 1000;
    setText(el, formatDuration(left));
    const start = Number(el.dataset.start || 0);
    const window = start ? (Number(el.dataset.due) - start) / 1000 : 0;
    const level = left <= 0 ? "red" : left <= Math.max(60, window * 0.2) ? "amber" : "green";
    setAttr(el, "data-level", level);
  }
}

export function tick() {
  const now = serverNow();
  for (const el of watched) {
    if (!el.isConnected) { watched.delete(el); continue; }
    tickOne(el, now);
  }
  for (const hook of hooks) hook(now);
}

/** Start ticking el: since = epoch ms the state was entered, or due (+ start) = a deadline. */
export function watch(el, { since, due, start } = {}) {
  if (since !== undefined && since !== null) el.dataset.since = String(since);
  else delete el.dataset.since;
  if (due !== undefined && due !== null) {
    el.dataset.due = String(due);
    if (start) el.dataset.start = String(start);
  } else delete el.dataset.due;
  watched.add(el);
  tickOne(el, serverNow());
  if (!timer) timer = setInterval(tick, 1000);
  return el;
}

/** Call fn(now) every second (e.g. to re-sort a list by remaining time). */
export function everySecond(fn) {
  hooks.add(fn);
  if (!timer) timer = setInterval(tick, 1000);
  return () => hooks.delete(fn);
}
