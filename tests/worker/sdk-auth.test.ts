import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CanopyError, createClient, memoryStorage, type TokenStorage } from "../../sdk/src/index";
import { registerUser } from "./auth-helpers";
import { createTenant } from "./helpers";

/**
 * The SDK against the Worker itself: its fetch is the Worker's own handler (as a client on the
 * network reaches it), standing where Cloudflare's edge does for the client address. `sent`
 * records each request's method and path, so a test can count what the SDK sent.
 */
function sdkFor(tenant: string, opts: { storage?: TokenStorage; ip?: string } = {}) {
  const sent: string[] = [];
  const ip = opts.ip ?? `10.9.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
  const client = createClient({
    baseUrl: "http://api.test",
    tenant,
    storage: opts.storage ?? memoryStorage(),
    device: { id: `dev-${crypto.randomUUID().slice(0, 8)}`, name: "test", platform: "web" },
    fetch: (req) => {
      sent.push(`${req.method} ${new URL(req.url).pathname}`);
      const r = new Request(req);
      r.headers.set("cf-connecting-ip", ip);
      return exports.default.fetch(r);
    },
  });
  return { client, sent };
}

/** The Worker's own fetch, each request's method and path recorded in `sent`. */
const counted = (sent: string[]) => (req: Request) => {
  sent.push(`${req.method} ${new URL(req.url).pathname}`);
  return exports.default.fetch(req);
};

/** A JWS-shaped token whose payload says it expired (the SDK reads `exp` only for timing). */
const expiredLooking = () =>
  `eyJhbGciOiJFUzI1NiJ9.${btoa(JSON.stringify({ exp: Math.floor(Date.now() / 1000) - 60 })).replace(/=+$/, "")}.x`;

describe("SDK: sign-in and typed calls", () => {
  it("signs in, calls typed routes with the session, and refuses a wrong password with a CanopyError", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug);
    const storage = memoryStorage();
    const { client } = sdkFor(t.slug, { storage });
    const wrong = await client.auth.signIn({ identifier: u.username, password: "not-the-password" }).catch((e) => e);
    expect(wrong).toBeInstanceOf(CanopyError);
    expect(wrong).toMatchObject({ status: 401, code: "invalid_credentials" });
    expect((wrong as CanopyError).problem?.requestId).toBeTruthy();

    const r = await client.auth.signIn({ identifier: u.username, password: u.password });
    expect(r.status).toBe("signedIn");
    const { data } = await client.api.GET("/v1/auth/whoami");
    expect(data).toMatchObject({ userId: u.userId });
    // Another tenant's slug with this session: refused, as a typed error.
    const other = await createTenant();
    const stolen = memoryStorage();
    await stolen.set("session", String(await storage.get("session")));
    const foreign = createClient({
      baseUrl: "http://api.test",
      tenant: other.slug,
      storage: stolen,
      fetch: (req) => exports.default.fetch(req),
    });
    const e = await foreign.api.GET("/v1/auth/whoami").catch((x) => x);
    expect(e).toBeInstanceOf(CanopyError);
    expect((e as CanopyError).status).toBe(401);
  });

  it("refreshes once for many concurrent calls whose token was refused, and once ahead of expiry", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug);
    const storage = memoryStorage();
    const { client, sent } = sdkFor(t.slug, { storage });
    await client.auth.signIn({ identifier: u.username, password: u.password });
    const session = JSON.parse(String(await storage.get("session")));
    // A token the server refuses (forged): every call gets a 401, one refresh serves them all.
    const forgedStore = memoryStorage();
    await forgedStore.set(
      "session",
      JSON.stringify({ ...session, accessToken: `${session.accessToken.slice(0, -4)}AAAA` }),
    );
    const forged = createClient({
      baseUrl: "http://api.test",
      tenant: t.slug,
      storage: forgedStore,
      fetch: counted(sent),
    });
    sent.length = 0;
    const results = await Promise.all(Array.from({ length: 6 }, () => forged.api.GET("/v1/auth/whoami")));
    for (const r of results) expect(r.data).toMatchObject({ userId: u.userId });
    expect(sent.filter((s) => s === "POST /v1/auth/refresh")).toHaveLength(1);

    // A token about to expire is refreshed before the call, once for all concurrent calls.
    const soonStore = memoryStorage();
    const current = JSON.parse(String(await forgedStore.get("session")));
    await soonStore.set("session", JSON.stringify({ ...current, accessToken: expiredLooking() }));
    const soon = createClient({ baseUrl: "http://api.test", tenant: t.slug, storage: soonStore, fetch: counted(sent) });
    sent.length = 0;
    await Promise.all(Array.from({ length: 4 }, () => soon.api.GET("/v1/auth/whoami")));
    expect(sent.filter((s) => s === "POST /v1/auth/refresh")).toHaveLength(1);
    expect(sent.filter((s) => s === "GET /v1/auth/whoami")).toHaveLength(4);
  });

  it("a revoked session ends in one signedOut event, and its calls fail with the server's code", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug);
    const { client } = sdkFor(t.slug);
    await client.auth.signIn({ identifier: u.username, password: u.password });
    const events: unknown[] = [];
    client.auth.on("signedOut", (e) => events.push(e));
    // The registration's session signs every other session out.
    const res = await exports.default.fetch(
      new Request("http://api.test/v1/auth/sessions/revoke-others", {
        method: "POST",
        headers: { "x-tenant": t.slug, authorization: `Bearer ${u.tokens.accessToken}` },
      }),
    );
    expect(res.status).toBeLessThan(300);
    const errors = await Promise.all(
      Array.from({ length: 5 }, () =>
        client.api.GET("/v1/auth/whoami").then(
          () => null,
          (e: unknown) => e,
        ),
      ),
    );
    for (const e of errors) expect(e).toMatchObject({ status: 401, code: "session_revoked" });
    expect(events).toEqual([{ reason: "refused", code: "invalid_refresh_token" }]);
    expect(await client.auth.sessionId()).toBeNull();
  });

  it("signs out on the server and here, and does not retry a 429 whose Retry-After is past its cap", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug);
    const { client, sent } = sdkFor(t.slug);
    await client.auth.signIn({ identifier: u.username, password: u.password });
    const events: unknown[] = [];
    client.auth.on("signedOut", (e) => events.push(e));
    await client.auth.signOut();
    expect(events).toEqual([{ reason: "signOut" }]);
    expect(sent).toContain("POST /v1/auth/logout");
    await expect(client.api.GET("/v1/auth/whoami")).rejects.toMatchObject({ status: 401 });

    // Wrong passwords until the account's lockout answers 429 with a Retry-After of minutes.
    let locked: CanopyError | undefined;
    for (let i = 0; i < 12 && !locked; i++) {
      const e = await client.auth.signIn({ identifier: u.username, password: "wrong-password" }).catch((x) => x);
      if (e instanceof CanopyError && e.status === 429) locked = e;
    }
    expect(locked?.code).toBe("rate_limited");
    expect(locked?.retryAfter).toBeGreaterThan(10);
    sent.length = 0;
    await expect(client.auth.signIn({ identifier: u.username, password: u.password })).rejects.toMatchObject({
      status: 429,
    });
    expect(sent).toEqual(["POST /v1/auth/login"]); // answered at once, not retried
  });
});
