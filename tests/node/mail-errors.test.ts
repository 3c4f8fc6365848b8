/**
 * How the mail transports fail: every failure is a MailError, retryable where waiting can help
 * (no answer, a timeout, 429, 5xx) and final where it cannot (other 4xx); and the MIME message
 * the Cloudflare transport hands its binding reads back whole in an independent parser.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import PostalMime from "postal-mime";
import { describe, expect, it } from "vitest";
import type { FetchLike } from "../../src/lib/mail/http";
import { MailError, type MailMessage } from "../../src/lib/mail/message";
import { buildMime } from "../../src/lib/mail/mime";
import { PostmarkTransport } from "../../src/lib/mail/postmark";
import { ResendTransport } from "../../src/lib/mail/resend";

const message: MailMessage = {
  from: "Canopy <no-reply@canopy.test>",
  to: "ada@example.com",
  subject: "Hi",
  text: "Hello",
};

/** A provider that answers `status` with `body` (a fake of what is outside the system). */
const answering =
  (status: number, body: unknown): FetchLike =>
  async () =>
    new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

async function failure(send: Promise<void>): Promise<MailError> {
  const err = await send.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MailError);
  return err as MailError;
}

const both = (fetch: FetchLike, timeoutMs?: number) => [
  new ResendTransport("key", { baseUrl: "http://provider.test", fetch, timeoutMs }),
  new PostmarkTransport("key", { baseUrl: "http://provider.test", fetch, timeoutMs }),
];

describe("MailError.retryable", () => {
  it.each([
    [429, true],
    [500, true],
    [502, true],
    [503, true],
    [400, false],
    [401, false],
    [403, false],
    [404, false],
    [422, false],
  ])("HTTP %i is retryable: %s", async (status, retryable) => {
    for (const t of both(answering(status, { name: "x", message: "m", ErrorCode: 300, Message: "m" }))) {
      const err = await failure(t.send(message, { idempotencyKey: "k" }));
      expect(err.retryable).toBe(retryable);
      expect(err.message).toContain(`HTTP ${status}`);
    }
  });

  it("no answer (a closed port) is retryable", async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((r) => server.close(() => r()));
    for (const t of [
      new ResendTransport("key", { baseUrl: `http://127.0.0.1:${port}` }),
      new PostmarkTransport("key", { baseUrl: `http://127.0.0.1:${port}` }),
    ]) {
      const err = await failure(t.send(message, { idempotencyKey: "k" }));
      expect(err.retryable).toBe(true);
    }
  });

  it("an answer that does not come in time is retryable", async () => {
    const hang: FetchLike = (_url, init) =>
      new Promise((_, reject) => init.signal?.addEventListener("abort", () => reject(init.signal?.reason)));
    for (const t of both(hang, 50)) {
      const err = await failure(t.send(message, { idempotencyKey: "k" }));
      expect(err.retryable).toBe(true);
      expect(err.message).toContain("did not answer");
    }
  });

  it("Resend's 409 for a request still running with the key is retryable; another body with the key is not", async () => {
    const [resend] = both(answering(409, { name: "concurrent_idempotent_requests", message: "in progress" }));
    expect((await failure(resend!.send(message, { idempotencyKey: "k" }))).retryable).toBe(true);
    const [again] = both(answering(409, { name: "invalid_idempotent_request", message: "other payload" }));
    expect((await failure(again!.send(message, { idempotencyKey: "k" }))).retryable).toBe(false);
  });

  it("Postmark's 200 with a non-zero ErrorCode is a final failure", async () => {
    const [, postmark] = both(answering(200, { ErrorCode: 406, Message: "Inactive recipient" }));
    const err = await failure(postmark!.send(message, { idempotencyKey: "k" }));
    expect(err).toMatchObject({ retryable: false, message: expect.stringContaining("Inactive recipient") });
  });

  it("the request carries the key and the credentials in the provider's headers", async () => {
    const seen: Headers[] = [];
    const record: FetchLike = async (_url, init) => {
      seen.push(new Headers(init.headers));
      return new Response("{}", { status: 200 });
    };
    for (const t of both(record)) await t.send(message, { idempotencyKey: "welcome/42" });
    expect(seen[0]?.get("authorization")).toBe("Bearer key");
    expect(seen[0]?.get("idempotency-key")).toBe("welcome/42");
    expect(seen[1]?.get("x-postmark-server-token")).toBe("key");
  });
});

describe("the Cloudflare transport's MIME message", () => {
  it("reads back whole in postal-mime: addresses, encoded subject, both parts, reply-to, headers", async () => {
    const long = `${"é".repeat(500)} https://example.com/${"x".repeat(1200)}`;
    const mail = buildMime({
      from: "Canopy Ünïcode <no-reply@canopy.test>",
      to: "Ada <ada@example.com>",
      subject: "Réinitialisez 🔑",
      text: long,
      html: "<p>Salut 👋</p>",
      replyTo: "support@canopy.test",
      headers: { "X-Entity-Ref-ID": "reset-42" },
    });
    expect(mail).toMatchObject({ envelopeFrom: "no-reply@canopy.test", envelopeTo: "ada@example.com" });
    expect(mail.raw.split("\r\n").every((line) => line.length <= 998)).toBe(true);
    const parsed = await PostalMime.parse(mail.raw);
    expect(parsed.from).toEqual({ name: "Canopy Ünïcode", address: "no-reply@canopy.test" });
    expect(parsed.to).toEqual([{ name: "Ada", address: "ada@example.com" }]);
    expect(parsed.subject).toBe("Réinitialisez 🔑");
    expect(parsed.text?.trimEnd()).toBe(long);
    expect(parsed.html?.trimEnd()).toBe("<p>Salut 👋</p>");
    expect(parsed.replyTo?.[0]).toMatchObject({ address: "support@canopy.test" });
    expect(parsed.headers.find((h) => h.key === "x-entity-ref-id")?.value).toBe("reset-42");
    expect(parsed.messageId).toBeTruthy();
  });

  it.each([
    ["a line break in the subject", { subject: "Hi\r\nBcc: eve@evil.test" }],
    ["a line break in an address", { to: "ada@example.com\r\nBcc: eve@evil.test" }],
    ["a line break in a header value", { headers: { "X-A": "1\r\nBcc: eve@evil.test" } }],
    ["a header that rewrites the structure", { headers: { Bcc: "eve@evil.test" } }],
    ["a header name with a colon", { headers: { "X:A": "1" } }],
    ["a recipient that is not an address", { to: "nobody" }],
  ])("refuses %s, finally", (_what, change) => {
    let err: unknown;
    try {
      buildMime({ ...message, ...change });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MailError);
    expect(err).toMatchObject({ retryable: false });
  });
});
