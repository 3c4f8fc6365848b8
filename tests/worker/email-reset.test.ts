import { describe, expect, it } from "vitest";
import { as, login, password, registerUser } from "./auth-helpers";
import { call, createTenant, expectProblem, postJson } from "./helpers";
import { codeOf, freshAddress, inbox, linkOf, linkToken, mailTo } from "./mail-helpers";

describe("password reset by email", () => {
  it("answers unknown and known addresses alike, mails only the account, and the link sets the password", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug, { email: freshAddress("reset") });
    const unknown = freshAddress("nobody");
    const a = await postJson(t.slug, "/v1/auth/password/reset", { email: unknown });
    const b = await postJson(t.slug, "/v1/auth/password/reset", { email: u.email.toUpperCase() });
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(await a.json()).toEqual(await b.json());

    const mail = await mailTo(u.email, /reset/i);
    expect(await inbox(unknown)).toEqual([]);
    const fresh = password();
    const done = await postJson(t.slug, "/v1/auth/password/reset/confirm", {
      token: linkToken(mail),
      newPassword: fresh,
    });
    expect(done.status, await done.clone().text()).toBe(204);

    // Every session ended; the old password no longer works, the new one does.
    await expectProblem(await call("/v1/me", as(t.slug, u)), 401, "session_revoked");
    await expectProblem(await login(t.slug, u.email, u.password), 401, "invalid_credentials");
    expect((await login(t.slug, u.email, fresh)).status).toBe(200);
    // The link is single use, and the notice went out.
    await expectProblem(
      await postJson(t.slug, "/v1/auth/password/reset/confirm", { token: linkToken(mail), newPassword: password() }),
      400,
      "invalid_email_token",
    );
    await mailTo(u.email, /password was changed|contraseña/i);
  });

  it("takes the emailed code instead of the link; wrong codes are limited", async () => {
    const t = await createTenant({ config: { auth: { maxEmailCodeFailures: 3 } } });
    const u = await registerUser(t.slug, { email: freshAddress("code") });
    await postJson(t.slug, "/v1/auth/password/reset", { email: u.email });
    const code = codeOf(await mailTo(u.email, /reset/i));
    const wrong = code === "000000" ? "111111" : "000000";
    for (let i = 0; i < 3; i++) {
      await expectProblem(
        await postJson(t.slug, "/v1/auth/password/reset/confirm", {
          email: u.email,
          code: wrong,
          newPassword: password(),
        }),
        400,
        "invalid_email_token",
      );
    }
    // The bucket is spent (429), and the challenge itself was burned by the wrong codes.
    await expectProblem(
      await postJson(t.slug, "/v1/auth/password/reset/confirm", { email: u.email, code, newPassword: password() }),
      429,
      "rate_limited",
    );
  });

  it("a code of one account does not open another, nor does a token of another tenant or purpose", async () => {
    const t = await createTenant();
    const other = await createTenant();
    const u = await registerUser(t.slug, { email: freshAddress("a") });
    const v = await registerUser(t.slug, { email: freshAddress("b") });
    await postJson(t.slug, "/v1/auth/password/reset", { email: u.email });
    const mail = await mailTo(u.email, /reset/i);
    await expectProblem(
      await postJson(t.slug, "/v1/auth/password/reset/confirm", {
        email: v.email,
        code: codeOf(mail),
        newPassword: password(),
      }),
      400,
      "invalid_email_token",
    );
    await expectProblem(
      await postJson(other.slug, "/v1/auth/password/reset/confirm", {
        token: linkToken(mail),
        newPassword: password(),
      }),
      400,
      "invalid_email_token",
    );
    await expectProblem(
      await postJson(t.slug, "/v1/auth/email/verify", { token: linkToken(mail) }),
      400,
      "invalid_email_token",
    );
    // Still good for its own purpose and account.
    const ok = await postJson(t.slug, "/v1/auth/password/reset/confirm", {
      token: linkToken(mail),
      newPassword: password(),
    });
    expect(ok.status).toBe(204);
  });

  it("a newer reset ends the older one only when used; the password policy applies", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug, { email: freshAddress("two") });
    await postJson(t.slug, "/v1/auth/password/reset", { email: u.email });
    const first = await mailTo(u.email, /reset/i, 1);
    await postJson(t.slug, "/v1/auth/password/reset", { email: u.email });
    const second = await mailTo(u.email, /reset/i, 2);
    await expectProblem(
      await postJson(t.slug, "/v1/auth/password/reset/confirm", { token: linkToken(second), newPassword: "short" }),
      400,
      "weak_password",
    );
    expect(
      (await postJson(t.slug, "/v1/auth/password/reset/confirm", { token: linkToken(second), newPassword: password() }))
        .status,
    ).toBe(204);
    await expectProblem(
      await postJson(t.slug, "/v1/auth/password/reset/confirm", { token: linkToken(first), newPassword: password() }),
      400,
      "invalid_email_token",
    );
  });

  it("links point at the tenant's app, never at a host the request named", async () => {
    const t = await createTenant({ config: { signIn: { appUrl: "https://app.example.com/account" } } });
    const u = await registerUser(t.slug, { email: freshAddress("host") });
    await postJson(
      t.slug,
      "/v1/auth/password/reset",
      { email: u.email },
      {
        host: "evil.example",
        "x-forwarded-host": "evil.example",
      },
    );
    const mail = await mailTo(u.email, /reset/i);
    expect(mail.text).toContain("https://app.example.com/account/reset-password?token=");
    expect(`${mail.text}${mail.html}`).not.toContain("evil.example");
  });

  it("a sign-in racing a reset never keeps a session opened with the old password", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug, { email: freshAddress("race") });
    for (let round = 1; round <= 3; round++) {
      await postJson(t.slug, "/v1/auth/password/reset", { email: u.email });
      const token = linkToken(await mailTo(u.email, /reset/i, round));
      const old = round === 1 ? u.password : `Canopy-round-${round - 1}-${u.userId}`;
      const [signIn, reset] = await Promise.all([
        login(t.slug, u.email, old),
        postJson(t.slug, "/v1/auth/password/reset/confirm", {
          token,
          newPassword: `Canopy-round-${round}-${u.userId}`,
        }),
      ]);
      expect(reset.status).toBe(204);
      if (signIn.status === 200) {
        const { accessToken } = await signIn.json<{ accessToken: string }>();
        await expectProblem(
          await call("/v1/me", { tenant: t.slug, headers: { authorization: `Bearer ${accessToken}` } }),
          401,
          "session_revoked",
        );
      } else {
        expect(signIn.status).toBe(401);
      }
    }
  });
});

describe("the pages emailed links open when the tenant has no app URL", () => {
  it("a reset mail's link opens the tenant's own page, which only talks to this API", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug, { email: freshAddress("page") });
    await postJson(t.slug, "/v1/auth/password/reset", { email: u.email });
    const link = linkOf(await mailTo(u.email, /reset/i));
    expect(link.hostname).toBe(`${t.slug}.localhost`);
    expect(link.pathname).toBe("/v1/auth/pages/reset-password");
    const page = await call(`${link.pathname}${link.search}`, { tenant: t.slug });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(page.headers.get("referrer-policy")).toBe("no-referrer");
    const html = await page.text();
    expect(html).toContain('<script src="app.js"></script>');
    expect(html).not.toContain(linkToken(await mailTo(u.email, /reset/i)));
    const script = await call("/v1/auth/pages/app.js", { tenant: t.slug });
    expect(await script.text()).toContain("auth/password/reset/confirm");
    await expectProblem(await call("/v1/auth/pages/elsewhere", { tenant: t.slug }), 400, "validation_failed");
  });
});
