import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { tenantSlugOf } from "../../src/workers/gateway/middleware/tenant";
import { call, createTenant, expectProblem, uniqueSlug } from "./helpers";

describe("gateway chain", () => {
  it("keeps a sane X-Request-Id, replaces an insane one, and generates one otherwise", async () => {
    const kept = await call("/healthz", { headers: { "x-request-id": "req-12345678" } });
    expect(kept.headers.get("x-request-id")).toBe("req-12345678");
    const replaced = await call("/healthz", { headers: { "x-request-id": 'bad id" with quotes' } });
    expect(replaced.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const generated = await call("/healthz");
    expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const problem = await expectProblem(
      await call("/nope", { headers: { "x-request-id": "trace-me-please" } }),
      404,
      "route_not_found",
    );
    expect(problem.requestId).toBe("trace-me-please");
  });

  it("continues a W3C trace and starts one when the header is absent or invalid", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const res = await call("/healthz", { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    expect(res.headers.get("traceparent")).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    const zero = await call("/healthz", { headers: { traceparent: `00-${"0".repeat(32)}-00f067aa0ba902b7-01` } });
    expect(zero.headers.get("traceparent")).not.toContain("0".repeat(32));
    expect((await call("/healthz")).headers.get("traceparent")).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it("answers unknown routes 404 and wrong methods 405 with Allow, as problem+json", async () => {
    await expectProblem(await call("/definitely/not/here"), 404, "route_not_found");
    const res = await call("/healthz", { method: "POST" });
    await expectProblem(res, 405, "method_not_allowed");
    expect(res.headers.get("allow")).toContain("GET");
    const put = await call("/admin/v1/tenants/some-slug", { method: "PUT", admin: true });
    await expectProblem(put, 405, "method_not_allowed");
    expect(put.headers.get("allow")).toContain("PATCH");
  });

  it("resolves the tenant from the host or the X-Tenant header; unknown tenants are 404", async () => {
    const t = await createTenant();
    const byHost = await exports.default.fetch(new Request(`http://${t.slug}.localhost:8787/v1/tenant`));
    expect(byHost.status).toBe(200);
    expect((await byHost.json<{ slug: string }>()).slug).toBe(t.slug);
    expect((await call("/v1/tenant", { tenant: t.slug })).status).toBe(200);
    await expectProblem(await call("/v1/tenant", { tenant: uniqueSlug("ghost") }), 404, "tenant_not_found");
    await expectProblem(await call("/v1/tenant"), 404, "tenant_not_found");
    await expectProblem(await call("/v1/tenant", { tenant: "../../etc" }), 404, "tenant_not_found");
  });

  it("serves many concurrent requests of one tenant over its shared database handle, each tenant its own", async () => {
    const [a, b] = await Promise.all([createTenant(), createTenant()]);
    // More than the libSQL client's default queue limit (20), two tenants interleaved.
    const replies = await Promise.all(
      Array.from({ length: 48 }, (_, i) => call("/v1/tenant", { tenant: (i % 2 ? b : a).slug })),
    );
    expect(replies.map((r) => r.status)).toEqual(Array(48).fill(200));
    const slugs = await Promise.all(replies.map((r) => r.json<{ slug: string }>().then((j) => j.slug)));
    expect(slugs).toEqual(Array.from({ length: 48 }, (_, i) => (i % 2 ? b : a).slug));
  });

  it("parses tenant hosts strictly", () => {
    expect(tenantSlugOf("acme.api.example.com", undefined, "api.example.com")).toBe("acme");
    expect(tenantSlugOf("ACME.api.example.com:443", undefined, "api.example.com")).toBe("acme");
    expect(tenantSlugOf("a.b.api.example.com", undefined, "api.example.com")).toBeNull();
    expect(tenantSlugOf("evil-api.example.com", undefined, "api.example.com")).toBeNull();
    expect(tenantSlugOf("api.example.com", "acme", "api.example.com")).toBe("acme");
  });

  it("applies per-tenant CORS: allowed origins get headers, others are refused", async () => {
    const t = await createTenant({ config: { allowedOrigins: ["https://app.acme.test"] } });
    const ok = await call("/v1/tenant", { tenant: t.slug, headers: { origin: "https://app.acme.test" } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://app.acme.test");
    await expectProblem(
      await call("/v1/tenant", { tenant: t.slug, headers: { origin: "https://evil.test" } }),
      403,
      "origin_not_allowed",
    );
    const preflight = await exports.default.fetch(
      new Request(`http://${t.slug}.localhost/v1/tenant`, {
        method: "OPTIONS",
        headers: { origin: "https://app.acme.test", "access-control-request-method": "POST" },
      }),
    );
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-methods")).toContain("POST");
  });

  it("applies the tenant's body limit to tenant routes", async () => {
    const t = await createTenant({ config: { limits: { maxBodyBytes: 2048 } } });
    const res = await call("/v1/tenant", {
      method: "POST",
      tenant: t.slug,
      body: "x".repeat(4096),
      headers: { "content-type": "application/json" },
    });
    await expectProblem(res, 413, "body_too_large");
  });

  it("serves health, readiness, the OpenAPI document and the docs page", async () => {
    expect(await (await call("/healthz")).json()).toEqual({ status: "ok" });
    const ready = await call("/readyz");
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "ok", checks: { platformDb: { ok: true } } });

    const doc = await (await call("/openapi.json")).json<{
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    }>();
    expect(doc.openapi).toBe("3.1.0");
    const expected: [string, string][] = [
      ["/admin/v1/tenants", "post"],
      ["/admin/v1/tenants", "get"],
      ["/admin/v1/tenants/{slug}", "get"],
      ["/admin/v1/tenants/{slug}", "patch"],
      ["/admin/v1/tenants/{slug}", "delete"],
      ["/admin/v1/tenants/{slug}/suspend", "post"],
      ["/admin/v1/tenants/{slug}/resume", "post"],
      ["/admin/v1/tenants/{slug}/migrations", "get"],
      ["/v1/tenant", "get"],
      ["/healthz", "get"],
      ["/readyz", "get"],
      ["/v1/auth/register", "post"],
      ["/v1/auth/login", "post"],
      ["/v1/auth/mfa/verify", "post"],
      ["/v1/auth/refresh", "post"],
      ["/v1/auth/logout", "post"],
      ["/v1/auth/password", "post"],
      ["/v1/auth/sessions", "get"],
      ["/v1/auth/sessions/{id}", "delete"],
      ["/v1/auth/sessions/revoke-others", "post"],
      ["/v1/auth/mfa/totp/setup", "post"],
      ["/v1/auth/mfa/totp/enable", "post"],
      ["/v1/auth/mfa/totp/disable", "post"],
      ["/v1/auth/mfa/recovery-codes", "post"],
      ["/v1/me", "get"],
      ["/.well-known/jwks.json", "get"],
      ["/v1/admin/users", "get"],
      ["/v1/admin/users/{id}/suspend", "post"],
      ["/v1/admin/users/{id}/resume", "post"],
      ["/v1/admin/users/{id}/force-logout", "post"],
      ["/v1/admin/users/{id}", "delete"],
      ["/v1/admin/roles", "get"],
      ["/v1/admin/roles", "post"],
      ["/v1/admin/roles/{id}", "patch"],
      ["/v1/admin/roles/{id}", "delete"],
      ["/v1/admin/users/{id}/roles", "put"],
      ["/v1/admin/api-keys", "get"],
      ["/v1/admin/api-keys", "post"],
      ["/v1/admin/api-keys/{id}", "delete"],
      ["/v1/admin/signing-keys/rotate", "post"],
      ["/v1/auth/whoami", "get"],
    ];
    for (const [path, method] of expected) expect(doc.paths[path]?.[method], `${method} ${path}`).toBeTruthy();

    const docs = await call("/docs");
    expect(docs.headers.get("content-type")).toContain("text/html");
    expect(await docs.text()).toContain("/openapi.json");
  });
});

describe("security headers", () => {
  it("every answer carries HSTS, nosniff, no referrer and refuses framing; API answers allow no content", async () => {
    const t = await createTenant();
    for (const res of [
      await call("/healthz"),
      await call("/v1/tenant", { tenant: t.slug }),
      await call("/nope"),
      await call("/v1/me", { tenant: t.slug }),
    ]) {
      expect(res.headers.get("strict-transport-security")).toMatch(/^max-age=\d{8,}; includeSubDomains$/);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(res.headers.get("x-request-id")).toMatch(/^[A-Za-z0-9._:-]{8,128}$/);
      expect(res.headers.get("traceparent")).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    }
  });

  it("authenticated answers and problems are not cacheable; routes that choose a policy keep it", async () => {
    const t = await createTenant();
    const problem = await call("/v1/me", { tenant: t.slug });
    expect(problem.status).toBe(401);
    expect(problem.headers.get("cache-control")).toBe("no-store");
    const me = await call("/admin/v1/tenants", { admin: true });
    expect(me.headers.get("cache-control")).toBe("no-store");
    const jwks = await call("/.well-known/jwks.json", { tenant: t.slug });
    expect(jwks.headers.get("cache-control")).toBe("public, max-age=300");
  });

  it("the HTML reference page gets a restrictive CSP with frame-ancestors 'none'", async () => {
    const res = await call("/docs");
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("base-uri 'none'");
    expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
    // The page loads its reference UI from one CDN: its own CSP, not the API's.
    expect(csp).toContain("script-src https://cdn.jsdelivr.net");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
  });
});

describe("client address", () => {
  const req = (h: Record<string, string>) => ({ header: (n: string) => h[n.toLowerCase()] });
  it("comes from CF-Connecting-IP in production only, from CLIENT_IP_HEADER when configured, never from X-Forwarded-For", async () => {
    const { clientAddress } = await import("../../src/workers/gateway/middleware/rate-limit");
    const h = req({ "cf-connecting-ip": "203.0.113.7", "x-forwarded-for": "1.2.3.4", "x-real-ip": "198.51.100.9" });
    expect(clientAddress(h, { ENVIRONMENT: "production", CLIENT_IP_HEADER: "" })).toBe("203.0.113.7");
    expect(clientAddress(h, { ENVIRONMENT: "development", CLIENT_IP_HEADER: "" })).toBe("unknown");
    expect(clientAddress(h, { ENVIRONMENT: "development", CLIENT_IP_HEADER: "x-real-ip" })).toBe("198.51.100.9");
    expect(
      clientAddress(req({ "cf-connecting-ip": "<script>".repeat(20) }), {
        ENVIRONMENT: "production",
        CLIENT_IP_HEADER: "",
      }),
    ).toBe("unknown");
    expect(
      clientAddress(req({ "cf-connecting-ip": "2001:db8::1" }), { ENVIRONMENT: "production", CLIENT_IP_HEADER: "" }),
    ).toBe("2001:db8::1");
  });
});
