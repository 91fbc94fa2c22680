// Reports (supervisors): intraday offered / answered / abandoned per 15 minutes (the call ledger,
// GET /api/ui/v1/intraday-calls), and the SLA engine's report jobs (POST /api/console/v1/reports/jobs,
// progress, JSON, CSV / XLSX): providers and engineers, fault structure, follow-up satisfaction,
// the complaint register. Charts by Chart.js (vendored from npm); every table downloadable.
import { api, get, post } from "../core/api.js";
import { accessToken } from "../core/auth.js";
import { startPage } from "../core/chrome.js";
import { $, clear, formatDateTime, h } from "../core/dom.js";
import { lang, t } from "../core/i18n.js";

const JOBS = "/api/console/v1/reports/jobs";
const JOB_REPORTS = ["providers", "engineers", "fault_structure", "complaints"];
const POLL_MS = 500;
const COLORS = { offered: "#1d4ed8", answered: "#15803d", abandoned: "#b91c1c", grey: "#64748b" };
const charts = new Map();
let run = 0;

const label = (key) => {
  const text = t(`col.${key}`);
  return text === `col.${key}` ? key.replace(/_/g, " ") : text;
};
const section = (name) => $(`[data-report="${name}"]`);

function chart(id, config) {
  charts.get(id)?.destroy();
  charts.delete(id);
  if (!window.Chart || !$(`#${id}`)) return;
  charts.set(id, new window.Chart($(`#${id}`), {
    ...config, options: { responsive: true, maintainAspectRatio: false, animation: false, ...config.options },
  }));
}

function showEmpty(name, empty, message) {
  const box = section(name);
  const p = box.querySelector(".empty");
  p.hidden = !empty;
  if (message) p.textContent = message;
  box.querySelector(".chart-box")?.toggleAttribute("hidden", empty);
  if (empty) {
    const table = box.querySelector(".table-box");
    if (table) clear(table);
  }
}

function table(name, columns, rows) {
  const box = section(name).querySelector(".table-box");
  clear(box);
  box.append(h("table", { class: "table" },
    h("thead", {}, h("tr", {}, ...columns.map((c) => h("th", { scope: "col", text: label(c) })))),
    h("tbody", {}, ...rows.map((r) => h("tr", {}, ...r.map((v) => h("td", { class: typeof v === "number" ? "num" : null,
                                                                             text: v === null || v === undefined ? "" : String(v) })))))));
}

function csvBlob(columns, rows) {
  const cell = (v) => {
    const s = v === null || v === undefined ? "" : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const text = [columns.map(label), ...rows].map((r) => r.map(cell).join(",")).join("\r\n");
  return new Blob(["\ufeff", text], { type: "text/csv;charset=utf-8" }); // BOM: spreadsheets read UTF-8
}

/** A download button; fetch with the bearer token (a plain link cannot carry it). */
function downloadButton(text, filename, fetchBlob) {
  return h("button", { type: "button", class: "btn btn-small", text, onclick: async () => {
    const blob = await fetchBlob();
    const url = URL.createObjectURL(blob);
    const a = h("a", { href: url, download: filename });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } });
}

async function serverFile(jobId, format) {
  const response = await fetch(`${JOBS}/${jobId}/download?format=${format}`, {
    headers: { Authorization: `Bearer ${await accessToken()}` }, cache: "no-store",
  });
  if (!response.ok) throw new Error(response.statusText);
  return response.blob();
}

async function intraday(day, ticket) {
  const name = "intraday";
  let data;
  try {
    data = await get(`/api/ui/v1/intraday-calls?day=${day}`);
  } catch (error) {
    showEmpty(name, true, error.message);
    return;
  }
  if (ticket !== run) return;
  const rows = data.items;
  const any = rows.some((r) => r.offered);
  showEmpty(name, !any, t("common.no-data"));
  const downloads = section(name).querySelector(".downloads");
  clear(downloads);
  if (!any) return;
  const when = (iso) => new Date(iso).toLocaleTimeString(lang() === "zh-CN" ? "zh-CN" : "en-GB", { hour: "2-digit", minute: "2-digit" });
  chart("intraday-chart", {
    type: "bar",
    data: {
      labels: rows.map((r) => when(r.start)),
      datasets: [
        { type: "line", label: label("offered"), data: rows.map((r) => r.offered), borderColor: COLORS.offered, backgroundColor: COLORS.offered, pointRadius: 0 },
        { label: label("answered"), data: rows.map((r) => r.answered), backgroundColor: COLORS.answered, stack: "calls" },
        { label: label("abandoned"), data: rows.map((r) => r.abandoned), backgroundColor: COLORS.abandoned, stack: "calls" },
      ],
    },
    options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
  });
  const columns = ["start", "offered", "answered", "abandoned"];
  const table = rows.map((r) => [r.start, r.offered, r.answered, r.abandoned]);
  downloads.append(downloadButton("CSV", `intraday-${day}.csv`, async () => csvBlob(columns, table)));
}

/** Start a report job, follow its progress, return {job, columns, rows, totals, chart}. */
async function reportJob(name, period, ticket) {
  const progress = section(name).querySelector(".progress");
  let job = await post(JOBS, { report: name, period });
  while (job.state !== "done" && job.state !== "failed") {
    if (ticket !== run) return null;
    progress.textContent = t("rep.progress", { n: job.progress ?? 0 });
    await new Promise((resolve) => { setTimeout(resolve, POLL_MS); });
    job = (await api(`${JOBS}/${job.id}`)).data;
  }
  progress.textContent = "";
  if (job.state === "failed") throw new Error(job.error || t("rep.failed"));
  return get(`${JOBS}/${job.id}/data`);
}

function renderJob(name, data, period) {
  const rows = data.rows || [];
  showEmpty(name, !rows.length, t("common.no-data"));
  const downloads = section(name).querySelector(".downloads");
  clear(downloads);
  if (!rows.length) return;
  const language = lang();
  const shown = rows.map((r) => r.map((v, i) => (/_at$/.test(data.columns[i]) && v ? formatDateTime(v, language) : v)));
  table(name, data.columns, shown);
  downloads.append(downloadButton("CSV", `${name}-${period}.csv`, () => serverFile(data.job.id, "csv")), " ",
    downloadButton("XLSX", `${name}-${period}.xlsx`, () => serverFile(data.job.id, "xlsx")));
  if (name === "providers") {
    chart("providers-chart", {
      type: "bar",
      data: { labels: data.chart.labels, datasets: [
        { label: label("volume"), data: data.chart.series.volume, backgroundColor: COLORS.offered, yAxisID: "y" },
        { type: "line", label: label("on_time_pct"), data: data.chart.series.on_time_pct, borderColor: COLORS.answered, backgroundColor: COLORS.answered, yAxisID: "pct" },
      ] },
      options: { scales: { y: { beginAtZero: true }, pct: { position: "right", min: 0, max: 100 } } },
    });
  }
  if (name === "fault_structure") {
    const bars = [];
    for (const [model, m] of Object.entries(data.chart.models || {})) {
      m.parts.forEach((part, i) => bars.push({ label: `${model} · ${part || "–"}`, share: m.shares[i], flagged: m.flagged[i] }));
    }
    bars.sort((a, b) => b.share - a.share);
    const top = bars.slice(0, 12);
    chart("fault_structure-chart", {
      type: "bar",
      data: { labels: top.map((b) => b.label), datasets: [{ label: label("share_pct"), data: top.map((b) => b.share),
        backgroundColor: top.map((b) => (b.flagged ? COLORS.abandoned : COLORS.offered)) }] },
      options: { indexAxis: "y", plugins: { legend: { display: false } } },
    });
  }
}

function satisfaction(results) {
  const series = [];
  for (const name of ["providers", "engineers"]) {
    const chartData = results[name]?.chart;
    if (!chartData) continue;
    chartData.labels.forEach((who, i) => {
      const value = chartData.series.avg_satisfaction[i];
      if (value !== null && value !== undefined) series.push({ who, value });
    });
  }
  showEmpty("satisfaction", !series.length, t("common.no-data"));
  if (!series.length) return;
  chart("satisfaction-chart", {
    type: "bar",
    data: { labels: series.map((s) => s.who), datasets: [{ label: label("avg_satisfaction"), data: series.map((s) => s.value), backgroundColor: COLORS.answered }] },
    options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { min: 0, max: 5 } } },
  });
}

async function refresh() {
  const ticket = ++run;
  const day = $("#rep-day").value;
  const period = $("#rep-scope").value === "day" ? day : $("#rep-month").value;
  const results = {};
  await Promise.all([
    intraday(day, ticket),
    ...JOB_REPORTS.map(async (name) => {
      try {
        const data = await reportJob(name, period, ticket);
        if (!data || ticket !== run) return;
        results[name] = data;
        renderJob(name, data, period);
      } catch (error) {
        showEmpty(name, true, error.status === 404 ? t("common.no-data") : error.message);
      }
    }),
  ]);
  if (ticket === run) satisfaction(results);
}

async function main() {
  const user = await startPage("reports");
  if (!user) return;
  $("#conn").hidden = true;
  const today = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  $("#rep-day").value = `${today.getFullYear()}-${pad(today.getMonth() + 1)}-${pad(today.getDate())}`;
  $("#rep-month").value = `${today.getFullYear()}-${pad(today.getMonth() + 1)}`;
  $("#report-filter").addEventListener("submit", (e) => { e.preventDefault(); refresh(); });
  await refresh();
  document.body.dataset.loaded = "true";
}

main();
