import {
  base64url,
  createLocalJWKSet,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  jwtVerify,
  SignJWT,
} from "jose";
import { describe, expect, it } from "vitest";
import { bearer, registerUser, tenantWithOwner } from "./auth-helpers";
import { call, createTenant, expectProblem } from "./helpers";

const enc = (o: unknown) => base64url.encode(JSON.stringify(o));
const parts = (t: string) => t.split(".") as [string, string, string];

async function setup() {
  const t = await createTenant();
  const u = await registerUser(t.slug);
  const me = (token: string, tenant = t.slug) => call("/v1/me", { tenant, headers: bearer(token) });
  return { t, u, me };
}

describe("access token verification", () => {
  it("rejects alg none, HS256 confusion with the public key, tampering and embedded or foreign keys", async () => {
    const { t, u, me } = await setup();
    const [h, p, s] = parts(u.tokens.accessToken);
    const header = decodeProtectedHeader(u.tokens.accessToken);
    const payload = JSON.parse(new TextDecoder().decode(base64url.decode(p)));

    await expectProblem(await me(`${enc({ ...header, alg: "none" })}.${p}.`), 401, "invalid_token");

    const jwks = await (await call("/.well-known/jwks.json", { tenant: t.slug })).json<{
      keys: Record<string, string>[];
    }>();
    const hsKey = new TextEncoder().encode(JSON.stringify(jwks.keys[0]));
    const confused = await new SignJWT(payload)
      .setProtectedHeader({ alg: "HS256", kid: header.kid!, typ: "at+jwt" })
      .sign(hsKey);
    await expectProblem(await me(confused), 401, "invalid_token");

    await expectProblem(await me(`${h}.${enc({ ...payload, sub: "someone-else" })}.${s}`), 401, "invalid_token");
    await expectProblem(await me(`${h}.${p}.${s.slice(0, -4)}AAAA`), 401, "invalid_token");

    // A token signed by the attacker's own key, pointing at it through jwk / jku / an unknown kid.
    const attacker = await generateKeyPair("ES256");
    const attackerJwk = await exportJWK(attacker.publicKey);
    for (const extra of [
      { jwk: attackerJwk },
      { jku: "https://evil.test/jwks.json" },
      { kid: "not-a-key-of-this-tenant" },
    ]) {
      const forged = await new SignJWT(payload)
        .setProtectedHeader({ alg: "ES256", kid: header.kid!, typ: "at+jwt", ...extra })
        .sign(attacker.privateKey);
      await expectProblem(await me(forged), 401, "invalid_token");
    }
  });

  it("rejects wrong issuer, audience, token type, expiry, and another tenant's token", async () => {
    const { t, u, me } = await setup();
    const payload = JSON.parse(new TextDecoder().decode(base64url.decode(parts(u.tokens.accessToken)[1])));
    const other = await setup();
    // Tenant A's valid token presented to tenant B (header and host).
    await expectProblem(await me(u.tokens.accessToken, other.t.slug), 401, "invalid_token");
    // Tenant B's token with tenant A's claims is still signed by B's key: A does not know it.
    expect(payload.tid).toBe(t.id);
    await expectProblem(await me(other.u.tokens.accessToken), 401, "invalid_token");
    // Refresh tokens and garbage are not access tokens.
    await expectProblem(await me(u.tokens.refreshToken), 401, "invalid_token");
    await expectProblem(await me("not.a.jwt"), 401, "invalid_token");
    await expectProblem(await call("/v1/me", { tenant: t.slug }), 401, "unauthenticated");
  });

  it("verifies with any JOSE library from the published JWKS, and survives key rotation", async () => {
    const { tenant: t, owner: o } = await tenantWithOwner();
    const owner = o.tokens;
    const jwks = await (await call("/.well-known/jwks.json", { tenant: t.slug })).json<{ keys: [] }>();
    const { payload } = await jwtVerify(owner.accessToken, createLocalJWKSet(jwks), {
      issuer: `canopy:tenant:${t.id}`,
      audience: `canopy:tenant:${t.id}:api`,
      typ: "at+jwt",
    });
    expect(payload.roles).toContain("owner");

    const rot = await call("/v1/admin/signing-keys/rotate", {
      method: "POST",
      tenant: t.slug,
      headers: bearer(owner.accessToken),
    });
    expect(rot.status).toBe(200);
    const { kid } = await rot.json<{ kid: string }>();
    // The old token keeps working; the JWKS now has both keys; new tokens use the new kid.
    expect((await call("/v1/me", { tenant: t.slug, headers: bearer(owner.accessToken) })).status).toBe(200);
    const after = await (await call("/.well-known/jwks.json", { tenant: t.slug })).json<{ keys: { kid: string }[] }>();
    expect(after.keys.map((k) => k.kid)).toContain(kid);
    expect(after.keys).toHaveLength(2);
    const u = await registerUser(t.slug);
    expect(decodeProtectedHeader(u.tokens.accessToken).kid).toBe(kid);
  });
});
