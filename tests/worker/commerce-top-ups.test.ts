import { sql } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { newWebhookSecret } from "../../src/lib/standard-webhooks";
import { as, bearer, registerUser } from "./auth-helpers";
import { balance, commerceTenant, expectReconciled, key, moneyHeaders, rows, type User } from "./commerce-helpers";
import { call, expectProblem } from "./helpers";

interface TopUp {
  id: string;
  status: string;
  provider: string;
  amount: number;
  currency: string;
  checkout: { type: string; completeUrl: string; failUrl: string } | null;
}

/**
 * Top-ups through the sandbox provider: the wallet is credited only by a verified webhook, once,
 * whatever is replayed, reordered, forged or late; every money-moving POST needs its key.
 */
describe("wallet top-ups", () => {
  let slug: string;
  let tenantId: string;
  let owner: { tokens: User["tokens"] };
  let secret: string;

  beforeAll(async () => {
    ({ slug, tenantId, owner } = await commerceTenant({
      commerce: { currencies: ["CNY", "USD"], virtualCurrencies: [{ code: "COIN", name: "Coins" }] },
    }));
    secret = newWebhookSecret();
    const res = await call("/v1/admin/payments/providers/sandbox", {
      method: "PUT",
      ...as(slug, owner),
      json: { webhookSecret: secret },
    });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.text()).not.toContain(secret.slice(6));
  });
  afterEach(async () => {
    await expectReconciled(slug, owner);
  });

  async function topUp(u: User, amount = 1000, currency = "CNY", k = key()): Promise<TopUp> {
    const res = await call("/v1/wallet/top-ups", {
      method: "POST",
      tenant: slug,
      headers: moneyHeaders(u, k),
      json: { amount, currency },
    });
    expect(res.status, await res.clone().text()).toBe(201);
    return res.json<TopUp>();
  }
  const sandbox = (u: { tokens: User["tokens"] }, id: string, action: "complete" | "fail") =>
    call(`/v1/payments/sandbox/${id}/${action}`, { method: "POST", ...as(slug, u) });

  /** A sandbox event signed with `signingSecret` (the standardwebhooks package as the sender). */
  function signed(
    t: { id: string; amount: number; currency: string },
    o: { type?: string; eventId?: string; at?: Date; signingSecret?: string; tenant?: string; amount?: number } = {},
  ) {
    const eventId = o.eventId ?? `evt_${crypto.randomUUID()}`;
    const at = o.at ?? new Date();
    const body = JSON.stringify({
      id: eventId,
      type: o.type ?? "payment.succeeded",
      created: Math.floor(at.getTime() / 1000),
      data: {
        topUpId: t.id,
        providerRef: `sbx_${t.id}`,
        tenantId: o.tenant ?? tenantId,
        amount: o.amount ?? t.amount,
        currency: t.currency,
      },
    });
    const signature = new Webhook(o.signingSecret ?? secret).sign(eventId, at, body);
    const headers = {
      "webhook-id": eventId,
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": signature,
      "content-type": "application/json",
    };
    return { body, headers };
  }
  const deliver = (s: { body: string; headers: Record<string, string> }, tenant = slug) =>
    call("/v1/payments/webhooks/sandbox", { method: "POST", tenant, headers: s.headers, body: s.body });

  const events = async (topUpId: string) =>
    rows<{ type: string }>(
      slug,
      sql`SELECT type FROM outbox WHERE json_extract(data, '$.topUpId') = ${topUpId} ORDER BY id`,
    );

  it("a top-up is pending until the sandbox confirms it, then credits once", async () => {
    const u = await registerUser(slug);
    const t = await topUp(u, 1999);
    expect(t).toMatchObject({ status: "pending", provider: "sandbox", amount: 1999, currency: "CNY" });
    expect(t.checkout).toEqual({
      type: "sandbox",
      completeUrl: `http://api.test/v1/payments/sandbox/${t.id}/complete`,
      failUrl: `http://api.test/v1/payments/sandbox/${t.id}/fail`,
    });
    expect(await balance(slug, u)).toBe(0);
    const done = await sandbox(u, t.id, "complete");
    expect(done.status, await done.clone().text()).toBe(200);
    expect(await done.json()).toMatchObject({ delivered: 200, topUp: { id: t.id, status: "succeeded" } });
    expect(await balance(slug, u)).toBe(1999);
    // Completing again delivers a new event about a final top-up: nothing moves.
    expect(await (await sandbox(u, t.id, "complete")).json()).toMatchObject({ delivered: 200 });
    expect(await balance(slug, u)).toBe(1999);
    const entries = await (await call("/v1/wallet/transactions", as(slug, u))).json<{ items: unknown[] }>();
    expect(entries.items).toEqual([expect.objectContaining({ kind: "top_up", amount: 1999, balanceAfter: 1999 })]);
    expect((await events(t.id)).map((e) => e.type)).toEqual(["payment.succeeded"]);
    const read = await call(`/v1/wallet/top-ups/${t.id}`, as(slug, u));
    expect(await read.json()).toMatchObject({ id: t.id, status: "succeeded" });
    const list = await (await call("/v1/wallet/top-ups", as(slug, u))).json<{ items: TopUp[] }>();
    expect(list.items.map((i) => i.id)).toEqual([t.id]);
  });

  it("one webhook delivered five times at once, or two events for one payment, credit once", async () => {
    const u = await registerUser(slug);
    const t = await topUp(u, 300);
    const s = signed(t);
    const answers = await Promise.all(Array.from({ length: 5 }, () => deliver(s)));
    const results = await Promise.all(answers.map((r) => r.json<{ result: string }>()));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(results.map((r) => r.result).sort()).toEqual([
      "credited",
      "duplicate",
      "duplicate",
      "duplicate",
      "duplicate",
    ]);
    const other = await deliver(signed(t));
    expect(await other.json()).toEqual({ received: true, result: "duplicate" });
    expect(await balance(slug, u)).toBe(300);
    expect((await events(t.id)).map((e) => e.type)).toEqual(["payment.succeeded"]);
  });

  it("reordered events: a failure after success changes nothing; success after a failure credits", async () => {
    const u = await registerUser(slug);
    const a = await topUp(u, 100);
    await deliver(signed(a));
    expect(await (await deliver(signed(a, { type: "payment.failed" }))).json()).toMatchObject({ result: "duplicate" });
    expect(await (await call(`/v1/wallet/top-ups/${a.id}`, as(slug, u))).json()).toMatchObject({ status: "succeeded" });
    const b = await topUp(u, 50);
    const failed = await sandbox(u, b.id, "fail");
    expect(await failed.json()).toMatchObject({
      delivered: 200,
      topUp: { status: "failed", failure: "card_declined" },
    });
    expect(await balance(slug, u)).toBe(100);
    await sandbox(u, b.id, "complete");
    expect(await balance(slug, u)).toBe(150);
    expect((await events(b.id)).map((e) => e.type)).toEqual(["payment.failed", "payment.succeeded"]);
    expect((await events(a.id)).map((e) => e.type)).toEqual(["payment.succeeded"]);
  });

  it("unsigned, forged, stale, foreign and mismatched webhooks are refused and credit nothing", async () => {
    const u = await registerUser(slug);
    const t = await topUp(u, 700);
    const good = signed(t);
    const { "webhook-signature": _, ...unsigned } = good.headers;
    await expectProblem(await deliver({ body: good.body, headers: unsigned }), 400, "webhook_signature_invalid");
    await expectProblem(
      await deliver({ body: good.body.replace('"amount":700', '"amount":7000'), headers: good.headers }),
      400,
      "webhook_signature_invalid",
    );
    await expectProblem(
      await deliver(signed(t, { at: new Date(Date.now() - 301_000) })),
      400,
      "webhook_signature_invalid",
    );
    await expectProblem(
      await deliver(signed(t, { signingSecret: newWebhookSecret() })),
      400,
      "webhook_signature_invalid",
    );
    await expectProblem(await deliver({ body: "{", headers: good.headers }), 400, "webhook_signature_invalid");
    // Correctly signed, but about a payment this tenant does not have, or for another amount.
    await expectProblem(await deliver(signed({ ...t, id: "01nosuchtopup" })), 404, "payment_not_found");
    await expectProblem(await deliver(signed(t, { tenant: "another-tenant" })), 404, "payment_not_found");
    await expectProblem(await deliver(signed(t, { amount: 7000 })), 409, "payment_mismatch");
    // Another tenant's sandbox signs with its own secret: refused here.
    const { slug: other } = await commerceTenant();
    await expectProblem(await deliver(good, other), 400, "webhook_signature_invalid");
    expect(await balance(slug, u)).toBe(0);
    expect(await events(t.id)).toEqual([]);
    // The genuine one still works afterwards.
    expect(await (await deliver(good)).json()).toEqual({ received: true, result: "credited" });
    expect(await balance(slug, u)).toBe(700);
  });

  it("an event type the sandbox does not act on is acknowledged and ignored", async () => {
    const u = await registerUser(slug);
    const t = await topUp(u, 5);
    expect(await (await deliver(signed(t, { type: "payment.disputed" }))).json()).toEqual({
      received: true,
      result: "ignored",
    });
    expect(await balance(slug, u)).toBe(0);
  });

  it("the Idempotency-Key replays, refuses another body, and serialises a burst", async () => {
    const u = await registerUser(slug);
    await expectProblem(
      await call("/v1/wallet/top-ups", { method: "POST", ...as(slug, u), json: { amount: 10, currency: "CNY" } }),
      400,
      "idempotency_key_required",
    );
    const k = key();
    const first = await topUp(u, 10, "CNY", k);
    const again = await call("/v1/wallet/top-ups", {
      method: "POST",
      tenant: slug,
      headers: moneyHeaders(u, k),
      json: { currency: "CNY", amount: 10 },
    });
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.json()).toEqual(first);
    await expectProblem(
      await call("/v1/wallet/top-ups", {
        method: "POST",
        tenant: slug,
        headers: moneyHeaders(u, k),
        json: { amount: 11, currency: "CNY" },
      }),
      422,
      "idempotency_mismatch",
    );
    // Another user's same key is another key.
    const v = await registerUser(slug);
    expect((await topUp(v, 10, "CNY", k)).id).not.toBe(first.id);
    const burstKey = key();
    const burst = await Promise.all(
      Array.from({ length: 10 }, () =>
        call("/v1/wallet/top-ups", {
          method: "POST",
          tenant: slug,
          headers: moneyHeaders(u, burstKey),
          json: { amount: 20, currency: "CNY" },
        }),
      ),
    );
    const statuses = burst.map((r) => r.status);
    expect(
      statuses.every((s) => s === 201 || s === 409),
      String(statuses),
    ).toBe(true);
    const created = new Set(
      (await Promise.all(burst.filter((r) => r.status === 201).map((r) => r.json<TopUp>()))).map((t) => t.id),
    );
    expect(created.size).toBe(1);
    const mine = await rows<{ n: number }>(
      slug,
      sql`SELECT count(*) AS n FROM top_ups WHERE user_id = ${u.userId} AND amount = 20`,
    );
    expect(mine[0]!.n).toBe(1);
  });

  it("refuses amounts that are not positive integers of minor units, and currencies it cannot take", async () => {
    const u = await registerUser(slug);
    for (const amount of [0, -1, 19.99, "100", 1e11, null, 1e400]) {
      const res = await call("/v1/wallet/top-ups", {
        method: "POST",
        tenant: slug,
        headers: moneyHeaders(u),
        json: { amount, currency: "CNY" },
      });
      await expectProblem(res, 400, "validation_failed");
    }
    for (const currency of ["cny", "C", "CNY\u0007", ""]) {
      const res = await call("/v1/wallet/top-ups", {
        method: "POST",
        tenant: slug,
        headers: moneyHeaders(u),
        json: { amount: 1, currency },
      });
      await expectProblem(res, 400, "validation_failed");
    }
    const nul = await call("/v1/wallet/top-ups", {
      method: "POST",
      tenant: slug,
      headers: moneyHeaders(u),
      json: { amount: 1, currency: "CNY\u0000" },
    });
    await expectProblem(nul, 400, "invalid_body");
    await expectProblem(
      await call("/v1/wallet/top-ups", {
        method: "POST",
        tenant: slug,
        headers: moneyHeaders(u),
        json: { amount: 1, currency: "EUR" },
      }),
      400,
      "currency_not_supported",
    );
    await expectProblem(
      await call("/v1/wallet/top-ups", {
        method: "POST",
        tenant: slug,
        headers: moneyHeaders(u),
        json: { amount: 1, currency: "COIN" },
      }),
      422,
      "currency_mismatch",
    );
    await expectProblem(
      await call("/v1/wallet/top-ups", {
        method: "POST",
        tenant: slug,
        headers: { ...moneyHeaders(u), "idempotency-key": "short" },
        json: { amount: 1, currency: "CNY" },
      }),
      400,
      "validation_failed",
    );
    const none = await rows<{ n: number }>(slug, sql`SELECT count(*) AS n FROM top_ups WHERE user_id = ${u.userId}`);
    expect(none[0]!.n).toBe(0);
  });

  it("only the top-up's owner (or a user holding payments:configure) presses the sandbox's buttons, and only while it is the provider", async () => {
    const u = await registerUser(slug);
    const stranger = await registerUser(slug);
    const t = await topUp(u, 40);
    await expectProblem(await sandbox(stranger, t.id, "complete"), 404, "top_up_not_found");
    await expectProblem(await call(`/v1/wallet/top-ups/${t.id}`, as(slug, stranger)), 404, "top_up_not_found");
    const created = await (
      await call("/v1/admin/api-keys", {
        method: "POST",
        ...as(slug, owner),
        json: { name: "ops", permissions: ["payments:configure"] },
      })
    ).json<{ key: string }>();
    // The sandbox's buttons are for users: an API key, whatever it holds, is refused.
    const byKey = await call(`/v1/payments/sandbox/${t.id}/complete`, {
      method: "POST",
      tenant: slug,
      headers: bearer(created.key),
    });
    await expectProblem(byKey, 403, "user_required");
    const ops = await sandbox(owner, t.id, "complete");
    expect(await ops.json()).toMatchObject({ delivered: 200, topUp: { status: "succeeded" } });
    expect(await balance(slug, u)).toBe(40);
    await expectProblem(await call("/v1/admin/payments/providers", as(slug, u)), 403, "forbidden");

    // A tenant that switched to Stripe has no sandbox buttons.
    const { slug: striped, owner: o } = await commerceTenant();
    const w = await registerUser(striped);
    const pending = await (
      await call("/v1/wallet/top-ups", {
        method: "POST",
        tenant: striped,
        headers: moneyHeaders(w),
        json: { amount: 5, currency: "CNY" },
      })
    ).json<TopUp>();
    const put = await call("/v1/admin/payments/providers/stripe", {
      method: "PUT",
      ...as(striped, o),
      json: { secretKey: "sk_test_abcdefgh12345678", webhookSecret: newWebhookSecret(), active: true },
    });
    const view = await put.json();
    expect(view).toMatchObject({
      provider: "stripe",
      active: true,
      configured: { secretKey: true, webhookSecret: true },
    });
    expect(JSON.stringify(view)).not.toContain("sk_test_abcdefgh12345678");
    const res = await call(`/v1/payments/sandbox/${pending.id}/complete`, { method: "POST", ...as(striped, w) });
    await expectProblem(res, 404, "top_up_not_found");
    const listed = await (await call("/v1/admin/payments/providers", as(striped, o))).json();
    expect(listed).toMatchObject({ active: "stripe" });
    await expectReconciled(striped, o);
  });
});
