/**
 * Mail from inside workerd: the transport MAIL_TRANSPORT names really delivers (to the local
 * mail catcher the global setup runs, through the real Resend transport; to Miniflare's real
 * send_email binding for "cloudflare"), and the dev inbox lists what arrived. Each test mails
 * its own address, so tests in parallel never read each other's mail.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import worker from "../../src/index";
import { MailError, type MailMessage } from "../../src/lib/mail/message";
import { mailFrom, mailTransport } from "../../src/workers/mail/transport";
import { call, expectProblem } from "./helpers";

interface Caught {
  id: string;
  provider: string;
  from: string;
  to: string[];
  subject: string;
  text: string | null;
  html: string | null;
}

const address = () => `newcomer+${crypto.randomUUID().slice(0, 8)}@example.com`;

const resetMail = (to: string, subject = "Reset your password"): MailMessage => ({
  from: mailFrom(env),
  to,
  subject,
  text: `Choose a new password: http://localhost:8787/reset?token=${crypto.randomUUID()}`,
  html: "<p>Choose a new password.</p>",
});

/** The catcher's inbox for one address, read directly (not through the Worker). */
async function caught(to: string): Promise<Caught[]> {
  const mail = inject("mail");
  const res = await fetch(`${mail.url}/messages?to=${encodeURIComponent(to)}`, {
    headers: { authorization: `Bearer ${mail.token}` },
  });
  expect(res.status).toBe(200);
  return (await res.json<{ items: Caught[] }>()).items;
}

/** The Worker with other bindings, called as a client would call it. */
async function callWith(bindings: Partial<Env>, path: string): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`http://api.test${path}`, { headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } }),
    { ...env, ...bindings },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

describe("mailTransport(env)", () => {
  it("delivers through the configured Resend transport to the local catcher", async () => {
    const to = address();
    const transport = mailTransport(env);
    expect(transport.name).toBe("resend");
    await transport.send(resetMail(to), { idempotencyKey: crypto.randomUUID() });
    const [got, ...rest] = await caught(to);
    expect(rest).toEqual([]);
    expect(got).toMatchObject({
      provider: "resend",
      from: "Canopy <no-reply@localhost>",
      to: [to],
      subject: "Reset your password",
      html: "<p>Choose a new password.</p>",
    });
    expect(got?.text).toMatch(/^Choose a new password: http:\/\/localhost:8787\/reset\?token=/);
  });

  it("sends a retried message once (the same idempotency key)", async () => {
    const to = address();
    const key = crypto.randomUUID();
    const message = resetMail(to);
    await mailTransport(env).send(message, { idempotencyKey: key });
    await mailTransport(env).send(message, { idempotencyKey: key });
    expect(await caught(to)).toHaveLength(1);
  });

  it("hands the MIME message to the send_email binding for MAIL_TRANSPORT=cloudflare", async () => {
    const transport = mailTransport({
      ...env,
      MAIL_TRANSPORT: "cloudflare",
      MAIL_FROM: "Canopy <no-reply@canopy.test>",
    });
    expect(transport.name).toBe("cloudflare");
    // Miniflare's binding parses the message and checks its From against the envelope.
    await transport.send({ ...resetMail(address()), from: "Canopy <no-reply@canopy.test>" }, { idempotencyKey: "k" });
  });

  it("fails at send time, finally, with what to configure when mail is not set up", async () => {
    for (const [bindings, says] of [
      [{ MAIL_TRANSPORT: "" }, "MAIL_TRANSPORT is not set"],
      [{ MAIL_TRANSPORT: "smtp" }, 'MAIL_TRANSPORT "smtp" is not a known transport'],
      [{ MAIL_TRANSPORT: "postmark", MAIL_API_KEY: "" }, "MAIL_API_KEY is not set"],
      [{ MAIL_TRANSPORT: "cloudflare", EMAIL: undefined }, "no send_email binding EMAIL"],
    ] as const) {
      const err = await mailTransport({ ...env, ...bindings })
        .send(resetMail(address()), { idempotencyKey: "k" })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MailError);
      expect(err).toMatchObject({ retryable: false, message: expect.stringContaining(says) });
      expect((err as Error).message).toContain("docs/mail.md");
    }
  });

  it("mailFrom falls back to the local sender when MAIL_FROM is empty", () => {
    expect(mailFrom({ MAIL_FROM: "Acme <hello@acme.test>" })).toBe("Acme <hello@acme.test>");
    expect(mailFrom({ MAIL_FROM: "" })).toBe("Canopy <no-reply@localhost>");
  });
});

describe("GET /admin/v1/dev/mail", () => {
  it("lists the caught mail of one address, newest first, a page at a time", async () => {
    const to = address();
    for (const subject of ["first", "second", "third"])
      await mailTransport(env).send(resetMail(to, subject), { idempotencyKey: crypto.randomUUID() });
    const res = await call(`/admin/v1/dev/mail?to=${encodeURIComponent(to.toUpperCase())}&limit=2`, { admin: true });
    expect(res.status, await res.clone().text()).toBe(200);
    const page = await res.json<{ items: Caught[]; nextCursor: string | null }>();
    expect(page.items.map((m) => m.subject)).toEqual(["third", "second"]);
    expect(page.items[0]).toMatchObject({ to: [to], from: "Canopy <no-reply@localhost>" });
    const next = await call(`/admin/v1/dev/mail?to=${encodeURIComponent(to)}&limit=2&cursor=${page.nextCursor}`, {
      admin: true,
    });
    const rest = await next.json<{ items: Caught[]; nextCursor: string | null }>();
    expect(rest).toMatchObject({ items: [{ subject: "first" }], nextCursor: null });
  });

  it("needs the platform admin token", async () => {
    await expectProblem(await call("/admin/v1/dev/mail"), 401, "admin_unauthorized");
  });

  it("does not exist outside development and test", async () => {
    const res = await callWith({ ENVIRONMENT: "production" }, "/admin/v1/dev/mail");
    const problem = await expectProblem(res, 404, "route_not_found");
    expect(problem.detail).toBe("No route for GET /admin/v1/dev/mail.");
  });

  it("answers 503 saying why when the catcher is not there", async () => {
    const down = await callWith({ MAIL_API_URL: "http://127.0.0.1:9" }, "/admin/v1/dev/mail");
    expect((await expectProblem(down, 503, "service_unavailable")).detail).toContain("did not answer");
    const unset = await callWith({ MAIL_API_URL: "" }, "/admin/v1/dev/mail");
    expect((await expectProblem(unset, 503, "service_unavailable")).detail).toContain("MAIL_API_URL is not set");
  });
});
