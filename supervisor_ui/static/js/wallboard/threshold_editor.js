// Supervisors set amber / red per metric, for every queue (*) or one queue; saved server-side
// (PUT /api/ui/v1/thresholds/<queue>/<metric>) so every wallboard shows the same colours.
import { api } from "../core/api.js";
import { $, clear, h } from "../core/dom.js";
import { t } from "../core/i18n.js";
import { loadThresholds, metricSpecs, thresholdFor } from "../core/thresholds.js";

export function setUpThresholdEditor({ queues, onSaved }) {
  const dialog = $("#thresholds-dialog");
  const queueSelect = $("#thr-queue");
  const rows = $("#thr-rows");
  const error = $("#thr-error");
  const button = $("#wb-thresholds");
  button.hidden = false;

  const fillQueues = () => {
    clear(queueSelect);
    queueSelect.append(h("option", { value: "*", text: t("thr.all-queues") }));
    for (const q of queues()) queueSelect.append(h("option", { value: q.code, text: q.name }));
  };
  const fillRows = () => {
    clear(rows);
    const queue = queueSelect.value;
    for (const spec of metricSpecs()) {
      const current = thresholdFor(queue, spec.metric);
      const unit = t(`unit.${spec.unit}`);
      const amber = h("input", { type: "number", min: 0, step: "any", value: current.amber, id: `thr-${spec.metric}-amber`,
                                 "aria-label": `${t(`metric.${spec.metric}`)} ${t("thr.amber")}` });
      const red = h("input", { type: "number", min: 0, step: "any", value: current.red, id: `thr-${spec.metric}-red`,
                               "aria-label": `${t(`metric.${spec.metric}`)} ${t("thr.red")}` });
      const reset = h("button", { type: "button", class: "btn btn-small", text: t("common.reset"), onclick: async () => {
        await api(`/api/ui/v1/thresholds/${encodeURIComponent(queue)}/${spec.metric}`, { method: "DELETE" }).catch(() => {});
        await loadThresholds();
        fillRows();
        onSaved();
      } });
      rows.append(h("tr", { "data-metric": spec.metric, "data-amber": current.amber, "data-red": current.red },
        h("td", { text: `${t(`metric.${spec.metric}`)} (${unit})` }), h("td", {}, amber), h("td", {}, red), h("td", {}, reset)));
    }
  };
  button.addEventListener("click", () => {
    fillQueues();
    fillRows();
    error.hidden = true;
    dialog.showModal();
  });
  queueSelect.addEventListener("change", fillRows);
  $("#thr-close").addEventListener("click", () => dialog.close());
  $("#thr-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const queue = queueSelect.value;
    try {
      for (const row of rows.querySelectorAll("tr")) {
        const metric = row.dataset.metric;
        const amber = Number($(`#thr-${metric}-amber`).value);
        const red = Number($(`#thr-${metric}-red`).value);
        if (amber === Number(row.dataset.amber) && red === Number(row.dataset.red)) continue;
        await api(`/api/ui/v1/thresholds/${encodeURIComponent(queue)}/${metric}`, { method: "PUT", body: { amber, red } });
      }
      await loadThresholds();
      onSaved();
      dialog.close();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    }
  });
}
