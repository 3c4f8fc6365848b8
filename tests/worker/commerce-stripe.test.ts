import { sql } from "drizzle-orm";
import Stripe from "stripe";
import { afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { newWebhookSecret } from "../../src/lib/standard-webhooks";
import { as, registerUser } from "./auth-helpers";
import { balance, commerceTenant, expectReconciled, key, moneyHeaders, rows, type User } from "./commerce-helpers";
import { call, expectProblem } from "./helpers";

interface TopUp {
  id: string;
  status: string;
  provider: string;
  amount: number;
  currency: string;
  checkout: { type: string; clientSecret: string; publishableKey: string | null } | null;
  failure: string | null;
}

/** A request the fake Stripe API received (tests/setup/stripe-fake.ts). */
interface StripeRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Record<string, string>;
  status: number;
  response: { id?: string; error?: { type: string } };
}

const SECRET_KEY = "sk_test_canopy0stripe0fake0key";
const PUBLISHABLE_KEY = "pk_test_canopy0publishable";
const FAILING_AMOUNT = 13; // the fake answers 500 to this amount (stripe-fake.ts)

// The official package signs the test webhooks, with Web Crypto, as the provider verifies them:
// the signature scheme is Stripe's own, not a copy of it.
const signer = new Stripe("sk_test_signer", { httpClient: Stripe.createFetchHttpClient() });
const cryptoProvider = Stripe.createSubtleCryptoProvider();

/**
 * Top-ups through the Stripe provider, end to end: the official `stripe` package inside workerd
 * creates PaymentIntents on a fake Stripe API (global setup, STRIPE_API_URL), and webhooks signed
 * by the same package credit the wallet once, whatever is replayed, reordered, forged or late.
 */
describe("Stripe top-ups", () => {
  let slug: string;
  let tenantId: string;
  let owner: { tokens: User["tokens"] };
  let whsec: string;

  beforeAll(async () => {
    ({ slug, tenantId, owner } = await commerceTenant({ commerce: { currencies: ["CNY", "USD", "HUF"] } }));
    whsec = newWebhookSecret();
    const res = await call("/v1/admin/payments/providers/stripe", {
      method: "PUT",
      ...as(slug, owner),
      json: { secretKey: SECRET_KEY, webhookSecret: whsec, publishableKey: PUBLISHABLE_KEY, active: true },
    });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    expect(JSON.parse(text)).toMatchObject({
      provider: "stripe",
      active: true,
      configured: { secretKey: true, webhookSecret: true, publishableKey: true },
      publishableKey: PUBLISHABLE_KEY,
    });
    expect(text).not.toContain(SECRET_KEY);
    expect(text).not.toContain(whsec.slice(6));
  });
  afterEach(async () => {
    await expectReconciled(slug, owner);
  });

  const topUpCall = (u: User, amount: number, currency: string, k = key()) =>
    call("/v1/wallet/top-ups", {
      method: "POST",
      tenant: slug,
      headers: moneyHeaders(u, k),
      json: { amount, currency },
    });

  async function topUp(u: User, amount = 1000, currency = "CNY", k = key()): Promise<TopUp> {
    const res = await topUpCall(u, amount, currency, k);
    expect(res.status, await res.clone().text()).toBe(201);
    return res.json<TopUp>();
  }

  /** What the fake Stripe API received for one top-up (each carries its id in the metadata). */
  async function stripeSaw(filter: { topUpId?: string; userId?: string }): Promise<StripeRequest[]> {
    const res = await fetch(`${inject("stripe").url}/__requests`);
    const all = await res.json<StripeRequest[]>();
    return all.filter(
      (r) =>
        r.body["metadata[tenantId]"] === tenantId &&
        (filter.topUpId === undefined || r.body["metadata[topUpId]"] === filter.topUpId) &&
        (filter.userId === undefined || r.body["metadata[userId]"] === filter.userId),
    );
  }

  /** The PaymentIntent id in a client secret (`pi_…_secret_…`, as Stripe forms it). */
  const intentOf = (t: TopUp) => t.checkout!.clientSecret.split("_secret_")[0]!;

  /** A Stripe event about a top-up's PaymentIntent, signed by the `stripe` package. */
  async function signed(
    t: TopUp & { userId?: string },
    o: {
      type?: string;
      eventId?: string;
      timestamp?: number;
      secret?: string;
      scheme?: string;
      tenant?: string;
      intentId?: string;
      amountReceived?: number;
      currency?: string;
    } = {},
  ) {
    const type = o.type ?? "payment_intent.succeeded";
    const failed = type === "payment_intent.payment_failed";
    const timestamp = o.timestamp ?? Math.floor(Date.now() / 1000);
    const payload = JSON.stringify({
      id: o.eventId ?? `evt_${crypto.randomUUID().replaceAll("-", "")}`,
      object: "event",
      api_version: "2025-01-27.acacia",
      created: timestamp,
      livemode: false,
      type,
      data: {
        object: {
          id: o.intentId ?? intentOf(t),
          object: "payment_intent",
          amount: t.amount,
          amount_received: failed ? 0 : (o.amountReceived ?? t.amount),
          currency: (o.currency ?? t.currency).toLowerCase(),
          status: failed ? "requires_payment_method" : "succeeded",
          metadata: { tenantId: o.tenant ?? tenantId, topUpId: t.id, userId: t.userId ?? "u" },
          last_payment_error: failed ? { code: "card_declined", type: "card_error" } : null,
        },
      },
    });
    const header = await signer.webhooks.generateTestHeaderStringAsync({
      payload,
      secret: o.secret ?? whsec,
      timestamp,
      cryptoProvider,
      ...(o.scheme ? { scheme: o.scheme } : {}),
    });
    return { body: payload, headers: { "stripe-signature": header, "content-type": "application/json" } };
  }
  const deliver = (s: { body: string; headers: Record<string, string> }) =>
    call("/v1/payments/webhooks/stripe", { method: "POST", tenant: slug, headers: s.headers, body: s.body });
  const result = async (s: { body: string; headers: Record<string, string> }) => {
    const res = await deliver(s);
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json<{ result: string }>()).result;
  };

  const events = async (topUpId: string) =>
    (
      await rows<{ type: string }>(
        slug,
        sql`SELECT type FROM outbox WHERE json_extract(data, '$.topUpId') = ${topUpId} ORDER BY id`,
      )
    ).map((e) => e.type);
  const topUpsOf = (u: User) =>
    rows<{ status: string; failure: string | null; amount: number }>(
      slug,
      sql`SELECT status, failure, amount FROM top_ups WHERE user_id = ${u.userId} ORDER BY id`,
    );

  it("lists Stripe as the active provider without showing its secrets", async () => {
    const res = await call("/v1/admin/payments/providers", as(slug, owner));
    const text = await res.text();
    expect(res.status, text).toBe(200);
    expect(JSON.parse(text)).toMatchObject({ active: "stripe" });
    expect(text).not.toContain(SECRET_KEY);
    expect(text).not.toContain(whsec.slice(6));
  });

  it("a top-up creates one PaymentIntent, keyed by the top-up, and hands the client its secret", async () => {
    const u = await registerUser(slug);
    const k = key();
    const t = await topUp(u, 1999, "CNY", k);
    expect(t).toMatchObject({ status: "pending", provider: "stripe", amount: 1999, currency: "CNY" });
    expect(t.checkout).toEqual({
      type: "client_secret",
      clientSecret: expect.stringMatching(/^pi_\d+_secret_\w+$/),
      publishableKey: PUBLISHABLE_KEY,
    });
    const saw = await stripeSaw({ topUpId: t.id });
    expect(saw).toHaveLength(1);
    const [req] = saw;
    expect(req).toMatchObject({ method: "POST", path: "/v1/payment_intents", status: 200 });
    expect(req!.response.id).toBe(intentOf(t));
    expect(req!.body).toEqual({
      amount: "1999",
      currency: "cny",
      "automatic_payment_methods[enabled]": "true",
      "metadata[tenantId]": tenantId,
      "metadata[topUpId]": t.id,
      "metadata[userId]": u.userId,
    });
    expect(req!.headers.authorization).toBe(`Bearer ${SECRET_KEY}`);
    expect(req!.headers["idempotency-key"]).toBe(`topup:${tenantId}:${t.id}`);
    expect(await balance(slug, u)).toBe(0);
    // Canopy's own key replays the answer without asking Stripe again.
    const again = await topUpCall(u, 1999, "CNY", k);
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.json()).toEqual(t);
    expect(await stripeSaw({ userId: u.userId })).toHaveLength(1);
  });

  it("payment_intent.succeeded delivered five times at once, and again later, credits once", async () => {
    const u = await registerUser(slug);
    const t = { ...(await topUp(u, 2500)), userId: u.userId };
    const s = await signed(t);
    const answers = await Promise.all(Array.from({ length: 5 }, () => deliver(s)));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const results = await Promise.all(answers.map((r) => r.json<{ result: string }>()));
    expect(results.map((r) => r.result).sort()).toEqual([
      "credited",
      "duplicate",
      "duplicate",
      "duplicate",
      "duplicate",
    ]);
    expect(await result(s)).toBe("duplicate");
    // Another event about the same PaymentIntent (Stripe may send one per attempt): no second credit.
    expect(await result(await signed(t))).toBe("duplicate");
    expect(await balance(slug, u)).toBe(2500);
    expect(await events(t.id)).toEqual(["payment.succeeded"]);
    expect(await (await call(`/v1/wallet/top-ups/${t.id}`, as(slug, u))).json()).toMatchObject({
      status: "succeeded",
    });
    const entries = await (await call("/v1/wallet/transactions", as(slug, u))).json<{ items: unknown[] }>();
    expect(entries.items).toEqual([expect.objectContaining({ kind: "top_up", amount: 2500, balanceAfter: 2500 })]);
  });

  it("reordered events: a failed attempt fails the top-up, a later success credits, a late failure changes nothing", async () => {
    const u = await registerUser(slug);
    const t = { ...(await topUp(u, 800)), userId: u.userId };
    expect(await result(await signed(t, { type: "payment_intent.payment_failed" }))).toBe("failed");
    expect(await (await call(`/v1/wallet/top-ups/${t.id}`, as(slug, u))).json()).toMatchObject({
      status: "failed",
      failure: "card_declined",
    });
    expect(await balance(slug, u)).toBe(0);
    expect(await result(await signed(t))).toBe("credited");
    expect(await balance(slug, u)).toBe(800);
    expect(await result(await signed(t, { type: "payment_intent.payment_failed" }))).toBe("duplicate");
    expect(await (await call(`/v1/wallet/top-ups/${t.id}`, as(slug, u))).json()).toMatchObject({
      status: "succeeded",
    });
    expect(await balance(slug, u)).toBe(800);
    expect(await events(t.id)).toEqual(["payment.failed", "payment.succeeded"]);
  });

  it("stale, tampered, mis-signed, foreign and mismatched webhooks are refused and credit nothing", async () => {
    const u = await registerUser(slug);
    const t = { ...(await topUp(u, 700)), userId: u.userId };
    const good = await signed(t);
    const refusedSignature = async (s: { body: string; headers: Record<string, string> }) =>
      expectProblem(await deliver(s), 400, "webhook_signature_invalid");
    await refusedSignature({ body: good.body, headers: { "content-type": "application/json" } });
    await refusedSignature(await signed(t, { timestamp: Math.floor(Date.now() / 1000) - 301 }));
    // One byte changed: 700 received becomes 800.
    const tampered = good.body.replace('"amount_received":700', '"amount_received":800');
    expect(tampered.length).toBe(good.body.length);
    expect(tampered).not.toBe(good.body);
    await refusedSignature({ body: tampered, headers: good.headers });
    await refusedSignature(await signed(t, { secret: newWebhookSecret() }));
    await refusedSignature(await signed(t, { scheme: "v0" }));
    await refusedSignature({ body: "{", headers: good.headers });
    // Correctly signed, but about a payment this tenant does not have, or for another amount.
    await expectProblem(await deliver(await signed(t, { tenant: "another-tenant" })), 404, "payment_not_found");
    await expectProblem(await deliver(await signed({ ...t, id: "01nosuchtopup" })), 404, "payment_not_found");
    await expectProblem(await deliver(await signed(t, { intentId: "pi_999999" })), 404, "payment_not_found");
    await expectProblem(await deliver(await signed(t, { amountReceived: 699 })), 409, "payment_mismatch");
    await expectProblem(await deliver(await signed(t, { currency: "USD" })), 409, "payment_mismatch");
    expect(await balance(slug, u)).toBe(0);
    expect(await events(t.id)).toEqual([]);
    expect(await (await call(`/v1/wallet/top-ups/${t.id}`, as(slug, u))).json()).toMatchObject({ status: "pending" });
    // The genuine one still works afterwards.
    expect(await result(good)).toBe("credited");
    expect(await balance(slug, u)).toBe(700);
  });

  // The package's diagnostic for a header with a `secret=` field names the length and last four
  // characters of the signing secret: the provider answers a fixed reason instead.
  it("a refused signature tells the caller nothing about the tenant's signing secret", async () => {
    const t = Math.floor(Date.now() / 1000);
    const res = await deliver({
      body: "{}",
      headers: { "stripe-signature": `t=${t},v1=${"0".repeat(64)},secret=whsec_****abcd` },
    });
    const { detail } = await expectProblem(res, 400, "webhook_signature_invalid");
    expect(detail).not.toContain(whsec.slice(-4));
    expect(detail).not.toContain(String(whsec.length));
  });

  it("an event type Canopy does not act on (charge.refunded) is acknowledged and ignored", async () => {
    const u = await registerUser(slug);
    const t = { ...(await topUp(u, 300)), userId: u.userId };
    expect(await result(await signed(t))).toBe("credited");
    expect(await result(await signed(t, { type: "charge.refunded" }))).toBe("ignored");
    expect(await balance(slug, u)).toBe(300);
    expect(await events(t.id)).toEqual(["payment.succeeded"]);
  });

  it("Stripe refusing the payment is 422 payment_refused: the top-up fails and the key is let go", async () => {
    const u = await registerUser(slug);
    const k = key();
    await expectProblem(await topUpCall(u, 49, "USD", k), 422, "payment_refused");
    expect(await topUpsOf(u)).toEqual([{ status: "failed", failure: "refused", amount: 49 }]);
    // Nothing was decided on Canopy's side: the same key and body run again (not a replay),
    // as a new top-up with its own Stripe idempotency key.
    const again = await topUpCall(u, 49, "USD", k);
    expect(again.headers.get("idempotent-replayed")).toBeNull();
    await expectProblem(again, 422, "payment_refused");
    const saw = await stripeSaw({ userId: u.userId });
    expect(saw.map((r) => [r.status, r.response.error?.type])).toEqual([
      [400, "invalid_request_error"],
      [400, "invalid_request_error"],
    ]);
    expect(new Set(saw.map((r) => r.headers["idempotency-key"])).size).toBe(2);
    expect((await topUpsOf(u)).map((r) => r.status)).toEqual(["failed", "failed"]);
    expect(await balance(slug, u, "USD")).toBe(0);
  });

  it("Stripe failing is 502 payment_provider_unavailable after the package's retries with one key", async () => {
    const u = await registerUser(slug);
    const k = key();
    await expectProblem(await topUpCall(u, FAILING_AMOUNT, "CNY", k), 502, "payment_provider_unavailable");
    const saw = await stripeSaw({ userId: u.userId });
    // maxNetworkRetries: 2 (0.5 s, then 0.5–1 s): three attempts, all under the top-up's key.
    expect(saw.map((r) => r.status)).toEqual([500, 500, 500]);
    expect(new Set(saw.map((r) => r.headers["idempotency-key"]))).toEqual(
      new Set([`topup:${tenantId}:${saw[0]!.body["metadata[topUpId]"]}`]),
    );
    expect(await topUpsOf(u)).toEqual([{ status: "failed", failure: "provider_unavailable", amount: FAILING_AMOUNT }]);
    // The key was let go: the client may retry with it (here with a body Stripe accepts).
    const retry = await topUpCall(u, FAILING_AMOUNT + 100, "CNY", k);
    expect(retry.status, await retry.clone().text()).toBe(201);
  });

  it("HUF, which Stripe does not count in ISO minor units, is refused before Stripe is asked", async () => {
    const u = await registerUser(slug);
    await expectProblem(await topUpCall(u, 10_000, "HUF"), 400, "currency_not_supported");
    expect(await stripeSaw({ userId: u.userId })).toEqual([]);
    expect(await topUpsOf(u)).toEqual([]);
  });
});
