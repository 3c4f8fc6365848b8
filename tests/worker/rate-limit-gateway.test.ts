import { describe, expect, it } from "vitest";
import { bearer, registerUser } from "./auth-helpers";
import { call, createTenant, expectProblem } from "./helpers";

describe("gateway rate limiting", () => {
  it("sends the IETF RateLimit headers and answers 429 problem+json with Retry-After when spent", async () => {
    const t = await createTenant({ config: { limits: { requestsPerMinute: 3 } } });
    const u = await registerUser(t.slug); // registerUser calls /v1/me once
    const h = bearer(u.tokens.accessToken);
    const ok = await call("/v1/me", { tenant: t.slug, headers: h });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("ratelimit-policy")).toBe('"api";q=3;w=60');
    expect(ok.headers.get("ratelimit")).toMatch(/^"api";r=1;t=\d+$/);
    await call("/v1/me", { tenant: t.slug, headers: h });
    const limited = await call("/v1/me", { tenant: t.slug, headers: h });
    await expectProblem(limited, 429, "rate_limited");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    // Per user: another user of the same tenant still has budget.
    const v = await registerUser(t.slug);
    expect((await call("/v1/auth/sessions", { tenant: t.slug, headers: bearer(v.tokens.accessToken) })).status).toBe(
      200,
    );
  });

  it("limits unauthenticated auth routes per client address", async () => {
    const t = await createTenant();
    const hit = (ip: string) =>
      call("/v1/auth/login", {
        method: "POST",
        tenant: t.slug,
        json: { identifier: "x@example.test", password: "whatever-pass" },
        headers: { "cf-connecting-ip": ip },
      });
    // 30 per minute per address; the account lockout (5) answers 429 first for one identifier,
    // so spread the identifier: the address budget is what runs out here.
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++) {
      const r = await call("/v1/auth/login", {
        method: "POST",
        tenant: t.slug,
        json: { identifier: `user${i}@example.test`, password: "whatever-pass" },
        headers: { "cf-connecting-ip": "192.0.2.7" },
      });
      statuses.push(r.status);
    }
    expect(statuses.at(-1)).toBe(429);
    expect((await hit("192.0.2.8")).status).toBe(401);
  });
});
