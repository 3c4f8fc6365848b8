/**
 * Users of the bench tenant for the authenticated targets and the sign-in flows: registered through
 * the public API (`POST /v1/auth/register`), each with its own session and tokens.
 *
 * The gateway limits auth routes (register, login, refresh) to 30/min per client address, and
 * raw workerd takes the client address from `CF-Connecting-IP`: every auth request of the
 * benchmark therefore carries an address of its own, 10.x.y.z from a counter.
 */
import { Agent } from "node:http";
import { send } from "./measure";

export const PASSWORD = "correct horse battery staple";

export interface Session {
  username: string;
  accessToken: string;
  refreshToken: string;
  sessionId: string;
}

let addresses = 0;

/** A client address not used before in this run (10.0.0.1, 10.0.0.2, …; 16M of them). */
export function nextAddress(): string {
  const n = ++addresses;
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

/** The headers of an auth request: tenant, JSON, a fresh client address. */
export function authHeaders(tenant: string): Record<string, string> {
  return { "x-tenant": tenant, "content-type": "application/json", "cf-connecting-ip": nextAddress() };
}

/** The `sub` claim of an access token: the user's id. */
export function userIdOf(accessToken: string): string {
  const payload = JSON.parse(Buffer.from(accessToken.split(".")[1] ?? "", "base64url").toString("utf8")) as {
    sub?: unknown;
  };
  if (typeof payload.sub !== "string") throw new Error("access token without sub");
  return payload.sub;
}

function isTokens(v: unknown): v is Omit<Session, "username"> {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.accessToken === "string" && typeof o.refreshToken === "string" && typeof o.sessionId === "string";
}

/** The token pair of a 200/201 auth answer, or an error naming the request. */
export function tokensOf(what: string, status: number, expected: number, body: string): Omit<Session, "username"> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  if (status !== expected || !isTokens(parsed))
    throw new Error(`${what}: expected ${expected} with tokens, got ${status} ${body.slice(0, 300)}`);
  return parsed;
}

/**
 * Registers `names` (username = name, the shared password), `concurrency` at a time; each
 * registration hashes the password (PBKDF2, 100k iterations), so this takes a few seconds.
 */
export async function registerUsers(
  origin: string,
  tenant: string,
  names: string[],
  concurrency = 8,
): Promise<Session[]> {
  const out: Session[] = new Array<Session>(names.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = next++; i < names.length; i = next++) {
        const username = names[i]!;
        const body = JSON.stringify({
          username,
          password: PASSWORD,
          device: { id: `bench-${username}`, platform: "bench" },
        });
        const r = await send(
          agent,
          { name: "register", origin, method: "POST", path: "/v1/auth/register", headers: authHeaders(tenant), body },
          30_000,
        );
        out[i] = { username, ...tokensOf(`register ${username}`, r.status, 201, r.body) };
      }
    } finally {
      agent.destroy();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, names.length) }, worker));
  return out;
}
