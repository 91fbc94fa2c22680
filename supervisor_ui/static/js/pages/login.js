// Login: sign in, then go to the page the role belongs on (or back to where the person came from).
import { currentUser, homeFor, login, PAGE_ROLES } from "../core/auth.js";
import { $ } from "../core/dom.js";
import { applyStrings, languageSwitch, loadStrings, t } from "../core/i18n.js";

function destination(user) {
  const next = new URLSearchParams(location.search).get("next") || "";
  const pages = { "/": "console", "/wallboard": "wallboard", "/agent": "agent", "/reports": "reports" };
  const page = pages[next];
  return page && PAGE_ROLES[page].includes(user.role) ? next : homeFor(user.role);
}

async function main() {
  await loadStrings();
  applyStrings();
  languageSwitch($("#lang-switch"));
  const already = currentUser();
  if (already) {
    location.replace(destination(already));
    return;
  }
  const form = $("#login-form");
  const error = $("#login-error");
  const submit = $("#login-submit");
  document.body.dataset.ready = "true";
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const username = $("#username").value.trim();
    const password = $("#password").value;
    if (!username || !password) {
      error.textContent = t("login.missing");
      error.hidden = false;
      return;
    }
    submit.disabled = true;
    error.hidden = true;
    try {
      const user = await login(username, password);
      location.assign(destination(user));
    } catch (err) {
      const key = `error.${err.code}`;
      error.textContent = t(key) !== key ? t(key) : err.message || t("error.network");
      error.hidden = false;
      $("#password").select();
    } finally {
      submit.disabled = false;
    }
  });
  submit.disabled = false; // ready: the form is handled here, never submitted by the browser
}

main();
