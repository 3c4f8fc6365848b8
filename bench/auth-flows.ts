/**
 * Sign-in flows, driven by our own keep-alive loops (autocannon cannot carry state from one
 * answer to the next request):
 * - login: `POST /v1/auth/login` for pre-registered users, each loop signing in its own user on
 *   its own device (a sign-in on the same device replaces that device's session);
 * - refresh: `POST /v1/auth/refresh`, K chains (one session each), each loop sending the refresh
 *   token the previous answer returned (they are single-use and rotate).
 * Every request carries a fresh `CF-Connecting-IP` (see auth-users.ts). Each flow is measured
 * unloaded (one loop, sequential) and loaded (all loops at once, bounded in time).
 */
import { pbkdf2Sync, randomBytes } from "node:crypto";
import { Agent } from "node:http";
import { median, percentile, send } from "./measure";
import { authHeaders, PASSWORD, tokensOf, type Session } from "./auth-users";

export interface FlowResult {
  /** Successful requests (completed inside the window, for loaded runs). */
  n: number;
  /** Successes per second (loaded runs; NaN for sequential ones). */
  rps: number;
  p50: number;
  p90: number;
  /** Failed requests by status ("error" = socket error or timeout). */
  failures: Record<string, number>;
}

export type FlowKey = "login" | "refresh";

/** One request of a flow on the loop's connection. */
type Step = (agent: Agent) => Promise<{ ok: boolean; status: number; dead?: boolean }>;

export interface AuthFlows {
  steps: Record<FlowKey, Step[]>;
}

export type { Step };

const TIMEOUT_MS = 10_000;

/** The steps: one per login user and one per refresh chain (the chain's state lives in `chains`). */
export function authFlows(origin: string, tenant: string, loginUsers: string[], chains: Session[]): AuthFlows {
  const login = loginUsers.map((username): Step => {
    const body = JSON.stringify({
      identifier: username,
      password: PASSWORD,
      device: { id: `bench-${username}`, platform: "bench" },
    });
    return async (agent) => {
      const r = await send(
        agent,
        { name: "login", origin, method: "POST", path: "/v1/auth/login", headers: authHeaders(tenant), body },
        TIMEOUT_MS,
      );
      return { ok: r.status === 200 && r.body.includes('"accessToken"'), status: r.status };
    };
  });
  const refresh = chains.map(
    (chain): Step =>
      async (agent) => {
        const body = JSON.stringify({ refreshToken: chain.refreshToken });
        const r = await send(
          agent,
          { name: "refresh", origin, method: "POST", path: "/v1/auth/refresh", headers: authHeaders(tenant), body },
          TIMEOUT_MS,
        );
        if (r.status !== 200) return { ok: false, status: r.status, dead: r.status === 401 };
        chain.refreshToken = tokensOf("refresh", r.status, 200, r.body).refreshToken;
        return { ok: true, status: r.status };
      },
  );
  return { steps: { login, refresh } };
}

/**
 * The login flow's floor: `count` loops (as many as the login flow has), each asking the bench
 * bundle's `GET /__floor/pbkdf2` for one password hash at the configured cost.
 */
export function pbkdf2Steps(origin: string, count: number): Step[] {
  const step: Step = async (agent) => {
    const r = await send(
      agent,
      { name: "pbkdf2 floor", origin, method: "GET", path: "/__floor/pbkdf2", headers: {} },
      TIMEOUT_MS,
    );
    return { ok: r.status === 200, status: r.status };
  };
  return Array.from({ length: count }, () => step);
}

/**
 * Runs `steps` concurrently, each in its own loop on its own keep-alive connection: `count`
 * requests per loop, or until `seconds` have passed (then only what completed inside the window
 * counts, and in-flight requests are awaited but not counted). A loop whose chain died stops.
 */
export async function drive(steps: Step[], bound: { count: number } | { seconds: number }): Promise<FlowResult> {
  const samples: number[] = [];
  const failures: Record<string, number> = {};
  const t0 = process.hrtime.bigint();
  const windowNs = "seconds" in bound ? BigInt(bound.seconds * 1e9) : undefined;
  const loop = async (step: Step): Promise<void> => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (
        let i = 0;
        windowNs === undefined ? i < ("count" in bound ? bound.count : 0) : process.hrtime.bigint() - t0 < windowNs;
        i++
      ) {
        const start = process.hrtime.bigint();
        let r: Awaited<ReturnType<Step>>;
        try {
          r = await step(agent);
        } catch {
          r = { ok: false, status: 0 };
        }
        const end = process.hrtime.bigint();
        if (windowNs !== undefined && end - t0 > windowNs) break;
        if (r.ok) samples.push(Number(end - start) / 1000);
        else {
          const key = r.status === 0 ? "error" : String(r.status);
          failures[key] = (failures[key] ?? 0) + 1;
          if (r.dead) break;
        }
      }
    } finally {
      agent.destroy();
    }
  };
  await Promise.all(steps.map(loop));
  samples.sort((a, b) => a - b);
  return {
    n: samples.length,
    rps: windowNs === undefined ? Number.NaN : samples.length / (Number(windowNs) / 1e9),
    p50: percentile(samples, 50),
    p90: percentile(samples, 90),
    failures,
  };
}

/** Median time (µs) of PBKDF2-HMAC-SHA256, 100k iterations, 32 bytes, in this Node process. */
export function pbkdf2Reference(runs = 5): number {
  const salt = randomBytes(16);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    pbkdf2Sync(PASSWORD, salt, 100_000, 32, "sha256");
    times.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  return median(times);
}
