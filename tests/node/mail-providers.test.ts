/**
 * Canopy's Resend and Postmark transports speak the providers' wire shapes: the official SDKs
 * (`resend`, `postmark`) and our fetch transports send the same message to the local mail
 * catcher (tools/mail-catcher), and the catcher must store the same thing from both. The
 * providers themselves are out of reach from here; their SDKs are the reference for the shape.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { ServerClient } from "postmark";
import { Resend } from "resend";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MailError, type MailMessage } from "../../src/lib/mail/message";
import { PostmarkTransport } from "../../src/lib/mail/postmark";
import { ResendTransport } from "../../src/lib/mail/resend";
import { startMailCatcher, type CaughtMail, type MailCatcher } from "../../tools/mail-catcher/server";

let catcher: MailCatcher;
const lines: string[] = [];

beforeAll(async () => {
  catcher = await startMailCatcher({
    port: 0,
    token: randomBytes(24).toString("base64url"),
    log: (l) => lines.push(l),
  });
});
afterAll(() => catcher?.close());

/** A message to an address no other test uses, with everything a transport must carry. */
function messageTo(): MailMessage {
  const to = `ada+${randomUUID().slice(0, 8)}@example.com`;
  return {
    from: "Canopy <no-reply@canopy.test>",
    to,
    subject: "Réinitialisez votre mot de passe 🔑",
    text: `Bonjour,\n\nOpen http://localhost:8787/reset?token=abc.def to choose a new password.\n`,
    html: `<p>Open <a href="http://localhost:8787/reset?token=abc.def">this link</a>.</p>`,
    replyTo: "support@canopy.test",
    headers: { "X-Entity-Ref-ID": "reset-42" },
  };
}

async function inbox(to: string): Promise<CaughtMail[]> {
  const res = await fetch(`${catcher.url}/messages?to=${encodeURIComponent(to)}`, {
    headers: { authorization: `Bearer ${catcher.token}` },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: CaughtMail[] }).items;
}

/** What a client controls: the stored message without the catcher's id and time. */
const sent = ({ id: _id, receivedAt: _at, ...rest }: CaughtMail) => rest;

const postmarkSdk = (token: string) =>
  new ServerClient(token, { useHttps: false, requestHost: new URL(catcher.url).host });

describe("the transports send what the official SDKs send", () => {
  it("Resend: the resend package and ResendTransport store equal messages", async () => {
    const m = messageTo();
    const sdk = new Resend(catcher.token, { baseUrl: catcher.url });
    const official = await sdk.emails.send(
      {
        from: m.from,
        to: [m.to],
        subject: m.subject,
        text: m.text,
        html: m.html,
        replyTo: m.replyTo,
        headers: m.headers,
      },
      { idempotencyKey: randomUUID() },
    );
    expect(official.error).toBeNull();
    await new ResendTransport(catcher.token, { baseUrl: catcher.url }).send(m, { idempotencyKey: randomUUID() });

    const [ours, theirs] = await inbox(m.to);
    expect(theirs?.id).toBe(official.data?.id);
    expect(sent(ours!)).toEqual(sent(theirs!));
    expect(sent(ours!)).toEqual({
      provider: "resend",
      from: m.from,
      to: [m.to],
      replyTo: [m.replyTo],
      subject: m.subject,
      text: m.text,
      html: m.html,
      headers: m.headers,
    });
  });

  it("Postmark: the postmark package and PostmarkTransport store equal messages", async () => {
    const m = messageTo();
    const official = await postmarkSdk(catcher.token).sendEmail({
      From: m.from,
      To: m.to,
      Subject: m.subject,
      TextBody: m.text,
      HtmlBody: m.html,
      ReplyTo: m.replyTo,
      Headers: Object.entries(m.headers ?? {}).map(([Name, Value]) => ({ Name, Value })),
      MessageStream: "outbound",
    });
    expect(official.ErrorCode).toBe(0);
    await new PostmarkTransport(catcher.token, { baseUrl: catcher.url }).send(m, { idempotencyKey: randomUUID() });

    const [ours, theirs] = await inbox(m.to);
    expect(theirs?.id).toBe(official.MessageID);
    expect(sent(ours!)).toEqual(sent(theirs!));
    // The same message through either provider arrives the same.
    await new ResendTransport(catcher.token, { baseUrl: catcher.url }).send(m, { idempotencyKey: randomUUID() });
    const [viaResend] = await inbox(m.to);
    expect({ ...sent(ours!), provider: "resend" }).toEqual(sent(viaResend!));
  });

  it("a message without html or reply-to carries neither, in both shapes", async () => {
    const m: MailMessage = { from: "no-reply@canopy.test", to: messageTo().to, subject: "Hi", text: "Plain." };
    await new ResendTransport(catcher.token, { baseUrl: catcher.url }).send(m, { idempotencyKey: randomUUID() });
    await new PostmarkTransport(catcher.token, { baseUrl: `${catcher.url}/` }).send(m, { idempotencyKey: "k" });
    for (const got of await inbox(m.to)) {
      expect(got).toMatchObject({ from: m.from, to: [m.to], replyTo: [], text: "Plain.", html: null, headers: {} });
    }
  });
});

describe("the catcher answers like the providers", () => {
  it("refuses a wrong token, through the SDKs and through our transports, and stores nothing", async () => {
    const m = messageTo();
    const refused = await new Resend("re_wrong", { baseUrl: catcher.url }).emails.send({
      from: m.from,
      to: m.to,
      subject: m.subject,
      text: m.text,
    });
    expect(refused.error).toMatchObject({ statusCode: 403, name: "invalid_api_key" });
    await expect(
      postmarkSdk("wrong").sendEmail({ From: m.from, To: m.to, Subject: "x", TextBody: "x" }),
    ).rejects.toMatchObject({ statusCode: 401, code: 10 });

    for (const transport of [
      new ResendTransport("wrong", { baseUrl: catcher.url }),
      new PostmarkTransport("wrong", { baseUrl: catcher.url }),
    ]) {
      const err = await transport.send(m, { idempotencyKey: randomUUID() }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MailError);
      expect(err).toMatchObject({ retryable: false });
    }
    expect(await inbox(m.to)).toEqual([]);
  });

  it("a repeated Idempotency-Key answers the first id and stores the message once", async () => {
    const m = messageTo();
    const key = randomUUID();
    const transport = new ResendTransport(catcher.token, { baseUrl: catcher.url });
    await transport.send(m, { idempotencyKey: key });
    await transport.send(m, { idempotencyKey: key });
    const sdk = new Resend(catcher.token, { baseUrl: catcher.url });
    const again = await sdk.emails.send(
      {
        from: m.from,
        to: [m.to],
        subject: m.subject,
        text: m.text,
        html: m.html,
        replyTo: m.replyTo,
        headers: m.headers,
      },
      { idempotencyKey: key },
    );
    const stored = await inbox(m.to);
    expect(stored).toHaveLength(1);
    expect(again.data?.id).toBe(stored[0]?.id);
    // The same key with another message is the caller's bug: 409, final.
    const err = await transport.send({ ...m, subject: "Another" }, { idempotencyKey: key }).catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: false, message: expect.stringContaining("invalid_idempotent_request") });
  });

  it("answers 422 in each provider's error shape for a malformed body", async () => {
    const post = (path: string, headers: Record<string, string>, body: string) =>
      fetch(`${catcher.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body,
      });
    const resend = await post(
      "/emails",
      { authorization: `Bearer ${catcher.token}` },
      JSON.stringify({ from: "a@b.c" }),
    );
    expect(resend.status).toBe(422);
    expect(await resend.json()).toMatchObject({ statusCode: 422, name: "validation_error" });
    const postmark = await post("/email", { "x-postmark-server-token": catcher.token }, "{not json");
    expect(postmark.status).toBe(422);
    expect(await postmark.json()).toMatchObject({ ErrorCode: 402 });
    const noBody = await post(
      "/email",
      { "x-postmark-server-token": catcher.token },
      JSON.stringify({ From: "a@b.c", To: "d@e.f", Subject: "x" }),
    );
    expect(await noBody.json()).toMatchObject({ ErrorCode: 300 });
    expect((await fetch(`${catcher.url}/messages`)).status).toBe(401);
  });

  it("logs one line per message with its recipient, subject and every link of the text", async () => {
    const m = { ...messageTo(), text: "Go to https://example.com/a?b=c. Or http://localhost:8787/x, then stop." };
    await new ResendTransport(catcher.token, { baseUrl: catcher.url }).send(m, { idempotencyKey: randomUUID() });
    const line = lines.find((l) => l.includes(m.to));
    expect(line).toBe(`mail  ${m.to}  "${m.subject}"  https://example.com/a?b=c  http://localhost:8787/x`);
  });

  it("pages the inbox newest first and empties one recipient's part", async () => {
    const m = messageTo();
    const transport = new ResendTransport(catcher.token, { baseUrl: catcher.url });
    for (const subject of ["one", "two", "three"])
      await transport.send({ ...m, subject }, { idempotencyKey: randomUUID() });
    const auth = { authorization: `Bearer ${catcher.token}` };
    const page = async (query: string) =>
      (
        (await (
          await fetch(`${catcher.url}/messages?to=${encodeURIComponent(m.to)}&${query}`, { headers: auth })
        ).json()) as {
          items: CaughtMail[];
        }
      ).items;
    const first = await page("limit=2");
    expect(first.map((x) => x.subject)).toEqual(["three", "two"]);
    expect((await page(`limit=2&before=${first[1]!.id}`)).map((x) => x.subject)).toEqual(["one"]);
    const res = await fetch(`${catcher.url}/messages?to=${encodeURIComponent(m.to.toUpperCase())}`, {
      method: "DELETE",
      headers: auth,
    });
    expect(await res.json()).toEqual({ deleted: 3 });
    expect(catcher.messages().some((x) => x.to.includes(m.to))).toBe(false);
  });
});
