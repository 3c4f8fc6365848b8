import { describe, expect, it } from "vitest";
import { as, bearer, login, password, registerUser, type Tokens } from "./auth-helpers";
import { call, createTenant, expectProblem, postJson } from "./helpers";
import { codeOf, freshAddress, inbox, linkToken, mailTo } from "./mail-helpers";

const me = async (tenant: string, accessToken: string) =>
  (await call("/v1/me", { tenant, headers: bearer(accessToken) })).json<{ email: string; emailVerified: boolean }>();

describe("email verification", () => {
  it("registration mails a link and a code; either verifies once; /v1/me shows it", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug, { email: freshAddress("verify") });
    expect((await me(t.slug, u.tokens.accessToken)).emailVerified).toBe(false);
    const mail = await mailTo(u.email, /verify|confirm/i);
    const ok = await postJson(t.slug, "/v1/auth/email/verify", { token: linkToken(mail) });
    expect(ok.status, await ok.clone().text()).toBe(200);
    expect(await ok.json()).toEqual({ emailVerified: true });
    expect((await me(t.slug, u.tokens.accessToken)).emailVerified).toBe(true);
    await expectProblem(
      await postJson(t.slug, "/v1/auth/email/verify", { token: linkToken(mail) }),
      400,
      "invalid_email_token",
    );
    await expectProblem(
      await postJson(t.slug, "/v1/auth/email/verify", { email: u.email, code: codeOf(mail) }),
      400,
      "invalid_email_token",
    );
    await expectProblem(
      await postJson(t.slug, "/v1/auth/email/verify/resend", undefined, bearer(u.tokens.accessToken)),
      409,
      "email_already_verified",
    );
  });

  it("resend mails a new code (signed in only); the code form verifies", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug, { email: freshAddress("resend") });
    await mailTo(u.email, /verify|confirm/i);
    await expectProblem(await postJson(t.slug, "/v1/auth/email/verify/resend"), 401, "unauthenticated");
    const r = await postJson(t.slug, "/v1/auth/email/verify/resend", undefined, bearer(u.tokens.accessToken));
    expect(r.status, await r.clone().text()).toBe(202);
    const second = await mailTo(u.email, /verify|confirm/i, 2);
    const ok = await postJson(t.slug, "/v1/auth/email/verify", { email: u.email, code: codeOf(second) });
    expect(ok.status, await ok.clone().text()).toBe(200);
  });

  it("required: registration opens no session, sign-in is refused until the address is verified", async () => {
    const t = await createTenant({ config: { signIn: { emailVerification: "required" } } });
    const email = freshAddress("required");
    const pw = password();
    const reg = await postJson(t.slug, "/v1/auth/register", { email, password: pw });
    expect(reg.status, await reg.clone().text()).toBe(202);
    expect(await reg.json()).toMatchObject({ emailVerification: "required" });
    await expectProblem(
      await postJson(t.slug, "/v1/auth/register", { username: "nomail_user", password: password() }),
      400,
      "email_required",
    );
    await expectProblem(await login(t.slug, email, pw), 403, "email_not_verified");
    // A wrong password still answers as a wrong password: the refusal tells nothing before it.
    await expectProblem(await login(t.slug, email, password()), 401, "invalid_credentials");
    const mail = await mailTo(email, /verify|confirm/i);
    expect((await postJson(t.slug, "/v1/auth/email/verify", { token: linkToken(mail) })).status).toBe(200);
    expect((await login(t.slug, email, pw)).status).toBe(200);
  });

  it("off: no verification mail is sent", async () => {
    const t = await createTenant({ config: { signIn: { emailVerification: "off" } } });
    const u = await registerUser(t.slug, { email: freshAddress("off") });
    // A marker: a reset asked after registering arrives, so the verification would have too.
    await postJson(t.slug, "/v1/auth/password/reset", { email: u.email });
    await mailTo(u.email, /reset/i);
    expect((await inbox(u.email)).filter((m) => /verify|confirm/i.test(m.subject))).toEqual([]);
    await expectProblem(
      await postJson(t.slug, "/v1/auth/email/verify/resend", undefined, bearer(u.tokens.accessToken)),
      403,
      "sign_in_method_disabled",
    );
  });
});

describe("sign-in with an emailed code", () => {
  it("is refused unless the tenant enables it", async () => {
    const t = await createTenant();
    await expectProblem(
      await postJson(t.slug, "/v1/auth/email-code", { email: freshAddress() }),
      403,
      "sign_in_method_disabled",
    );
  });

  it("signs in once with the code, answers unknown addresses alike, and verifies the address", async () => {
    const t = await createTenant({ config: { signIn: { emailCode: true } } });
    const u = await registerUser(t.slug, { email: freshAddress("otp") });
    const unknown = await postJson(t.slug, "/v1/auth/email-code", { email: freshAddress("ghost") });
    const known = await postJson(t.slug, "/v1/auth/email-code", { email: u.email });
    expect([unknown.status, known.status]).toEqual([202, 202]);
    expect(await unknown.json()).toEqual(await known.json());
    const code = codeOf(await mailTo(u.email, /code/i));
    const signIn = await postJson(t.slug, "/v1/auth/email-code/verify", { email: u.email, code });
    expect(signIn.status, await signIn.clone().text()).toBe(200);
    const tokens = await signIn.json<Tokens>();
    expect((await me(t.slug, tokens.accessToken)).emailVerified).toBe(true);
    await expectProblem(
      await postJson(t.slug, "/v1/auth/email-code/verify", { email: u.email, code }),
      400,
      "invalid_email_token",
    );
    await expectProblem(
      await postJson(t.slug, "/v1/auth/email-code/verify", { email: freshAddress("ghost"), code: "123456" }),
      400,
      "invalid_email_token",
    );
  });
});

describe("change of email", () => {
  it("needs the password; applies only on confirmation from the new address; the old one is told", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug, { email: freshAddress("old") });
    const next = freshAddress("new");
    await expectProblem(
      await call("/v1/me/email", { method: "POST", ...as(t.slug, u), json: { newEmail: next, password: password() } }),
      401,
      "invalid_credentials",
    );
    await expectProblem(
      await call("/v1/me/email", {
        method: "POST",
        ...as(t.slug, u),
        json: { newEmail: u.email, password: u.password },
      }),
      400,
      "email_unchanged",
    );
    const asked = await call("/v1/me/email", {
      method: "POST",
      ...as(t.slug, u),
      json: { newEmail: next, password: u.password },
    });
    expect(asked.status, await asked.clone().text()).toBe(202);
    const confirm = await mailTo(next, /confirm|new/i);
    const notice = await mailTo(u.email, /change/i);
    expect(notice.text).toContain(next);
    expect((await me(t.slug, u.tokens.accessToken)).email).toBe(u.email);

    const done = await postJson(t.slug, "/v1/auth/email/change/confirm", { token: linkToken(confirm) });
    expect(done.status, await done.clone().text()).toBe(200);
    expect(await me(t.slug, u.tokens.accessToken)).toMatchObject({ email: next, emailVerified: true });
    expect((await login(t.slug, next, u.password)).status).toBe(200);
    await expectProblem(
      await postJson(t.slug, "/v1/auth/email/change/confirm", { token: linkToken(confirm) }),
      400,
      "invalid_email_token",
    );

    // The old address undoes it, and every session ends (whoever changed it may hold one).
    const undo = await postJson(t.slug, "/v1/auth/email/change/undo", { token: linkToken(notice) });
    expect(undo.status, await undo.clone().text()).toBe(200);
    expect(await undo.json()).toEqual({ email: u.email });
    await expectProblem(await call("/v1/me", as(t.slug, u)), 401, "session_revoked");
    expect((await login(t.slug, u.email, u.password)).status).toBe(200);
  });

  it("a taken address fails at confirmation with email_taken, and the account keeps its own", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug, { email: freshAddress("keep") });
    const next = freshAddress("contested");
    await call("/v1/me/email", { method: "POST", ...as(t.slug, u), json: { newEmail: next, password: u.password } });
    const confirm = await mailTo(next, /confirm|new/i);
    await registerUser(t.slug, { email: next });
    await expectProblem(
      await postJson(t.slug, "/v1/auth/email/change/confirm", { token: linkToken(confirm) }),
      409,
      "email_taken",
    );
    expect((await me(t.slug, u.tokens.accessToken)).email).toBe(u.email);
  });
});

describe("security notices", () => {
  it("a password change mails the account's address, like a reset", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug, { email: freshAddress("changed") });
    const next = password();
    const r = await call("/v1/auth/password", {
      method: "POST",
      ...as(t.slug, u),
      json: { currentPassword: u.password, newPassword: next },
    });
    expect(r.status, await r.clone().text()).toBe(204);
    const notice = await mailTo(u.email, /password was changed/);
    expect(notice.text).toMatch(/UTC/);
    // A wrong current password changes nothing and mails nothing (a later reset is the marker).
    await call("/v1/auth/password", {
      method: "POST",
      ...as(t.slug, u),
      json: { currentPassword: password(), newPassword: password() },
    });
    await postJson(t.slug, "/v1/auth/password/reset", { email: u.email });
    await mailTo(u.email, /Reset your/);
    expect((await inbox(u.email)).filter((m) => /password was changed/.test(m.subject))).toHaveLength(1);
  });
});

describe("mail content", () => {
  it("escapes HTML in a user's name in the HTML part", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug, { email: freshAddress("xss") });
    const evil = `<img src=x onerror=alert(1)>`;
    const patched = await call("/v1/me", {
      method: "PATCH",
      ...as(t.slug, u),
      json: { nickname: evil, locale: "es-MX" },
    });
    expect(patched.status, await patched.clone().text()).toBe(200);
    await postJson(t.slug, "/v1/auth/password/reset", { email: u.email });
    const mail = await mailTo(u.email, /Restablece/);
    expect(mail.html).not.toContain("<img src=x");
    expect(mail.html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    // The text part prints the name as given; the reader's locale (es-MX → es) picks the language.
    expect(mail.text).toContain(evil);
    expect(mail.html).toContain('lang="es"');
  });
});
