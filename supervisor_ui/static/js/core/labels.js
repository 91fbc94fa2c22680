// Names for the ids in work orders, agents and queues (GET /api/ui/v1/directory), loaded once.
import { get } from "./api.js";

let directory = { engineers: [], agents: [], providers: [], regions: [], queues: [] };
const index = { engineers: new Map(), agents: new Map(), providers: new Map(), regions: new Map(), queues: new Map() };

export async function loadLabels() {
  try {
    directory = await get("/api/ui/v1/directory");
  } catch {
    return directory; // names are a nicety: ids still show
  }
  for (const key of ["engineers", "agents", "providers", "regions"]) {
    index[key] = new Map(directory[key].map((item) => [item.id, item]));
  }
  index.queues = new Map(directory.queues.map((q) => [q.code, q]));
  return directory;
}

export const engineers = () => directory.engineers;
export const providers = () => directory.providers;
export const queues = () => directory.queues;
export const engineerName = (id) => (id ? index.engineers.get(id)?.name ?? `#${id}` : "");
export const providerName = (id) => (id ? index.providers.get(id)?.name ?? `#${id}` : "");
export const regionName = (id) => (id ? index.regions.get(id)?.name ?? `#${id}` : "");
export const queueName = (code) => index.queues.get(code)?.name ?? code;
