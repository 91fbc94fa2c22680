// The signed-in session: tokens in memory and in sessionStorage (this tab only, never localStorage),
// refreshed before they expire; roles decide which page a person lands on and may open.

const KEY = "fieldline.session";
const REFRESH_AT = 0.8; // of the access token's lifetime
const channel = "BroadcastChannel" in window ? new BroadcastChannel("fieldline-auth") : null;

let session = null;
let refreshTimer = null;
let refreshing = null;

export const PAGE_ROLES = {
  console: ["agent", "supervisor", "admin"],
  wallboard: ["wallboard", "supervisor", "admin"],
  agent: ["agent", "supervisor", "admin"],
  reports: ["supervisor", "admin"],
  mobile: ["engineer", "service_manager"],
};

export function homeFor(role) {
  if (role === "wallboard") return "/wallboard";
  if (role === "engineer" || role === "service_manager") return "/mobile";
  if (role === "agent" || role === "supervisor" || role === "admin") return "/";
  return "/login";
}

function save(next) {
  session = next;
  try {
    if (next) sessionStorage.setItem(KEY, JSON.stringify(next));
    else sessionStorage.removeItem(KEY);
  } catch { /* private mode: memory only */ }
  schedule();
}

function restore() {
  if (session) return session;
  try {
    const raw = sessionStorage.getItem(KEY);
    session = raw ? JSON.parse(raw) : null;
  } catch { session = null; }
  return session;
}

function fromTokens(body) {
  return {
    access_token: body.access_token,
    refresh_token: body.refresh_token,
    expires_at: Date.now() + body.expires_in * 1000,
    lifetime_ms: body.expires_in * 1000,
    user: body.user,
  };
}

function schedule() {
  clearTimeout(refreshTimer);
  if (!session) return;
  const due = session.expires_at - session.lifetime_ms * (1 - REFRESH_AT) - Date.now();
  refreshTimer = setTimeout(() => { refresh().catch(() => {}); }, Math.max(due, 1000));
}

/** Tell this page's live socket about the new access token (it re-authenticates in place). */
function announce(next) {
  window.dispatchEvent(new CustomEvent("fieldline-token", { detail: next.access_token }));
}

export const currentUser = () => restore()?.user ?? null;

async function postJson(path, body, token) {
  const headers = { "Content-Type": "application/json", Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  return fetch(path, { method: "POST", headers, body: body ? JSON.stringify(body) : undefined,
                       credentials: "same-origin", cache: "no-store" });
}

export async function login(username, password) {
  const response = await postJson("/api/auth/login", { username, password });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(body?.error?.message || response.statusText);
    error.code = body?.error?.code || "login-failed";
    error.status = response.status;
    throw error;
  }
  save(fromTokens(body));
  return session.user;
}

/** One refresh at a time; the new pair is shared with this session's other tabs (a duplicated
 * tab holds the same refresh token, and presenting a spent one revokes the whole session). */
export function refresh() {
  if (refreshing) return refreshing;
  const current = restore();
  if (!current) return Promise.reject(new Error("not signed in"));
  refreshing = (async () => {
    const response = await postJson("/api/auth/refresh", { refresh_token: current.refresh_token });
    if (!response.ok) {
      save(null);
      throw new Error("session ended");
    }
    const next = fromTokens(await response.json());
    save(next);
    announce(next);
    channel?.postMessage({ type: "refreshed", old: current.refresh_token, session: next });
    return next;
  })().finally(() => { refreshing = null; });
  return refreshing;
}

channel?.addEventListener("message", (event) => {
  const message = event.data || {};
  const mine = restore();
  if (!mine) return;
  if (message.type === "refreshed" && message.old === mine.refresh_token) {
    save(message.session);
    announce(message.session);
  }
  if (message.type === "logged-out" && message.refresh_token === mine.refresh_token) {
    save(null);
    location.assign("/login");
  }
});

/** A valid access token (refreshed first when it is about to expire), or null when signed out. */
export async function accessToken() {
  const current = restore();
  if (!current) return null;
  if (current.expires_at - Date.now() < 30_000) {
    try { return (await refresh()).access_token; } catch { return null; }
  }
  if (!refreshTimer) schedule();
  return current.access_token;
}

let leaving = false;

/** Send the person to the login page (and back here afterwards), unless they are signing out. */
export function goToLogin() {
  if (!leaving) location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
}

export async function logout() {
  leaving = true;
  const current = restore();
  if (current) {
    try { await postJson("/api/auth/logout", null, current.access_token); } catch { /* signed out locally anyway */ }
    channel?.postMessage({ type: "logged-out", refresh_token: current.refresh_token });
  }
  save(null);
  location.assign("/login");
}

/** The signed-in user if their role may open this page; otherwise go where they belong. */
export function requirePage(page) {
  const user = currentUser();
  if (!user) {
    location.replace(`/login?next=${encodeURIComponent(location.pathname)}`);
    return null;
  }
  if (!PAGE_ROLES[page].includes(user.role)) {
    location.replace(homeFor(user.role));
    return null;
  }
  schedule();
  return user;
}

document.addEventListener("visibilitychange", () => {
  // Timers sleep in background tabs and on a TV's screen saver: catch up when visible again.
  if (document.visibilityState === "visible" && restore()) accessToken();
});
