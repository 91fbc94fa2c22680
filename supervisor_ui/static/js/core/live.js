// The live feed client (docs/realtime-protocol.md, version 1): one WebSocket, the token in the
// first frame, one state per channel (snapshot replaces, delta patches, stale seq dropped),
// reconnect with jittered exponential backoff and resume from the last (epoch, seq). When the
// socket has been down for STALE_AFTER_MS the page is marked stale, so no number on screen
// pretends to be live.
import { accessToken, goToLogin, refresh } from "./auth.js";
import { noteServerTime } from "./api.js";

export const STALE_AFTER_MS = 4000;
const MAX_NOTICES = 100;
const FATAL = new Set([4005, 4010, 1009, 4004]); // reconnecting would not help

/** The browser's reducer: apply patch operations to a channel state in place. */
export function applyOps(state, ops) {
  for (const op of ops) {
    if (op.notice) {
      (state.notices ||= []).push(op.notice);
      state.notices.splice(0, Math.max(0, state.notices.length - MAX_NOTICES));
      continue;
    }
    let node = state;
    for (const key of op.path.slice(0, -1)) node = (node[key] ||= {});
    const last = op.path[op.path.length - 1];
    if (op.delete) delete node[last];
    else node[last] = op.value;
  }
  return state;
}

/** Backoff before reconnect attempt n (0-based): 1 s doubling, ±50 % jitter, capped at 10 s
 * (the protocol allows 30 s; a wallboard should be back within seconds of the server, and a
 * refused connection costs a down server nothing). */
export const BACKOFF_CAP_MS = 10_000;
export function backoffMs(attempt, random = Math.random) {
  const base = Math.min(BACKOFF_CAP_MS, 1000 * 2 ** attempt);
  return Math.round(base * (0.5 + random()));
}

export class LiveFeed {
  constructor({ onStatus = () => {}, onHello = () => {}, url } = {}) {
    this.url = url || `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws?v=1`;
    this.onStatus = onStatus;
    this.onHello = onHello;
    this.channels = new Map(); // name -> {epoch, seq, state, listeners: Set, error}
    this.ws = null;
    this.attempt = 0;
    this.status = "connecting";
    this.staleTimer = null;
    this.watchdog = null;
    this.heartbeatMs = 25_000;
    this.stopped = false;
    this.hello = null;
    window.addEventListener("fieldline-token", (e) => this.send({ op: "auth", token: e.detail }));
    window.addEventListener("online", () => { if (!this.ws) this.connect(); });
  }

  /** listener(state, change): change = {snapshot: true} or {ops: [...]} or {error}. */
  subscribe(channel, listener) {
    let entry = this.channels.get(channel);
    if (!entry) {
      entry = { epoch: null, seq: -1, state: null, listeners: new Set(), error: null };
      this.channels.set(channel, entry);
      if (this.hello) this.sendSubscribe(channel, entry);
    }
    entry.listeners.add(listener);
    if (entry.state) listener(entry.state, { snapshot: true });
    return () => entry.listeners.delete(listener);
  }

  state(channel) { return this.channels.get(channel)?.state ?? null; }

  start() {
    this.stopped = false;
    this.connect();
    this.armStale();
    return this;
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.ws?.close(1000);
  }

  setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    this.onStatus(status);
  }

  armStale() {
    clearTimeout(this.staleTimer);
    this.staleTimer = setTimeout(() => { if (this.status !== "live") this.setStatus("stale"); }, STALE_AFTER_MS);
  }

  send(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }

  sendSubscribe(channel, entry) {
    const frame = { op: "subscribe", channel };
    if (entry.epoch !== null && entry.seq >= 0) frame.resume = { epoch: entry.epoch, seq: entry.seq };
    this.send(frame);
  }

  async connect() {
    if (this.stopped) return;
    clearTimeout(this.reconnectTimer);
    const token = await accessToken();
    if (!token) { goToLogin(); return; }
    if (this.status === "live") this.setStatus("connecting");
    const ws = new WebSocket(this.url);
    this.ws = ws;
    this.hello = null;
    ws.addEventListener("open", () => ws.send(JSON.stringify({ op: "auth", token })));
    ws.addEventListener("message", (event) => this.receive(event.data));
    ws.addEventListener("close", (event) => this.closed(ws, event.code));
  }

  closed(ws, code) {
    if (this.ws !== ws) return;
    this.ws = null;
    this.hello = null;
    clearTimeout(this.watchdog);
    if (this.stopped) return;
    if (this.status === "live") this.setStatus("connecting");
    this.armStale();
    if (FATAL.has(code)) { this.setStatus("offline"); return; }
    const retry = () => { this.reconnectTimer = setTimeout(() => this.connect(), backoffMs(this.attempt++)); };
    if (code === 4003 || code === 4002) refresh().then(retry, retry); // expired or revoked: fresh token first
    else retry();
  }

  resetWatchdog() {
    // Nothing at all for two heartbeats: the connection is dead even if the socket says otherwise.
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.ws?.close(4000), this.heartbeatMs * 2);
  }

  receive(raw) {
    let decoded;
    try { decoded = JSON.parse(raw); } catch { return; }
    this.resetWatchdog();
    for (const frame of Array.isArray(decoded) ? decoded : [decoded]) this.frame(frame);
  }

  frame(frame) {
    const entry = frame.channel ? this.channels.get(frame.channel) : null;
    switch (frame.op) {
      case "hello":
        this.hello = frame;
        this.attempt = 0;
        this.heartbeatMs = (frame.heartbeat_s || 25) * 1000;
        this.onHello(frame);
        for (const [channel, e] of this.channels) this.sendSubscribe(channel, e);
        // The server's clock at once (not at the first heartbeat, 25 s on): half the round trip
        // is added to the pong's stamp, so a screen's offset to the server is right to a few ms.
        this.pingSentAt = Date.now();
        this.send({ op: "ping", id: "clock" });
        this.setStatus("live");
        clearTimeout(this.staleTimer);
        break;
      case "snapshot":
        if (!entry) return;
        entry.epoch = frame.epoch;
        entry.seq = frame.seq;
        entry.state = frame.data;
        entry.error = null;
        entry.resyncing = false;
        for (const listener of entry.listeners) listener(entry.state, { snapshot: true });
        break;
      case "delta":
        if (!entry || !entry.state || entry.resyncing || frame.seq <= entry.seq) return;
        applyOps(entry.state, frame.data);
        entry.seq = frame.seq;
        for (const listener of entry.listeners) listener(entry.state, { ops: frame.data });
        break;
      case "resumed":
        if (entry) entry.epoch = frame.epoch;
        break;
      case "resync":
        // A snapshot follows; the old state stays on screen until it replaces it.
        if (entry) { entry.epoch = null; entry.seq = -1; entry.resyncing = true; }
        break;
      case "error":
        if (entry && frame.code !== "already-subscribed") {
          entry.error = frame;
          for (const listener of entry.listeners) listener(entry.state, { error: frame });
        }
        break;
      case "pong":
        if (frame.ts && frame.id === "clock" && this.pingSentAt) {
          noteServerTime(Date.parse(frame.ts) + (Date.now() - this.pingSentAt) / 2);
          this.pingSentAt = null;
          break;
        }
      // falls through: any other pong is stamped like a heartbeat
      case "heartbeat":
        if (frame.ts) noteServerTime(Date.parse(frame.ts));
        break;
      default:
        break;
    }
  }
}

/** Reflect the feed's status on the page: the indicator and body[data-conn] (CSS greys stale data). */
export function showStatus(indicator, t) {
  return (status) => {
    document.body.dataset.conn = status;
    if (!indicator) return;
    indicator.dataset.state = status;
    indicator.textContent = t(`conn.${status}`);
  };
}
