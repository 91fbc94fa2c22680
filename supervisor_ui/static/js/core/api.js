// JSON over HTTP with the session's bearer token. Errors arrive as {"error": {code, message,
// details}} and are thrown as ApiError: pages show the message, never a stack trace.
import { accessToken, goToLogin, refresh } from "./auth.js";
import { t } from "./i18n.js";

export class ApiError extends Error {
  constructor(status, code, message, details = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

let serverOffsetMs = 0;
/** Server time minus this browser's time, from the Date header (to the second): countdowns to
 * deadlines stay right on a TV whose clock is off by minutes. */
export const serverNow = () => Date.now() + serverOffsetMs;
/** Learn the server's clock. An HTTP Date header has whole seconds (resolution 1000 ms): it only
 *  corrects an offset it proves wrong by more than its resolution, so it cannot undo a precise one. */
export function noteServerTime(ms, resolutionMs = 0) {
  if (!Number.isFinite(ms)) return;
  const offset = ms - Date.now();
  if (resolutionMs === 0 || offset > serverOffsetMs + resolutionMs || offset + resolutionMs < serverOffsetMs) {
    serverOffsetMs = resolutionMs === 0 ? offset : offset + resolutionMs / 2;
  }
}

async function send(path, { method = "GET", body, ifMatch, signal }, token) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (ifMatch !== undefined && ifMatch !== null) headers["If-Match"] = `"${ifMatch}"`;
  return fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body),
                       signal, cache: "no-store", credentials: "same-origin" });
}

export async function api(path, options = {}) {
  let response;
  try {
    response = await send(path, options, await accessToken());
    if (response.status === 401) {
      // The token may have expired while the tab slept: refresh once and try again.
      const next = await refresh().catch(() => null);
      if (!next) {
        goToLogin();
        throw new ApiError(401, "unauthenticated", t("error.session-ended"));
      }
      response = await send(path, options, next.access_token);
    }
  } catch (error) {
    if (error instanceof ApiError || error?.name === "AbortError") throw error;
    throw new ApiError(0, "network-error", t("error.network"));
  }
  const date = response.headers.get("Date");
  if (date) noteServerTime(Date.parse(date), 1000);
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!response.ok) {
    const error = data?.error;
    const code = error?.code || `http-${response.status}`;
    const translated = t(`error.${code}`);
    const message = translated !== `error.${code}` ? translated : error?.message || response.statusText;
    throw new ApiError(response.status, code, message, error?.details || {});
  }
  return { data, etag: response.headers.get("ETag"), status: response.status };
}

export const get = (path, options) => api(path, { ...options, method: "GET" }).then((r) => r.data);
export const post = (path, body, options) => api(path, { ...options, method: "POST", body: body ?? {} })
  .then((r) => r.data);
