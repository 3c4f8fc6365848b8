/**
 * The admin side of mail under attack: forged credentials on the development mailbox, and
 * template overrides that grow past the tenant-wide bound one PATCH at a time.
 */
import { env } from "cloudflare:test";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { MAX_TEMPLATE_CHARS } from "../../src/workers/mail/config";
import { registerUser } from "./auth-helpers";
import { call, createTenant, expectProblem } from "./helpers";

/** An HS256 token with platform-admin-looking claims, signed with `secret`. */
async function adminLookingToken(secret: string, expiresAt: number): Promise<string> {
  return new SignJWT({ role: "platform-admin", scope: "admin" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject("admin")
    .setIssuedAt(expiresAt - 3600)
    .setExpirationTime(expiresAt)
    .sign(new TextEncoder().encode(secret));
}

describe("GET /admin/v1/dev/mail with forged credentials", () => {
  it("a signed token of any key, expired or not, and a tenant user's real token are all 401", async () => {
    const now = Math.floor(Date.now() / 1000);
    const t = await createTenant();
    const user = await registerUser(t.slug);
    const forged = [
      // Signed with a key that is not the admin token.
      await adminLookingToken("not-the-admin-token-0123456789", now + 3600),
      // Signed with the admin token itself as an HMAC key: still not the admin token.
      await adminLookingToken(env.ADMIN_TOKEN, now + 3600),
      // The same, expired.
      await adminLookingToken(env.ADMIN_TOKEN, now - 60),
      // A real ES256 token, signed by the tenant's key for one of its users.
      user.tokens.accessToken,
    ];
    for (const token of forged) {
      const res = await call("/admin/v1/dev/mail", { headers: { authorization: `Bearer ${token}` } });
      expect(res.headers.get("www-authenticate")).toContain("Bearer");
      await expectProblem(res, 401, "admin_unauthorized");
    }
  });
});

describe("PATCH of a tenant's email.templates", () => {
  const html = (n: number) => `<p>${"a".repeat(n - 7)}</p>`;
  const patch = (slug: string, templates: Record<string, unknown>) =>
    call(`/admin/v1/tenants/${slug}`, { method: "PATCH", admin: true, json: { config: { email: { templates } } } });

  it("is refused with a 400 when the merged overrides pass the bound, though the PATCH alone fits", async () => {
    const t = await createTenant();
    const part = Math.floor(MAX_TEMPLATE_CHARS / 3) - 10; // three fit, four do not
    const first = await patch(t.slug, {
      digest: { en: { html: html(part) } },
      notification: { en: { html: html(part) } },
    });
    expect(first.status, await first.clone().text()).toBe(200);

    const more = { password_changed: { en: { html: html(part) } }, sign_in_code: { en: { html: html(part) } } };
    // Alone these two fit (a fresh tenant takes them); merged with the first two they do not.
    const fresh = await createTenant();
    expect((await patch(fresh.slug, more)).status).toBe(200);
    const body = await expectProblem(await patch(t.slug, more), 400, "validation_failed");
    expect(JSON.stringify(body)).toContain(`${MAX_TEMPLATE_CHARS}`);

    // Nothing of the refused PATCH was stored.
    const stored = await (await call(`/admin/v1/tenants/${t.slug}`, { admin: true })).json<{
      config: { email: { templates: Record<string, unknown> } };
    }>();
    expect(Object.keys(stored.config.email.templates).sort()).toEqual(["digest", "notification"]);
  });
});
