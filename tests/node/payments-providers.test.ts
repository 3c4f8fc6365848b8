/**
 * The payment providers behind src/lib/payments/provider.ts. The sandbox is ours end to end: its
 * signed confirmations must verify and everything else must be refused. Stripe is out of reach,
 * so the official package talks to a tiny fake of `POST /v1/payment_intents` on a local port, and
 * webhooks are signed with the package's own test helper, as Stripe would sign them.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PaymentRefused, WebhookRefused, type PaymentRequest } from "../../src/lib/payments/provider";
import { newSandboxSecret, SandboxProvider, type SandboxOutcome } from "../../src/lib/payments/sandbox";
import { StripeProvider } from "../../src/lib/payments/stripe";

const now = Date.UTC(2026, 11, 5, 12, 0, 0);

async function refused(p: Promise<unknown>): Promise<WebhookRefused> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WebhookRefused);
  return err as WebhookRefused;
}

describe("sandbox provider", () => {
  const secret = newSandboxSecret();
  const sandbox = new SandboxProvider({ webhookSecret: secret, baseUrl: "https://acme.example.com/v1" });
  const paid: SandboxOutcome = {
    outcome: "succeeded",
    topUpId: "tu_1",
    providerRef: "sbx_tu_1",
    tenantId: "acme",
    amount: 1999n,
    currency: "EUR",
  };

  it("creates a payment deterministically, without I/O", async () => {
    const request: PaymentRequest = {
      tenantId: "acme",
      topUpId: "tu_1",
      userId: "u_1",
      amount: 1999n,
      currency: "EUR",
      idempotencyKey: "topup:acme:tu_1",
    };
    const created = await sandbox.createPayment(request);
    expect(created).toEqual({
      providerRef: "sbx_tu_1",
      checkout: {
        type: "sandbox",
        completeUrl: "https://acme.example.com/v1/payments/sandbox/tu_1/complete",
        failUrl: "https://acme.example.com/v1/payments/sandbox/tu_1/fail",
      },
    });
    expect(await sandbox.createPayment(request)).toEqual(created);
  });

  it("a signed success verifies into the event it describes", async () => {
    const { body, headers } = await sandbox.signedEvent(paid, now);
    const event = await sandbox.verifyWebhook(body, new Headers(headers), now + 1000);
    expect(event).toEqual({
      eventId: headers["webhook-id"],
      outcome: "succeeded",
      type: "payment.succeeded",
      providerRef: "sbx_tu_1",
      topUpId: "tu_1",
      tenantId: "acme",
      amount: 1999n,
      currency: "EUR",
    });
    expect(event.eventId).toMatch(/^evt_[0-9a-z]{26}$/);
    expect(JSON.parse(body)).toMatchObject({ id: event.eventId, created: now / 1000, data: { amount: 1999 } });
  });

  it("a signed failure carries its reason", async () => {
    const { body, headers } = await sandbox.signedEvent({ ...paid, outcome: "failed", reason: "card_declined" }, now);
    expect(await sandbox.verifyWebhook(body, new Headers(headers), now)).toMatchObject({
      outcome: "failed",
      type: "payment.failed",
      reason: "card_declined",
      amount: 1999n,
    });
  });

  it("a tampered body, a stale or future timestamp, another secret, a missing header are refused", async () => {
    const { body, headers } = await sandbox.signedEvent(paid, now);
    await refused(sandbox.verifyWebhook(body.replace("1999", "9999"), new Headers(headers), now));
    await refused(sandbox.verifyWebhook(body, new Headers(headers), now + 301_000));
    await refused(sandbox.verifyWebhook(body, new Headers(headers), now - 301_000));
    const other = new SandboxProvider({ webhookSecret: newSandboxSecret(), baseUrl: "https://acme.example.com/v1" });
    await refused(other.verifyWebhook(body, new Headers(headers), now));
    for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"]) {
      const h = new Headers(headers);
      h.delete(name);
      await refused(sandbox.verifyWebhook(body, h, now));
    }
  });

  /** A body of our choosing, correctly signed with the sandbox's secret (as a leaked-secret forger or a bug would). */
  async function signedRaw(body: string, id = "evt_x"): Promise<Headers> {
    const { signatureHeaders } = await import("../../src/lib/standard-webhooks");
    return new Headers(await signatureHeaders([secret], id, now / 1000, body));
  }

  it("malformed or ill-typed bodies are refused even when correctly signed", async () => {
    const good = { id: "evt_x", type: "payment.succeeded", created: now / 1000, data: { ...paid, amount: 1999 } };
    const { outcome: _o, ...data } = good.data;
    const base = { ...good, data };
    const bodies = [
      "{not json",
      "",
      "null",
      "[]",
      JSON.stringify({ ...base, data: { ...data, amount: "1999" } }),
      JSON.stringify({ ...base, data: { ...data, amount: 19.99 } }),
      JSON.stringify({ ...base, data: { ...data, amount: 0 } }),
      JSON.stringify({ ...base, data: { ...data, amount: -5 } }),
      JSON.stringify({ ...base, data: { ...data, amount: 2 ** 53 } }),
      JSON.stringify({ ...base, data: { ...data, currency: "eur" } }),
      JSON.stringify({ ...base, data: { ...data, currency: "EURO_X" } }),
      JSON.stringify({ ...base, data: { ...data, extra: true } }),
      JSON.stringify({ ...base, data: { ...data, tenantId: undefined } }),
      JSON.stringify({ ...base, extra: 1 }),
      JSON.stringify({ ...base, id: "evt_other" }),
    ];
    for (const body of bodies) {
      const headers = await signedRaw(body);
      await refused(sandbox.verifyWebhook(body, headers, now));
    }
    // The same envelope, well formed, verifies: the refusals above are about the body alone.
    const ok = JSON.stringify(base);
    expect(await sandbox.verifyWebhook(ok, await signedRaw(ok), now)).toMatchObject({ outcome: "succeeded" });
  });

  it("an event of an unknown type is verified and ignored", async () => {
    const body = JSON.stringify({ id: "evt_x", type: "payment.disputed", created: now / 1000, data: { whatever: 1 } });
    expect(await sandbox.verifyWebhook(body, await signedRaw(body), now)).toEqual({
      eventId: "evt_x",
      outcome: "ignored",
      type: "payment.disputed",
      providerRef: null,
      topUpId: null,
      tenantId: null,
      amount: null,
      currency: null,
    });
  });
});

/** What the fake Stripe API saw of one request. */
interface Seen {
  path: string;
  idempotencyKey: string | undefined;
  authorization: string | undefined;
  form: URLSearchParams;
}

describe("Stripe provider", () => {
  let server: Server;
  let apiUrl: string;
  const seen: Seen[] = [];
  const webhookSecret = "whsec_test_canopy";
  const crypto = Stripe.createSubtleCryptoProvider();

  beforeAll(async () => {
    server = createServer((req, res) => {
      let raw = "";
      req.on("data", (c: Buffer) => (raw += c.toString("utf8")));
      req.on("end", () => {
        const form = new URLSearchParams(raw);
        seen.push({
          path: req.url ?? "",
          idempotencyKey: req.headers["idempotency-key"] as string | undefined,
          authorization: req.headers.authorization,
          form,
        });
        res.setHeader("content-type", "application/json");
        if (req.method !== "POST" || req.url !== "/v1/payment_intents") {
          res.statusCode = 404;
          res.end(JSON.stringify({ error: { type: "invalid_request_error", message: "Unrecognized request URL" } }));
          return;
        }
        const amount = Number(form.get("amount"));
        if (amount < 50) {
          res.statusCode = 400;
          res.end(
            JSON.stringify({
              error: {
                type: "invalid_request_error",
                code: "amount_too_small",
                message: "Amount must be at least €0.50 eur",
                param: "amount",
              },
            }),
          );
          return;
        }
        if (amount === 4242) {
          res.statusCode = 401;
          res.end(JSON.stringify({ error: { type: "invalid_request_error", message: "Invalid API Key provided" } }));
          return;
        }
        const topUpId = form.get("metadata[topUpId]");
        res.statusCode = 200;
        res.end(
          JSON.stringify({
            id: `pi_${topUpId}`,
            object: "payment_intent",
            amount,
            currency: form.get("currency"),
            client_secret: `pi_${topUpId}_secret_fake`,
            status: "requires_payment_method",
            metadata: {
              tenantId: form.get("metadata[tenantId]"),
              topUpId,
              userId: form.get("metadata[userId]"),
            },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server?.close(() => resolve())));

  const provider = () =>
    new StripeProvider({ secretKey: "sk_test_canopy", webhookSecret, publishableKey: "pk_test_canopy", apiUrl });

  const request = (topUpId: string, over: Partial<PaymentRequest> = {}): PaymentRequest => ({
    tenantId: "acme",
    topUpId,
    userId: "u_1",
    amount: 1999n,
    currency: "EUR",
    idempotencyKey: `topup:acme:${topUpId}`,
    ...over,
  });

  it("creates a PaymentIntent with amount, currency, metadata and the idempotency key", async () => {
    const created = await provider().createPayment(request("tu_s1"));
    expect(created).toEqual({
      providerRef: "pi_tu_s1",
      checkout: { type: "client_secret", clientSecret: "pi_tu_s1_secret_fake", publishableKey: "pk_test_canopy" },
    });
    const call = seen.find((s) => s.form.get("metadata[topUpId]") === "tu_s1")!;
    expect(call.path).toBe("/v1/payment_intents");
    expect(call.idempotencyKey).toBe("topup:acme:tu_s1");
    expect(call.authorization).toBe("Bearer sk_test_canopy");
    expect(Object.fromEntries(call.form)).toEqual({
      amount: "1999",
      currency: "eur",
      "automatic_payment_methods[enabled]": "true",
      "metadata[tenantId]": "acme",
      "metadata[topUpId]": "tu_s1",
      "metadata[userId]": "u_1",
    });
  });

  it("a 400 invalid_request_error is a PaymentRefused with Stripe's message", async () => {
    const err = await provider()
      .createPayment(request("tu_s2", { amount: 10n }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PaymentRefused);
    expect((err as Error).message).toBe("Amount must be at least €0.50 eur");
  });

  it("other Stripe errors are not refusals: they are rethrown as they are", async () => {
    const err = await provider()
      .createPayment(request("tu_s3", { amount: 4242n }))
      .catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(PaymentRefused);
    expect(err).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
  });

  it("currencies Stripe counts differently from ISO 4217 are refused before any request", async () => {
    const before = seen.length;
    for (const currency of ["HUF", "TWD", "ISK", "UGX"]) {
      await expect(provider().createPayment(request("tu_s4", { currency }))).rejects.toBeInstanceOf(PaymentRefused);
    }
    expect(seen.length).toBe(before);
  });

  /** A `payment_intent.*` event as Stripe sends it (trimmed to what matters). */
  function intentEvent(type: string, intent: Record<string, unknown>, id = "evt_1"): string {
    return JSON.stringify({
      id,
      object: "event",
      api_version: "2026-11-18.endive",
      created: now / 1000,
      type,
      livemode: false,
      data: {
        object: {
          id: "pi_tu_w1",
          object: "payment_intent",
          amount: 1999,
          amount_received: 1999,
          currency: "eur",
          metadata: { tenantId: "acme", topUpId: "tu_w1", userId: "u_1" },
          last_payment_error: null,
          ...intent,
        },
      },
    });
  }

  const signed = async (payload: string, timestamp = now / 1000, secret = webhookSecret) =>
    new Headers({
      "stripe-signature": await Stripe.webhooks.generateTestHeaderStringAsync({
        payload,
        secret,
        timestamp,
        cryptoProvider: crypto,
      }),
    });

  it("a signed payment_intent.succeeded verifies into a success", async () => {
    const body = intentEvent("payment_intent.succeeded", { amount_received: 1999 });
    expect(await provider().verifyWebhook(body, await signed(body), now + 5000)).toEqual({
      eventId: "evt_1",
      outcome: "succeeded",
      type: "payment_intent.succeeded",
      providerRef: "pi_tu_w1",
      topUpId: "tu_w1",
      tenantId: "acme",
      amount: 1999n,
      currency: "EUR",
    });
  });

  it("a signed payment_intent.payment_failed verifies into a failure with the decline code", async () => {
    const body = intentEvent("payment_intent.payment_failed", {
      amount_received: 0,
      last_payment_error: { code: "card_declined", decline_code: "insufficient_funds", type: "card_error" },
    });
    expect(await provider().verifyWebhook(body, await signed(body), now)).toMatchObject({
      outcome: "failed",
      reason: "card_declined",
      providerRef: "pi_tu_w1",
      topUpId: "tu_w1",
      amount: 1999n,
      currency: "EUR",
    });
    const noCode = intentEvent("payment_intent.payment_failed", { amount_received: 0 });
    expect(await provider().verifyWebhook(noCode, await signed(noCode), now)).toMatchObject({
      outcome: "failed",
      reason: "payment_failed",
    });
  });

  it("other event types are verified and ignored", async () => {
    const body = JSON.stringify({
      id: "evt_2",
      object: "event",
      type: "charge.refunded",
      data: { object: { id: "ch_1", object: "charge", amount_refunded: 1999 } },
    });
    expect(await provider().verifyWebhook(body, await signed(body), now)).toEqual({
      eventId: "evt_2",
      outcome: "ignored",
      type: "charge.refunded",
      providerRef: null,
      topUpId: null,
      tenantId: null,
      amount: null,
      currency: null,
    });
  });

  it("stale, tampered, mis-signed, v0-only and unsigned webhooks are refused", async () => {
    const body = intentEvent("payment_intent.succeeded", {});
    const stripe = provider();
    await refused(stripe.verifyWebhook(body, await signed(body, now / 1000 - 301), now));
    await refused(stripe.verifyWebhook(body.replace("1999", "1998"), await signed(body), now));
    await refused(stripe.verifyWebhook(body, await signed(body, now / 1000, "whsec_someone_else"), now));
    await refused(stripe.verifyWebhook(body, new Headers(), now));
    const v0 = await Stripe.webhooks.generateTestHeaderStringAsync({
      payload: body,
      secret: webhookSecret,
      timestamp: now / 1000,
      scheme: "v0",
      cryptoProvider: crypto,
    });
    await refused(stripe.verifyWebhook(body, new Headers({ "stripe-signature": v0 }), now));
    // Correctly signed but not JSON.
    await refused(stripe.verifyWebhook("{nope", await signed("{nope"), now));
  });

  it("a correctly signed success whose PaymentIntent is malformed is refused", async () => {
    const body = intentEvent("payment_intent.succeeded", { amount_received: "1999" });
    await refused(provider().verifyWebhook(body, await signed(body), now));
  });
});
