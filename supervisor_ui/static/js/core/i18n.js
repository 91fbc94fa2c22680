// zh-CN / English strings: the user's remembered choice, else the language the server negotiated
// from the browser (Accept-Language, written into <html lang>). Strings live in /i18n/<lang>.json.

const STORAGE_KEY = "fieldline.lang";
const COOKIE = "fieldline-lang";
export const LANGUAGES = ["zh-CN", "en"];

let strings = {};
let current = "en";

export function chosenLanguage() {
  let stored = null;
  try { stored = localStorage.getItem(STORAGE_KEY); } catch { /* storage blocked: use the page's */ }
  if (LANGUAGES.includes(stored)) return stored;
  const fromPage = document.documentElement.lang;
  if (LANGUAGES.includes(fromPage)) return fromPage;
  return (navigator.language || "").toLowerCase().startsWith("zh") ? "zh-CN" : "en";
}

export async function loadStrings(lang = chosenLanguage()) {
  const response = await fetch(`/i18n/${lang}.json`, { credentials: "same-origin" });
  strings = response.ok ? await response.json() : {};
  current = lang;
  document.documentElement.lang = lang;
  return lang;
}

export const lang = () => current;

/** t("board.count", {n: 3}) -> "3 orders"; an unknown key shows itself, never blank. */
export function t(key, params) {
  let text = strings[key];
  if (text === undefined) return key;
  if (params) text = text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
  return text;
}

/** Fill [data-i18n] text and [data-i18n-<attr>] attributes under root. */
export function applyStrings(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const attr of ["title", "placeholder", "aria-label"]) {
    const data = `data-i18n-${attr}`;
    for (const el of root.querySelectorAll(`[${data}]`)) el.setAttribute(attr, t(el.getAttribute(data)));
  }
  const title = document.querySelector("title[data-i18n]");
  if (title) document.title = `${t(title.dataset.i18n)} · Fieldline`;
}

export function setLanguage(next) {
  if (!LANGUAGES.includes(next)) return;
  try { localStorage.setItem(STORAGE_KEY, next); } catch { /* remembered by the cookie anyway */ }
  document.cookie = `${COOKIE}=${next}; path=/; max-age=31536000; SameSite=Lax`;
  location.reload();
}

/** A <select> that switches the language (and remembers it). */
export function languageSwitch(select) {
  select.value = current;
  select.addEventListener("change", () => setLanguage(select.value));
}
