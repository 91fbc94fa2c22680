// Tiny DOM helpers: build elements, patch text only when it changed (no full re-render).

export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

/** Set textContent only when it differs: a wallboard with 60 tiles touches only what moved. */
export function setText(el, value) {
  const text = value === null || value === undefined ? "" : String(value);
  if (el && el.textContent !== text) el.textContent = text;
}

export function setAttr(el, name, value) {
  if (!el) return;
  if (value === null || value === undefined || value === false) {
    if (el.hasAttribute(name)) el.removeAttribute(name);
  } else if (el.getAttribute(name) !== String(value)) {
    el.setAttribute(name, String(value));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/** 75 -> "1:15", 3725 -> "1:02:05"; negative durations are shown with a minus sign. */
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "–";
  const sign = seconds < 0 ? "-" : "";
  let s = Math.floor(Math.abs(seconds));
  const hours = Math.floor(s / 3600);
  s -= hours * 3600;
  const minutes = Math.floor(s / 60);
  s -= minutes * 60;
  const pad = (n) => String(n).padStart(2, "0");
  return hours ? `${sign}${hours}:${pad(minutes)}:${pad(s)}` : `${sign}${minutes}:${pad(s)}`;
}

export function formatPercent(value) {
  return value === null || value === undefined || Number.isNaN(value) ? "–" : `${Math.round(value)}%`;
}

export function formatDateTime(iso, lang) {
  if (!iso) return "–";
  const date = new Date(iso);
  return date.toLocaleString(lang === "zh-CN" ? "zh-CN" : "en-GB", {
    month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
  });
}

export function formatTime(iso, lang) {
  if (!iso) return "–";
  return new Date(iso).toLocaleTimeString(lang === "zh-CN" ? "zh-CN" : "en-GB", {
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
}
