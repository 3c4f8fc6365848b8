/**
 * Brings up what the AI benchmark measures, on loopback, in a scratch directory: the bench
 * bundle (entry.mts: the Worker plus the check routes, built here with wrangler, never into
 * dist/) under raw workerd next to the local libSQL server (../servers.ts, queue producers bound
 * to a sink); tenant `ai-a` (leases on) with an owner, {@link ARTICLES} knowledge articles and
 * `users` check users plus {@link CHAT_USERS} chat users; tenant `ai-b` (leases off) with
 * `users` check users. Both tenants: quota 10^9 units a day per user, pool 10^10.
 */
import { join } from "node:path";
import { authHeaders, registerUsers, type Session, tokensOf, userIdOf } from "../auth-users";
import { createTenant, progress, startServers } from "../servers";
import { TENANT_CONFIG } from "../stack";
import { ARTICLES, article } from "./knowledge";

export const LEASED = "ai-a";
export const UNLEASED = "ai-b";
/** Users who chat and moderate (in `ai-a`), apart from the check users. */
export const CHAT_USERS = 20;
const AI = { quota: { units: 1_000_000_000 }, pool: { units: 10_000_000_000 } };
const OWNER = { email: "owner@ai-a.bench", password: "quiet harbour lantern maple 42" };

export interface User extends Session {
  userId: string;
}

export interface AiStack {
  workerOrigin: string;
  workerdLog: string;
  ownerToken: string;
  /** Check users per tenant (index 0: the serial and hot user). */
  users: Record<typeof LEASED | typeof UNLEASED, User[]>;
  chatUsers: User[];
}

async function login(origin: string, tenant: string, identifier: string, password: string): Promise<string> {
  const res = await fetch(`${origin}/v1/auth/login`, {
    method: "POST",
    headers: authHeaders(tenant),
    body: JSON.stringify({ identifier, password }),
    signal: AbortSignal.timeout(60_000),
  });
  return tokensOf(`login ${identifier}`, res.status, 200, await res.text()).accessToken;
}

async function register(origin: string, tenant: string, prefix: string, n: number): Promise<User[]> {
  const sessions = await registerUsers(
    origin,
    tenant,
    Array.from({ length: n }, (_, i) => `${prefix}-${i}`),
  );
  return sessions.map((s) => ({ ...s, userId: userIdOf(s.accessToken) }));
}

/** Writes the articles through `POST /v1/admin/ai/knowledge`, 8 at a time. */
async function writeArticles(origin: string, token: string): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < ARTICLES; i = next++) {
      const res = await fetch(`${origin}/v1/admin/ai/knowledge`, {
        method: "POST",
        headers: { "x-tenant": LEASED, authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(article(i)),
        signal: AbortSignal.timeout(60_000),
      });
      if (res.status !== 201) throw new Error(`POST /v1/admin/ai/knowledge: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

export async function startAiStack(root: string, scratch: string, bundle: string, users: number): Promise<AiStack> {
  const { workerOrigin, workerdLog, adminToken } = await startServers(root, scratch, bundle, undefined, {
    queueSink: true,
  });
  progress(`creating tenants '${LEASED}' (with an owner) and '${UNLEASED}' (ai.lease.enabled: false)`);
  await createTenant(workerOrigin, adminToken, {
    slug: LEASED,
    name: LEASED,
    config: { ...TENANT_CONFIG, ai: AI },
    owner: OWNER,
  });
  await createTenant(workerOrigin, adminToken, {
    slug: UNLEASED,
    name: UNLEASED,
    config: { ...TENANT_CONFIG, ai: { ...AI, lease: { enabled: false } } },
  });
  const ownerToken = await login(workerOrigin, LEASED, OWNER.email, OWNER.password);
  progress(`writing ${ARTICLES} knowledge articles`);
  await writeArticles(workerOrigin, ownerToken);
  progress(`registering ${users} + ${CHAT_USERS} users in '${LEASED}', ${users} in '${UNLEASED}' (PBKDF2 each)`);
  const a = await register(workerOrigin, LEASED, "checker", users);
  const chatUsers = await register(workerOrigin, LEASED, "chatter", CHAT_USERS);
  const b = await register(workerOrigin, UNLEASED, "checker", users);
  return { workerOrigin, workerdLog, ownerToken, users: { [LEASED]: a, [UNLEASED]: b }, chatUsers };
}
