// Agent state changes go to the hub's agent-state HTTP routes (docs/telephony.md); the routes are
// named here only. The live feed then shows the new state (the PBX confirms it).
import { post } from "./api.js";

export const PAUSE_REASONS = ["break", "lunch", "training", "meeting", "after-call work", "coaching", "outbound", "other"];
const BASE = "/api/telephony/v1/agents";

/** An agent's own state: available, paused with a reason, or logged out of its queues. */
export const setMyState = (state, reason) => post(`${BASE}/me/state`, reason ? { state, reason } : { state });

/** Supervisor actions on a PBX agent (by the agent id of the `agents` channel). */
export const pauseAgent = (agentId, reason) => post(`${BASE}/${agentId}/pause`, { reason });
export const unpauseAgent = (agentId) => post(`${BASE}/${agentId}/unpause`, {});
export const logOutAgent = (agentId) => post(`${BASE}/${agentId}/logout`, {});
