// Engineers and service managers: a polite pointer to the mobile app.
import { logout, requirePage } from "../core/auth.js";
import { $ } from "../core/dom.js";
import { applyStrings, loadStrings } from "../core/i18n.js";

async function main() {
  await loadStrings();
  applyStrings();
  const user = requirePage("mobile");
  if (!user) return;
  $("#who").textContent = user.display_name;
  $("#logout").addEventListener("click", logout);
  document.body.dataset.ready = "true";
}

main();
