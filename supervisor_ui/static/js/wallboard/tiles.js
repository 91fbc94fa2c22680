// Queue tiles: waiting, longest wait (ticking locally from oldest_joined_at), service level with
// its definition, abandoned, ASA, AHT, each coloured by its threshold. A delta for one queue
// patches that tile's text and colours only.
import { serverNow } from "../core/api.js";
import { formatDuration, formatPercent, h, setAttr, setText } from "../core/dom.js";
import { t } from "../core/i18n.js";
import { level, worst } from "../core/thresholds.js";
import { everySecond } from "../core/ticker.js";

const METRICS = [
  ["waiting", "wb.m.waiting"],
  ["longest_wait_s", "wb.m.longest"],
  ["service_level", "wb.m.sl"],
  ["abandoned", "wb.m.abandoned"],
  ["asa_s", "wb.m.asa"],
  ["aht_s", "wb.m.aht"],
];

export class Tiles {
  constructor(root) {
    this.root = root;
    this.tiles = new Map(); // code -> {el, cells, tile}
    this.window = "today";
    everySecond(() => this.tickLongest());
  }

  setWindow(window) {
    this.window = window;
    for (const [code, item] of this.tiles) this.fill(code, item.tile);
  }

  render(state) {
    const codes = Object.keys(state.queues || {});
    for (const code of [...this.tiles.keys()]) if (code !== "*totals*" && !codes.includes(code)) this.drop(code);
    for (const code of codes) this.fill(code, state.queues[code]);
    if (state.totals) this.fill("*totals*", { ...state.totals, name: t("wb.totals") });
  }

  patch(state, ops) {
    for (const op of ops) {
      if (op.path?.[0] === "queues" && op.path.length === 2) {
        if (op.delete) this.drop(op.path[1]);
        else this.fill(op.path[1], state.queues[op.path[1]]);
      } else if (op.path?.[0] === "totals") {
        this.fill("*totals*", { ...state.totals, name: t("wb.totals") });
      } else if (op.path?.[0] === "queues" && op.path.length > 2) {
        this.fill(op.path[1], state.queues[op.path[1]]);
      }
    }
  }

  refreshLevels() {
    for (const [code, item] of this.tiles) this.fill(code, item.tile);
  }

  drop(code) {
    this.tiles.get(code)?.el.remove();
    this.tiles.delete(code);
  }

  build(code) {
    const cells = {};
    const metrics = h("div", { class: "metrics" });
    for (const [metric, label] of METRICS) {
      const value = h("div", { class: "metric-value" });
      const sub = h("div", { class: "metric-sub" });
      const cell = h("div", { class: "metric", "data-metric": metric }, h("div", { class: "metric-label", text: t(label) }), value, sub);
      cells[metric] = { cell, value, sub };
      metrics.append(cell);
    }
    const name = h("span", { class: "tile-name" });
    const slDef = h("span", { class: "tile-sl-def" });
    const el = h("article", { class: "tile", "data-queue": code, "aria-label": code }, h("div", { class: "tile-head" }, name, slDef), metrics);
    const item = { el, cells, name, slDef, tile: null };
    this.tiles.set(code, item);
    // totals last, queues in the order they arrive (the server's order)
    const totals = this.tiles.get("*totals*");
    this.root.insertBefore(el, code === "*totals*" || !totals ? null : totals.el);
    return item;
  }

  fill(code, tile) {
    if (!tile) return;
    const item = this.tiles.get(code) || this.build(code);
    item.tile = tile;
    const stats = tile.windows?.[this.window] || {};
    const queue = code === "*totals*" ? "*" : code;
    setText(item.name, tile.name || code);
    setAttr(item.el, "aria-label", tile.name || code);
    setText(item.slDef, tile.sl?.label ? `SL = ${tile.sl.label}` : "");
    setAttr(item.slDef, "title", tile.sl?.label || null);
    const values = {
      waiting: tile.waiting ?? 0,
      service_level: stats.sl_pct ?? null,
      abandoned: stats.abandoned ?? 0,
      asa_s: stats.asa_s ?? null,
      aht_s: stats.aht_s ?? null,
    };
    const { cells } = item;
    setText(cells.waiting.value, values.waiting);
    setText(cells.waiting.sub, t("wb.available", { n: tile.agents?.available ?? 0 }));
    setText(cells.service_level.value, formatPercent(values.service_level));
    setText(cells.service_level.sub, t("wb.answered", { n: stats.answered ?? 0, offered: stats.offered ?? 0 }));
    setText(cells.abandoned.value, values.abandoned);
    setText(cells.abandoned.sub, stats.abandon_rate_pct === null || stats.abandon_rate_pct === undefined ? "" : formatPercent(stats.abandon_rate_pct));
    setText(cells.asa_s.value, values.asa_s === null ? "–" : formatDuration(values.asa_s));
    setText(cells.aht_s.value, values.aht_s === null ? "–" : formatDuration(values.aht_s));
    setText(cells.asa_s.sub, "");
    setText(cells.aht_s.sub, "");
    const levels = {
      waiting: level(queue, "waiting", values.waiting),
      service_level: level(queue, "service_level", values.service_level),
      abandoned: worst([level(queue, "abandoned", values.abandoned), level(queue, "abandon_rate", stats.abandon_rate_pct)]),
      asa_s: level(queue, "asa_s", values.asa_s),
      aht_s: level(queue, "aht_s", values.aht_s),
    };
    // A metric with nothing measured yet is neutral, not green: the board never claims "all good".
    const measured = { ...values, abandoned: stats.offered ? values.abandoned : null, waiting: values.waiting };
    for (const [metric, value] of Object.entries(levels)) {
      setAttr(cells[metric].cell, "data-level", measured[metric] === null ? "none" : value);
    }
    item.levels = levels;
    this.tickOne(item, serverNow());
  }

  tickOne(item, now) {
    const since = item.tile?.oldest_joined_at ? Date.parse(item.tile.oldest_joined_at) : null;
    const seconds = since ? Math.max(0, (now - since) / 1000) : null;
    const cell = item.cells.longest_wait_s;
    setText(cell.value, seconds === null ? "–" : formatDuration(seconds));
    const queue = item.el.dataset.queue === "*totals*" ? "*" : item.el.dataset.queue;
    const longest = level(queue, "longest_wait_s", seconds);
    setAttr(cell.cell, "data-level", seconds === null ? "none" : longest);
    setAttr(item.el, "data-level", worst([longest, ...Object.values(item.levels || {})]));
  }

  tickLongest() {
    const now = serverNow();
    for (const item of this.tiles.values()) if (item.tile) this.tickOne(item, now);
  }
}
