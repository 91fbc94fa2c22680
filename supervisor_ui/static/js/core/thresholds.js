// Red / amber / green for a queue metric: the same rule as backend/domain/thresholds.py (green
// below amber, amber from amber, red from red, in the metric's bad direction; no value is green).
// Thresholds are stored server-side per queue (GET /api/ui/v1/thresholds) so every TV agrees.
import { get } from "./api.js";

let metrics = new Map(); // name -> {unit, higher_is_worse, amber, red}
let own = new Map(); // "queue/metric" -> {amber, red}

export async function loadThresholds() {
  const data = await get("/api/ui/v1/thresholds");
  metrics = new Map(data.metrics.map((m) => [m.metric, m]));
  own = new Map(data.items.map((i) => [`${i.queue}/${i.metric}`, i]));
  return data;
}

export const metricSpecs = () => [...metrics.values()];

export function thresholdFor(queue, metric) {
  return own.get(`${queue}/${metric}`) || own.get(`*/${metric}`) || metrics.get(metric) || null;
}

export function level(queue, metric, value) {
  const spec = metrics.get(metric);
  const limit = thresholdFor(queue, metric);
  if (!spec || !limit || value === null || value === undefined || Number.isNaN(value)) return "green";
  if (spec.higher_is_worse) return value >= limit.red ? "red" : value >= limit.amber ? "amber" : "green";
  return value <= limit.red ? "red" : value <= limit.amber ? "amber" : "green";
}

export const worst = (levels) => (levels.includes("red") ? "red" : levels.includes("amber") ? "amber" : "green");
