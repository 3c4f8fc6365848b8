import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { type Leg, postingOps } from "../../src/db/tenant/ledger";
import { newId } from "../../src/lib/ids";
import { as, bearer, registerUser } from "./auth-helpers";
import { balance, commerceTenant, credit, expectReconciled, reconciliation, rows, type User } from "./commerce-helpers";
import { call, expectProblem, tenantDbOf } from "./helpers";

/**
 * The ledger's invariants hold in the schema, whatever code writes to it: postings are written
 * here straight through postingOps (the same statements the routes batch), and the hostile ones
 * must leave nothing behind.
 */
describe("ledger", () => {
  let slug: string;
  let owner: { tokens: User["tokens"] };
  let ada: User;

  beforeAll(async () => {
    ({ slug, owner } = await commerceTenant());
    ada = await registerUser(slug);
  });

  async function post(legs: Leg[], kind: "adjustment" | "grant" = "adjustment") {
    const { db } = await tenantDbOf(slug);
    return db.batch(postingOps(db, { id: newId(), kind, legs }) as never);
  }
  const count = async (table: string) =>
    (await rows<{ n: number }>(slug, sql`SELECT count(*) AS n FROM ${sql.raw(table)}`))[0]!.n;

  it("an empty wallet has no balances and no entries; a fresh ledger reconciles to nothing", async () => {
    const { slug: other, owner: o } = await commerceTenant();
    const u = await registerUser(other);
    expect(await (await call("/v1/wallet", as(other, u))).json()).toEqual({ balances: [] });
    expect(await (await call("/v1/wallet/transactions", as(other, u))).json()).toEqual({ items: [], nextCursor: null });
    expect(await reconciliation(other, o)).toMatchObject({ currencies: [], inconsistencies: [] });
  });

  it("a balanced posting moves money and shows in the wallet with the balance after each entry", async () => {
    const u = await registerUser(slug);
    await credit(slug, u.userId, 500n);
    await credit(slug, u.userId, 250n);
    await credit(slug, u.userId, 7n, "USD");
    expect(await (await call("/v1/wallet", as(slug, u))).json()).toEqual({
      balances: [
        { currency: "CNY", available: 750 },
        { currency: "USD", available: 7 },
      ],
    });
    const page = await (await call("/v1/wallet/transactions?currency=CNY", as(slug, u))).json<{
      items: { amount: number; balanceAfter: number; kind: string; currency: string; transactionId: string }[];
    }>();
    expect(page.items.map((e) => [e.amount, e.balanceAfter, e.kind, e.currency])).toEqual([
      [250, 750, "adjustment", "CNY"],
      [500, 500, "adjustment", "CNY"],
    ]);
    // Pages of one, newest first, across currencies, then the end.
    const seen: number[] = [];
    let cursor: string | null = "";
    while (cursor !== null) {
      const res = await call(`/v1/wallet/transactions?limit=1${cursor ? `&cursor=${cursor}` : ""}`, as(slug, u));
      const p = await res.json<{ items: { amount: number }[]; nextCursor: string | null }>();
      seen.push(...p.items.map((i) => i.amount));
      cursor = p.nextCursor;
    }
    expect(seen).toEqual([7, 250, 500]);
    await expectReconciled(slug, owner);
  });

  it("an unbalanced posting fails as a whole and leaves nothing behind", async () => {
    const before = await Promise.all(["ledger_entries", "ledger_transactions", "ledger_accounts"].map(count));
    const u = await registerUser(slug);
    await expect(
      post([
        { account: { system: "promotions" }, amount: -100n, currency: "CNY" },
        { account: { user: u.userId }, amount: 99n, currency: "CNY" },
      ]),
    ).rejects.toThrow();
    // Balanced in total but not per currency.
    await expect(
      post([
        { account: { system: "promotions" }, amount: -100n, currency: "CNY" },
        { account: { user: u.userId }, amount: 100n, currency: "USD" },
      ]),
    ).rejects.toThrow();
    // One leg is never a transaction (and a zero amount is no entry).
    await expect(post([{ account: { user: u.userId }, amount: 0n, currency: "CNY" }])).rejects.toThrow();
    const after = await Promise.all(["ledger_entries", "ledger_transactions", "ledger_accounts"].map(count));
    expect(after).toEqual(before);
    expect(await balance(slug, u)).toBe(0);
    await expectReconciled(slug, owner);
  });

  /** The statement fails with the schema's own refusal (the driver wraps it in causes). */
  async function expectImmutable(p: Promise<unknown>) {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    let text = "";
    for (let e = err as { message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
      text += ` ${e.message}`;
    }
    expect(text).toMatch(/immutable/);
  }

  it("entries and transactions cannot be changed or deleted", async () => {
    await credit(slug, ada.userId, 10n);
    const { db } = await tenantDbOf(slug);
    const [entry] = await db.all<{ id: string; transaction_id: string }>(
      sql`SELECT id, transaction_id FROM ledger_entries WHERE user_id = ${ada.userId} LIMIT 1`,
    );
    await expectImmutable(db.run(sql`UPDATE ledger_entries SET amount = 1000 WHERE id = ${entry!.id}`));
    await expectImmutable(db.run(sql`DELETE FROM ledger_entries WHERE id = ${entry!.id}`));
    await expectImmutable(db.run(sql`UPDATE ledger_transactions SET memo = 'x' WHERE id = ${entry!.transaction_id}`));
    await expectImmutable(db.run(sql`DELETE FROM ledger_transactions WHERE id = ${entry!.transaction_id}`));
    await expectReconciled(slug, owner);
  });

  it("a posting that would take a user below zero fails and changes nothing", async () => {
    const u = await registerUser(slug);
    await credit(slug, u.userId, 30n);
    await expect(
      post([
        { account: { user: u.userId }, amount: -31n, currency: "CNY" },
        { account: { system: "revenue" }, amount: 31n, currency: "CNY" },
      ]),
    ).rejects.toThrow();
    expect(await balance(slug, u)).toBe(30);
    // Amounts that do not fit a balance are refused the same way.
    await expect(
      post([
        { account: { system: "promotions" }, amount: -(10n ** 16n), currency: "CNY" },
        { account: { user: u.userId }, amount: 10n ** 16n, currency: "CNY" },
      ]),
    ).rejects.toThrow();
    expect(await balance(slug, u)).toBe(30);
    await expectReconciled(slug, owner);
  });

  it("parallel postings on one wallet keep balance, entries and balances-after exact", async () => {
    const u = await registerUser(slug);
    await credit(slug, u.userId, 25n);
    // 50 credits of 1 and 50 debits of 1 race; debits fail only when the balance is at 0, which it never is here.
    const legs = (amount: bigint): Leg[] => [
      { account: { user: u.userId }, amount, currency: "CNY" },
      { account: { system: "revenue" }, amount: -amount, currency: "CNY" },
    ];
    const results = await Promise.allSettled(Array.from({ length: 100 }, (_, i) => post(legs(i % 2 === 0 ? 1n : -1n))));
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    expect(await balance(slug, u)).toBe(25);
    const entries = await rows<{ amount: number; balance_after: number }>(
      slug,
      sql`SELECT amount, balance_after FROM ledger_entries WHERE user_id = ${u.userId} ORDER BY seq`,
    );
    let running = 0;
    for (const e of entries) {
      running += e.amount;
      expect(e.balance_after).toBe(running);
    }
    expect(entries).toHaveLength(101);
    await expectReconciled(slug, owner);
  });

  it("the reconciliation finds a row written around the ledger", async () => {
    const { slug: other, owner: o } = await commerceTenant();
    const u = await registerUser(other);
    await credit(other, u.userId, 40n);
    const { db } = await tenantDbOf(other);
    await db.run(sql`INSERT INTO ledger_entries (id, transaction_id, account_id, user_id, currency, amount, balance_after, kind, created_at)
      VALUES (${newId()}, 'stray', ${`u:${u.userId}:CNY`}, ${u.userId}, 'CNY', 5, 45, 'adjustment', 0)`);
    const report = await reconciliation(other, o);
    expect(report.currencies).toEqual([
      {
        currency: "CNY",
        entriesSum: 5,
        userBalances: 40,
        systemAccounts: { payments_clearing: 0, revenue: 0, refunds: 0, promotions: -40 },
      },
    ]);
    expect(report.inconsistencies.map((i) => i.kind).sort()).toEqual([
      "account_balance_mismatch",
      "currency_unbalanced",
      "entries_without_transaction",
      "unbalanced_transaction",
    ]);
  });

  it("is the caller's own wallet only, and the report is for ledger readers", async () => {
    const { slug: other } = await commerceTenant();
    const stranger = await registerUser(other);
    await expectProblem(
      await call("/v1/wallet", { tenant: slug, headers: bearer(stranger.tokens.accessToken) }),
      401,
      "invalid_token",
    );
    await expectProblem(await call("/v1/admin/ledger/reconciliation", as(slug, ada)), 403, "forbidden");
    const created = await (
      await call("/v1/admin/api-keys", {
        method: "POST",
        ...as(slug, owner),
        json: { name: "books", permissions: ["ledger:read"] },
      })
    ).json<{ key: string }>();
    const key = { tenant: slug, headers: bearer(created.key) };
    expect((await call("/v1/admin/ledger/reconciliation", key)).status).toBe(200);
    await expectProblem(await call("/v1/wallet", key), 403, "user_required");
    await expectProblem(await call("/v1/wallet/transactions?currency=cny", as(slug, ada)), 400, "validation_failed");
    await expectProblem(
      await call("/v1/wallet/transactions?cursor=forged.cursor", as(slug, ada)),
      400,
      "invalid_cursor",
    );
  });
});
