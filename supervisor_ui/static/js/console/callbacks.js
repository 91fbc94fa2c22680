// Abandoned callers still to call back today (GET /api/ui/v1/call-backs, from the call ledger):
// refreshed every 30 s; "Pop" looks the number up like an incoming call.
import { get } from "../core/api.js";
import { clear, formatDuration, formatTime, h } from "../core/dom.js";
import { lang, t } from "../core/i18n.js";
import { queueName } from "../core/labels.js";

const REFRESH_MS = 30_000;

export function startCallBacks(root, { onPop }) {
  const render = (items) => {
    clear(root);
    if (!items.length) {
      root.append(h("p", { class: "muted", text: t("callbacks.none") }));
      return;
    }
    root.append(h("table", { class: "table" },
      h("thead", {}, h("tr", {}, ...["callbacks.caller", "callbacks.queue", "callbacks.at", "callbacks.waited", "callbacks.attempts", ""]
        .map((k) => h("th", { scope: "col", text: k ? t(k) : "" })))),
      h("tbody", {}, ...items.map((c) => h("tr", { "data-caller": c.caller },
        h("td", { class: "num", text: c.caller }), h("td", { text: queueName(c.queue) }),
        h("td", { text: formatTime(c.abandoned_at, lang()) }),
        h("td", { class: "num", text: c.waited_s === null ? "–" : formatDuration(c.waited_s) }),
        h("td", { class: "num", text: c.attempts }),
        h("td", {}, h("button", { type: "button", class: "btn btn-small", text: t("callbacks.pop"), onclick: () => onPop(c.caller) })))))));
  };
  const load = async () => {
    try {
      render((await get("/api/ui/v1/call-backs")).items);
    } catch (error) {
      clear(root);
      root.append(h("p", { class: "muted", text: error.message }));
    }
  };
  load();
  setInterval(load, REFRESH_MS);
  return load;
}
