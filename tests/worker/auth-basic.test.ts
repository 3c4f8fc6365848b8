import { describe, expect, it } from "vitest";
import { bearer, login, registerUser, type Tokens } from "./auth-helpers";
import { call, createTenant } from "./helpers";

describe("register, login, me", () => {
  it("registers, answers the token pair, and /v1/me shows the user with the member role", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug);
    expect(u.tokens).toMatchObject({ expiresIn: 600 });
    expect(u.tokens.refreshToken).toMatch(/^rt1\./);
    const me = await call("/v1/me", { tenant: t.slug, headers: bearer(u.tokens.accessToken) });
    expect(await me.json()).toMatchObject({
      email: u.email.toLowerCase(),
      username: u.username,
      roles: ["member"],
      mfaEnabled: false,
    });
  });

  it("logs in by email or username, case-insensitively", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug);
    for (const id of [u.email.toUpperCase(), u.username]) {
      const res = await login(t.slug, id, u.password);
      expect(res.status).toBe(200);
      expect((await res.json<Tokens>()).accessToken).toBeTruthy();
    }
  });
});
