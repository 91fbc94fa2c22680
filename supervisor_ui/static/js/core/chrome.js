// The frame shared by the signed-in pages: strings, role check, navigation for the role, the
// language switch, sign-out, and one polite live region for messages.
import { logout, PAGE_ROLES, requirePage } from "./auth.js";
import { $, h } from "./dom.js";
import { applyStrings, languageSwitch, loadStrings, t } from "./i18n.js";

const NAV = [
  ["console", "/", "nav.console"],
  ["agent", "/agent", "nav.agent"],
  ["wallboard", "/wallboard", "nav.wallboard"],
  ["reports", "/reports", "nav.reports"],
];

export async function startPage(page) {
  await loadStrings();
  applyStrings();
  const user = requirePage(page);
  if (!user) return null;
  const nav = $("#nav");
  if (nav) {
    for (const [name, href, label] of NAV) {
      if (!PAGE_ROLES[name].includes(user.role)) continue;
      if (name === "agent" && user.role !== "agent") continue; // supervisors act on agents from the console
      nav.append(h("a", { href, class: "nav-link", "aria-current": name === page ? "page" : null, text: t(label) }));
    }
  }
  const who = $("#user-name");
  if (who) who.textContent = user.display_name;
  const lang = $("#lang-switch");
  if (lang) languageSwitch(lang);
  $("#logout")?.addEventListener("click", logout);
  document.body.dataset.role = user.role;
  document.body.dataset.ready = "true"; // the frame's controls work from here on
  return user;
}

/** A short message in the live region (errors stay until dismissed, others fade). */
export function notify(message, kind = "info") {
  const region = $("#toasts");
  if (!region) return;
  const close = h("button", { type: "button", class: "toast-close", "aria-label": t("common.dismiss"), text: "×" });
  const toast = h("div", { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : null },
    h("span", { text: message }), close);
  close.addEventListener("click", () => toast.remove());
  region.append(toast);
  if (kind !== "error") setTimeout(() => toast.remove(), 5000);
}

/** Run an action, showing the server's message on failure; returns the result or undefined. */
export async function attempt(action, successMessage) {
  try {
    const result = await action();
    if (successMessage) notify(successMessage, "ok");
    return result;
  } catch (error) {
    notify(error.message || t("error.network"), "error");
    return undefined;
  }
}
