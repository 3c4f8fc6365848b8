import { describe, expect, it } from "vitest";
import { TenantConfigSchema } from "../../src/lib/tenant-config";
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
      config: TenantConfigSchema.parse({}),
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
