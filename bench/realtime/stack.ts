/**
 * What the realtime benchmark runs against, all on loopback: the libSQL server and one workerd
 * process serving both the built bundle and the bare Durable Object (bare-worker.ts, a second
 * service); the `realtime` tenant; its users, registered once (each registration hashes a password, ~30/s
 * here) and reused by every test; direct conversations between friend pairs; the fan-out groups.
 */
import { readFileSync } from "node:fs";
import ts from "typescript";
import { registerUsers, userIdOf } from "../auth-users";
import { postJson, progress, startServers, type Servers } from "../servers";

export const TENANT = "realtime";
/**
 * No 429s under load (the largest API rate), tokens that outlive the run, groups of 5,000
 * and more (the default limit is 500).
 */
const TENANT_CONFIG = {
  limits: { requestsPerMinute: 1_000_000, maxGroupMembers: 10_000 },
  session: { accessTokenTtlSeconds: 86_400 },
};

export interface RtUser {
  username: string;
  userId: string;
  accessToken: string;
}

export interface Pair {
  a: RtUser;
  b: RtUser;
  conversationId: string;
}

export interface Group {
  id: string;
  /** The owner first. */
  members: RtUser[];
}

export interface RealtimeStack {
  servers: Servers;
  /** ws:// URL of Canopy's `GET /v1/realtime`. */
  canopyUrl: string;
  /** ws:// origin of the bare Worker (`/echo/<room>`, `/broadcast/<room>`). */
  bareUrl: string;
  users: RtUser[];
  pairs: Pair[];
  /** Fan-out groups by member count (owner included). */
  groups: Map<number, Group>;
  /** The large group of whom only the first `online` members (users 0 … online − 1) get sockets. */
  sparse: (Group & { online: number }) | null;
}

/** The bare Worker as the ES module workerd loads (transpiled from bare-worker.ts). */
function bareModule(): string {
  const source = readFileSync(new URL("./bare-worker.ts", import.meta.url), "utf8");
  const out = ts.transpileModule(source, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022 },
  });
  return out.outputText;
}

/** Headers of a user's WebSocket upgrade and API calls. */
export function userHeaders(u: RtUser): Record<string, string> {
  return { authorization: `Bearer ${u.accessToken}`, "x-tenant": TENANT };
}

/** An API call as `u`; throws unless the status is `expected`; answers the parsed body (or null). */
export async function api(
  origin: string,
  u: RtUser,
  method: string,
  path: string,
  body: unknown,
  expected: number,
): Promise<unknown> {
  const res = await fetch(`${origin}${path}`, {
    method,
    headers: { ...userHeaders(u), ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  if (res.status !== expected)
    throw new Error(
      `${method} ${path} as ${u.username}: expected ${expected}, got ${res.status} ${text.slice(0, 300)}`,
    );
  return text ? (JSON.parse(text) as unknown) : null;
}

function idOf(v: unknown): string {
  if (typeof v !== "object" || v === null || !("id" in v) || typeof v.id !== "string")
    throw new Error(`expected an id in ${JSON.stringify(v).slice(0, 200)}`);
  return v.id;
}

/** Creates a group owned by `members[0]`. */
export async function createGroup(origin: string, members: RtUser[], name: string): Promise<Group> {
  const [owner, ...rest] = members;
  if (!owner) throw new Error("a group needs an owner");
  const created = await api(
    origin,
    owner,
    "POST",
    "/v1/conversations",
    { type: "group", name, memberIds: rest.map((u) => u.userId) },
    201,
  );
  return { id: idOf(created), members };
}

/** Makes a and b friends (request, accept) and opens their direct conversation. */
async function pairUp(origin: string, a: RtUser, b: RtUser): Promise<Pair> {
  const request = await api(origin, a, "POST", "/v1/friends/requests", { toUserId: b.userId }, 201);
  await api(origin, b, "POST", `/v1/friends/requests/${idOf(request)}/accept`, undefined, 204);
  const direct = await api(origin, a, "POST", "/v1/conversations", { type: "direct", userId: b.userId }, 201);
  return { a, b, conversationId: idOf(direct) };
}

export interface StackOptions {
  users: number;
  pairs: number;
  groupSizes: number[];
  /** A group of `members`: users 0 … online − 1, then users from `offlineFrom` on (who never connect). */
  sparse: { members: number; online: number; offlineFrom: number } | null;
}

export async function startRealtimeStack(
  root: string,
  scratch: string,
  bundle: string,
  o: StackOptions,
): Promise<RealtimeStack> {
  const servers = await startServers(root, scratch, bundle, {
    source: bareModule(),
    moduleName: "bare.js",
    durableObjects: [
      { binding: "ROOM", className: "BareRoom" },
      { binding: "HUB", className: "BareHub" },
      { binding: "LOG", className: "BareLog" },
    ],
    queueSink: true,
  });
  if (!servers.extraOrigin) throw new Error("the bare Worker has no origin");
  const origin = servers.workerOrigin;
  progress(`creating tenant '${TENANT}' through the admin API`);
  await postJson(
    `${origin}/admin/v1/tenants`,
    servers.adminToken,
    { slug: TENANT, name: "Realtime bench", config: TENANT_CONFIG },
    201,
  );

  progress(`registering ${o.users} users (PBKDF2 per registration)`);
  const t0 = Date.now();
  const names = Array.from({ length: o.users }, (_, i) => `rt-${i + 1}`);
  const sessions = await registerUsers(origin, TENANT, names);
  const users = sessions.map((s) => ({
    username: s.username,
    userId: userIdOf(s.accessToken),
    accessToken: s.accessToken,
  }));
  progress(`registered ${users.length} users in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const pairs: Pair[] = [];
  for (let i = 0; i < o.pairs; i++) pairs.push(await pairUp(origin, users[2 * i]!, users[2 * i + 1]!));
  const groups = new Map<number, Group>();
  for (const size of o.groupSizes) {
    if (size > users.length) throw new Error(`a group of ${size} needs ${size} users; --users is ${users.length}`);
    groups.set(size, await createGroup(origin, users.slice(0, size), `fan-out ${size}`));
  }
  let sparse: RealtimeStack["sparse"] = null;
  if (o.sparse) {
    const { members, online, offlineFrom } = o.sparse;
    const offline = users.slice(offlineFrom, offlineFrom + members - online);
    if (offline.length < members - online)
      throw new Error(`the sparse group needs ${offlineFrom + members - online} users`);
    // Created with the online members, then the rest added in pages (a request body stays small).
    const g = await createGroup(origin, users.slice(0, online), `sparse ${members}`);
    for (let i = 0; i < offline.length; i += 500)
      await api(
        origin,
        users[0]!,
        "POST",
        `/v1/conversations/${g.id}/members`,
        { userIds: offline.slice(i, i + 500).map((u) => u.userId) },
        200,
      );
    sparse = { id: g.id, members: [...g.members, ...offline], online };
  }
  progress(
    `${pairs.length} direct conversations and groups of ${o.groupSizes.join(", ")}${sparse ? `, ${sparse.members.length} (${sparse.online} online)` : ""} created`,
  );
  return {
    servers,
    canopyUrl: `${origin.replace(/^http/, "ws")}/v1/realtime`,
    bareUrl: servers.extraOrigin.replace(/^http/, "ws"),
    users,
    pairs,
    groups,
    sparse,
  };
}
