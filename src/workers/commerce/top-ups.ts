import { createRoute } from "@hono/zod-openapi";
import { completeRunningOp, stillRunning } from "../../db/tenant/money-keys";
import { failTopUp, findTopUp, insertTopUpIf, setCheckoutOp, topUpPage } from "../../db/tenant/payments";
import type { TopUpRow } from "../../db/tenant/schema";
import { AppError } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { PaymentRefused } from "../../lib/payments/provider";
import { stripeTakes } from "../../lib/payments/stripe";
import { scopeOf } from "../gateway/context";
import {
  createRouter,
  jsonBody,
  jsonResponse,
  PageQuerySchema,
  pageSchema,
  pagerFor,
  problemResponses,
} from "../gateway/http";
import { requireUser, signedIn } from "../gateway/middleware/authn";
import { currencyKind } from "./currencies";
import { answerOfLostRun, claimWith, MoneyKeyHeaderSchema, moneyKeyOf, notMine, releasingKey } from "./idempotency";
import { activeProviderName, providerConfigs, providerFor } from "./providers";
import { TopUpCreateSchema, TopUpIdParamSchema, TopUpSchema } from "./schemas";
import { apiBaseOf, topUpView } from "./top-up-view";

/**
 * Wallet top-ups: POST /v1/wallet/top-ups starts a payment with the tenant's provider and
 * answers what the client needs to pay; the wallet is credited only when the provider's signed
 * webhook confirms it (webhooks.ts). GET lists and reads the caller's own.
 */
export const topUpRoutes = createRouter();
const tags = ["Wallet"];
const security = [{ bearer: [] }];
const mw = signedIn();

topUpRoutes.openapi(
  createRoute({
    method: "post",
    path: "/wallet/top-ups",
    operationId: "createTopUp",
    tags,
    security,
    middleware: mw,
    summary: "Start a wallet top-up (requires Idempotency-Key)",
    description:
      "Answers 201 with the pending top-up and its `checkout`. The wallet is credited when the provider confirms the payment through its signed webhook, once, however often it is delivered. Only real (ISO) currencies the tenant enabled; virtual currencies are never bought this way (422 `currency_mismatch`).",
    request: { headers: MoneyKeyHeaderSchema, body: jsonBody(TopUpCreateSchema) },
    responses: {
      201: jsonResponse(TopUpSchema, "The pending top-up"),
      ...problemResponses(
        "user_required",
        "idempotency_key_required",
        "idempotency_in_progress",
        "idempotency_mismatch",
        "currency_not_supported",
        "currency_mismatch",
        "payments_not_configured",
        "payment_refused",
        "payment_provider_unavailable",
      ),
    },
  }),
  async (c) => {
    const me = requireUser(c.get("principal")).userId;
    const body = c.req.valid("json");
    const s = scopeOf(c);
    const db = s.db;
    const now = Date.now();
    const k = await moneyKeyOf(c, "top_up", body);
    if (currencyKind(s.tenant.config, body.currency) === "virtual") {
      throw new AppError("currency_mismatch", `${body.currency} is a virtual currency: it is granted, not bought.`);
    }
    const configs = await providerConfigs(s);
    const name = body.provider ?? (await activeProviderName(s, configs));
    if (name === "stripe" && !stripeTakes(body.currency)) {
      throw new AppError("currency_not_supported", `Stripe does not take ${body.currency} in ISO minor units.`);
    }
    const provider = await providerFor(s, name, apiBaseOf(c.req.url), now, configs);
    const id = newId(now);
    const amount = BigInt(body.amount);
    const { outcome } = await claimWith(
      db,
      k,
      [insertTopUpIf(db, { id, userId: me, amount, currency: body.currency, provider: name }, stillRunning(k), now)],
      now,
    );
    // A replay is a stored Response, not one of the route's typed answers.
    if (outcome.kind !== "mine") return notMine(c, outcome) as never;
    return releasingKey(db, k, async () => {
      let started: Awaited<ReturnType<typeof provider.createPayment>>;
      try {
        started = await provider.createPayment({
          tenantId: s.tenant.id,
          topUpId: id,
          userId: me,
          amount,
          currency: body.currency,
          idempotencyKey: `topup:${s.tenant.id}:${id}`,
        });
      } catch (err) {
        await failTopUp(db, id, err instanceof PaymentRefused ? "refused" : "provider_unavailable", now);
        if (err instanceof PaymentRefused) throw new AppError("payment_refused", err.message);
        throw new AppError("payment_provider_unavailable", "The payment provider did not answer; nothing was charged.");
      }
      const checkout = JSON.stringify(started.checkout);
      const row: TopUpRow = {
        id,
        userId: me,
        amount: body.amount,
        currency: body.currency,
        provider: name,
        providerRef: started.providerRef,
        status: "pending",
        checkout,
        failure: null,
        createdAt: now,
        completedAt: null,
      };
      const view = topUpView(row);
      const [done] = await db.batch([
        completeRunningOp(db, k, { status: 201, body: view }),
        setCheckoutOp(db, id, started.providerRef, checkout),
      ]);
      if (done.rowsAffected !== 1) return (await answerOfLostRun(c, db, k)) as never;
      return c.json(view, 201);
    });
  },
);

topUpRoutes.openapi(
  createRoute({
    method: "get",
    path: "/wallet/top-ups",
    operationId: "listTopUps",
    tags,
    security,
    middleware: mw,
    summary: "The caller's top-ups, newest first",
    request: { query: PageQuerySchema },
    responses: { 200: jsonResponse(pageSchema(TopUpSchema), "Top-ups"), ...problemResponses("user_required") },
  }),
  async (c) => {
    const me = requireUser(c.get("principal")).userId;
    const q = c.req.valid("query");
    const pg = pagerFor(c, "id");
    const at = await pg.after(q.cursor);
    const rows = await topUpPage(scopeOf(c).db, me, q.limit + 1, at?.[0]);
    const { page, nextCursor } = await pg.page(rows, q.limit, (r) => [r.id]);
    return c.json({ items: page.map(topUpView), nextCursor }, 200);
  },
);

topUpRoutes.openapi(
  createRoute({
    method: "get",
    path: "/wallet/top-ups/{id}",
    operationId: "getTopUp",
    tags,
    security,
    middleware: mw,
    summary: "One of the caller's top-ups (poll it after paying)",
    request: { params: TopUpIdParamSchema },
    responses: {
      200: jsonResponse(TopUpSchema, "The top-up"),
      ...problemResponses("user_required", "top_up_not_found"),
    },
  }),
  async (c) => {
    const me = requireUser(c.get("principal")).userId;
    const t = await findTopUp(scopeOf(c).db, c.req.valid("param").id);
    if (!t || t.userId !== me) throw new AppError("top_up_not_found", "No such top-up of yours.");
    return c.json(topUpView(t), 200);
  },
);
