import { describe, expect, inject, it } from "vitest";
import { defaultTenantConfig } from "../../src/lib/tenant-config";
import "../../src/workers/gateway/services";
import { AppError } from "../../src/lib/errors";
import { AuthThrottle } from "../../src/workers/auth/throttle";
import { UpstashRateLimitStore } from "../../src/workers/gateway/middleware/rate-limit-upstash";
import { bearer, registerUser } from "./auth-helpers";
import { call, createTenant } from "./helpers";

describe("sign-in limiter", () => {
  it("fails closed (503) when its store is unreachable", async () => {
    // A real store pointed at a port nothing listens on.
    const store = new UpstashRateLimitStore({ url: "http://127.0.0.1:9", token: "x" }, { timeoutMs: 300 });
    const tenant = {
      id: "t1",
      slug: "t1",
      name: "T",
      status: "active" as const,
      plan: "free",
      config: defaultTenantConfig(),
      db: { url: "", token: "" },
    };
    const err = await new AuthThrottle(store, tenant)
      .judge([["login-account", "someone", 5]], async () => "judged")
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).status).toBe(503);
    expect((err as AppError).code).toBe("auth_unavailable");
  });
});

describe("sign-in limiter on Upstash", () => {
  it("counts a failed attempt, hands a right one back, and judges at most the limit of a burst", async () => {
    const upstash = inject("upstash");
    const store = new UpstashRateLimitStore({ url: upstash.url, token: upstash.token });
    const id = `t-${crypto.randomUUID().slice(0, 8)}`;
    const tenant = {
      id,
      slug: id,
      name: "T",
      status: "active" as const,
      plan: "free",
      config: defaultTenantConfig(),
      db: { url: "", token: "" },
    };
    const throttle = new AuthThrottle(store, tenant);
    const bucket: [string, string, number] = ["login-account", "someone", 3];
    // Right attempts hand their unit back: any number of them passes.
    for (let i = 0; i < 5; i++) expect(await throttle.judge([bucket], async () => "right")).toBe("right");
    const wrong = () =>
      throttle
        .judge([bucket], async (fail) => {
          fail();
          throw new AppError("invalid_credentials", "wrong");
        })
        .catch((e: unknown) => (e as AppError).code);
    const outcomes = await Promise.all(Array.from({ length: 10 }, wrong));
    expect(outcomes.filter((o) => o === "invalid_credentials")).toHaveLength(3);
    expect(outcomes.filter((o) => o === "rate_limited")).toHaveLength(7);
  });
});

describe("whoami", () => {
  it("describes the caller from its credential", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug);
    const res = await call("/v1/auth/whoami", { tenant: t.slug, headers: bearer(u.tokens.accessToken) });
    expect(await res.json()).toEqual({
      kind: "user",
      tenantId: t.id,
      userId: u.userId,
      sessionId: u.tokens.sessionId,
      keyId: null,
    });
  });
});
