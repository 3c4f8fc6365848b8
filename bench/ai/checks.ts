/**
 * The quota check's targets and the checks after each round. Serial targets (one keep-alive
 * connection each, measure.ts's `latency`): `GET /__bare`, the chain `GET /v1/time` (tenant
 * resolution, no authentication), `GET /v1/auth/whoami` (the chain with authentication), and
 * `GET /v1/__bench/ai-check` on `ai-a` (leases on) and `ai-b` (leases off), user 0. Throughput
 * targets (load.ts): bare, chain, and the checks of both tenants over all users and over user 0.
 * After a round: every check user's `used` (read through `GET /v1/ai/quota`) equals the checks
 * the Worker granted it, nothing is still reserved, and each pool's `used` is the sum of its
 * tenant's users' (no unit granted twice, none lost).
 */
import type { Target } from "../measure";
import type { LoadTarget } from "./load";
import { type AiStack, LEASED, UNLEASED, type User } from "./stack";

export type SerialKey = "bare" | "chain" | "whoami" | "leased" | "unleased";
export const SERIAL: SerialKey[] = ["bare", "chain", "whoami", "leased", "unleased"];
export type LoadKey = "bare" | "chain" | "leasedMany" | "leasedHot" | "unleasedMany" | "unleasedHot";
export const LOADS: LoadKey[] = ["bare", "chain", "leasedMany", "leasedHot", "unleasedMany", "unleasedHot"];

export const CHECK_PATH = "/v1/__bench/ai-check";

export function serialTargets(s: AiStack): Record<SerialKey, Target> {
  const o = s.workerOrigin;
  const check = (tenant: string, name: string): Target => ({
    name,
    origin: o,
    method: "GET",
    path: CHECK_PATH,
    headers: { "x-tenant": tenant, "x-bench-user": s.users[tenant === LEASED ? LEASED : UNLEASED][0]!.userId },
    expect: { status: 200, bodyIncludes: '"u":' },
  });
  return {
    bare: { name: "bare", origin: o, method: "GET", path: "/__bare", headers: {}, expect: { status: 200 } },
    chain: {
      name: "chain",
      origin: o,
      method: "GET",
      path: "/v1/time",
      headers: { "x-tenant": LEASED },
      expect: { status: 200, bodyIncludes: '"now"' },
    },
    whoami: {
      name: "whoami",
      origin: o,
      method: "GET",
      path: "/v1/auth/whoami",
      headers: { "x-tenant": LEASED, authorization: `Bearer ${s.users[LEASED][0]!.accessToken}` },
      expect: { status: 200, bodyIncludes: '"kind":"user"' },
    },
    leased: check(LEASED, "check, leases on"),
    unleased: check(UNLEASED, "check, leases off"),
  };
}

export function loadTargets(s: AiStack): Record<LoadKey, LoadTarget> {
  const o = s.workerOrigin;
  const ids = (t: typeof LEASED | typeof UNLEASED) => s.users[t].map((u) => u.userId);
  const check = (tenant: typeof LEASED | typeof UNLEASED, users: string[]): LoadTarget => ({
    name: tenant,
    origin: o,
    path: CHECK_PATH,
    headers: { "x-tenant": tenant },
    users,
  });
  return {
    bare: { name: "bare", origin: o, path: "/__bare", headers: {} },
    chain: { name: "chain", origin: o, path: "/v1/time", headers: { "x-tenant": LEASED } },
    leasedMany: check(LEASED, ids(LEASED)),
    leasedHot: check(LEASED, ids(LEASED).slice(0, 1)),
    unleasedMany: check(UNLEASED, ids(UNLEASED)),
    unleasedHot: check(UNLEASED, ids(UNLEASED).slice(0, 1)),
  };
}

export interface CheckCounts {
  checks: number;
  userLeased: number;
  poolLeased: number;
  bothLeased: number;
}

export interface BenchState {
  counts: CheckCounts;
  leaseCounters: { hits: number; misses: number };
  granted: Record<string, number>;
  pool: { used: number; reserved: number } | null;
}

async function getJson<T>(origin: string, path: string, headers: Record<string, string>): Promise<T> {
  const res = await fetch(`${origin}${path}`, { headers, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

export const benchState = (s: AiStack, tenant: string): Promise<BenchState> =>
  getJson<BenchState>(s.workerOrigin, "/v1/__bench/ai-state", { "x-tenant": tenant });

interface Quota {
  used: number;
  reserved: number;
}

/** Every user's quota through `GET /v1/ai/quota`, 16 at a time. */
async function quotas(s: AiStack, tenant: string, users: User[]): Promise<Quota[]> {
  const out = new Array<Quota>(users.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < users.length; i = next++)
      out[i] = await getJson<Quota>(s.workerOrigin, "/v1/ai/quota", {
        "x-tenant": tenant,
        authorization: `Bearer ${users[i]!.accessToken}`,
      });
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return out;
}

/** Each pool's units before the first check (setup's own AI work, if any), to count from. */
export async function poolBaseline(s: AiStack): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of [LEASED, UNLEASED]) out[t] = (await benchState(s, t)).pool?.used ?? 0;
  return out;
}

/** Lets the open leases end (2 s, settled 0.5 s before), then compares objects and grants. */
export async function checkGrants(
  s: AiStack,
  poolBase: Record<string, number>,
): Promise<{ failures: string[]; users: number; granted: number }> {
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  const failures: string[] = [];
  let users = 0;
  let granted = 0;
  for (const tenant of [LEASED, UNLEASED] as const) {
    const state = await benchState(s, tenant);
    const list = s.users[tenant];
    const qs = await quotas(s, tenant, list);
    let sum = 0;
    const wrong: string[] = [];
    list.forEach((u, i) => {
      const g = state.granted[u.userId] ?? 0;
      sum += g;
      const q = qs[i]!;
      if (q.used !== g || q.reserved !== 0)
        wrong.push(`${u.username}: used ${q.used}, reserved ${q.reserved}, granted ${g}`);
    });
    if (wrong.length > 0)
      failures.push(`${tenant}: ${wrong.length} users differ, e.g. ${wrong.slice(0, 3).join("; ")}`);
    // The chat users' units (chat, moderation) also count in ai-a's pool.
    const others =
      (poolBase[tenant] ?? 0) +
      (tenant === LEASED ? (await quotas(s, tenant, s.chatUsers)).reduce((a, q) => a + q.used + q.reserved, 0) : 0);
    if (!state.pool) failures.push(`${tenant}: no pool`);
    else if (state.pool.used !== sum + others || state.pool.reserved !== 0)
      failures.push(`${tenant} pool: used ${state.pool.used}, reserved ${state.pool.reserved}, users' ${sum + others}`);
    users += list.length;
    granted += sum;
  }
  return { failures, users, granted };
}
