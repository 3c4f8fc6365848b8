import { createRoute } from "@hono/zod-openapi";
import { walletBalances, walletEntriesPage } from "../../db/tenant/ledger";
import { iso } from "../../lib/time";
import { scopeOf } from "../gateway/context";
import { createRouter, jsonResponse, pageSchema, pagerFor, problemResponses } from "../gateway/http";
import { requireUser, signedIn } from "../gateway/middleware/authn";
import { WalletEntriesQuerySchema, WalletEntrySchema, WalletSchema } from "./schemas";

/** The signed-in user's wallet: GET /v1/wallet (balances) and /v1/wallet/transactions (entries). */
export const walletRoutes = createRouter();
const tags = ["Wallet"];
const security = [{ bearer: [] }];
const mw = signedIn();

walletRoutes.openapi(
  createRoute({
    method: "get",
    path: "/wallet",
    operationId: "getWallet",
    tags,
    security,
    middleware: mw,
    summary: "The caller's balances, one per currency the wallet ever held",
    responses: { 200: jsonResponse(WalletSchema, "Balances"), ...problemResponses("user_required") },
  }),
  async (c) => {
    const me = requireUser(c.get("principal")).userId;
    return c.json({ balances: await walletBalances(scopeOf(c).db, me) }, 200);
  },
);

walletRoutes.openapi(
  createRoute({
    method: "get",
    path: "/wallet/transactions",
    operationId: "listWalletTransactions",
    tags,
    security,
    middleware: mw,
    summary: "The caller's ledger entries, newest first",
    description: "Each entry is one leg of a journal transaction on the caller's wallet, with the balance after it.",
    request: { query: WalletEntriesQuerySchema },
    responses: { 200: jsonResponse(pageSchema(WalletEntrySchema), "Entries"), ...problemResponses("user_required") },
  }),
  async (c) => {
    const me = requireUser(c.get("principal")).userId;
    const q = c.req.valid("query");
    const pg = pagerFor(c, "seq");
    const at = await pg.after(q.cursor);
    const rows = await walletEntriesPage(scopeOf(c).db, me, {
      currency: q.currency,
      limit: q.limit + 1,
      beforeSeq: at?.[0],
    });
    const { page, nextCursor } = await pg.page(rows, q.limit, (r) => [r.seq, "before"]);
    const items = page.map((r) => ({
      id: r.id,
      transactionId: r.transactionId,
      kind: r.kind as "order",
      amount: r.amount,
      currency: r.currency,
      balanceAfter: r.balanceAfter,
      createdAt: iso(r.createdAt),
      ...(r.orderId ? { orderId: r.orderId } : {}),
    }));
    return c.json({ items, nextCursor }, 200);
  },
);
