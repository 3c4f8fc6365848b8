import { createRoute, z } from "@hono/zod-openapi";
import { applyPayment, findTopUp } from "../../db/tenant/payments";
import { AppError } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { type PaymentEvent, WebhookRefused } from "../../lib/payments/provider";
import { scopeOf } from "../gateway/context";
import { createRouter, jsonResponse, problemResponses, traceparentOf } from "../gateway/http";
import { providerFor } from "./providers";
import { ProviderNameSchema, WebhookResultSchema } from "./schemas";
import { apiBaseOf } from "./top-up-view";

/**
 * POST /v1/payments/webhooks/{provider}: a payment provider's confirmation. No bearer: the
 * provider's signature over the raw body (read as text, never parsed before it is verified) is
 * the credential. Verified events about this tenant's top-ups credit the wallet once
 * (db/tenant/payments.ts applyPayment); anything unsigned, mis-signed, stale or about an
 * unknown payment is refused and changes nothing.
 */
export const paymentWebhookRoutes = createRouter();

paymentWebhookRoutes.openapi(
  createRoute({
    method: "post",
    path: "/payments/webhooks/{provider}",
    operationId: "receivePaymentWebhook",
    tags: ["Payments"],
    security: [],
    summary: "A payment provider's signed webhook (Stripe, or the sandbox's Standard Webhooks)",
    description:
      "Stripe: the `Stripe-Signature` header over the raw body, `payment_intent.succeeded` and `payment_intent.payment_failed` acted on, other types answered `ignored`. Sandbox: Standard Webhooks headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`). Signatures older than 5 minutes are refused. Providers retry anything but 2xx, so a duplicate is answered 200.",
    request: { params: z.object({ provider: ProviderNameSchema }) },
    responses: {
      200: jsonResponse(WebhookResultSchema, "Processed (or a duplicate, or an ignored event type)"),
      ...problemResponses(
        "webhook_signature_invalid",
        "payment_not_found",
        "payment_mismatch",
        "payments_not_configured",
      ),
    },
  }),
  async (c) => {
    const s = scopeOf(c);
    const name = c.req.valid("param").provider;
    const now = Date.now();
    const raw = await c.req.text();
    const provider = await providerFor(s, name, apiBaseOf(c.req.url), now);
    let ev: PaymentEvent;
    try {
      ev = await provider.verifyWebhook(raw, c.req.raw.headers, now);
    } catch (err) {
      if (err instanceof WebhookRefused) throw new AppError("webhook_signature_invalid", `Refused: ${err.message}.`);
      throw err;
    }
    if (ev.outcome === "ignored") return c.json({ received: true as const, result: "ignored" as const }, 200);
    const notFound = () => new AppError("payment_not_found", "The event is not about a payment of this tenant.");
    if (!ev.topUpId || ev.tenantId !== s.tenant.id) throw notFound();
    const topUp = await findTopUp(s.db, ev.topUpId);
    if (!topUp || topUp.provider !== name) throw notFound();
    if (ev.providerRef && topUp.providerRef && ev.providerRef !== topUp.providerRef) throw notFound();
    if (ev.outcome === "succeeded" && (ev.amount !== BigInt(topUp.amount) || ev.currency !== topUp.currency)) {
      throw new AppError(
        "payment_mismatch",
        `The payment was ${ev.amount} ${ev.currency}, the top-up ${topUp.amount} ${topUp.currency}: not credited.`,
      );
    }
    const base = {
      topUpId: topUp.id,
      userId: topUp.userId,
      amount: topUp.amount,
      currency: topUp.currency,
      provider: name,
    };
    const traceparent = traceparentOf(c);
    const result = await applyPayment(
      s.db,
      {
        provider: name,
        eventId: ev.eventId,
        type: ev.type,
        topUp,
        outcome: ev.outcome,
        reason: ev.reason,
        providerRef: ev.providerRef,
      },
      {
        succeeded: (transactionId) => ({
          type: "payment.succeeded",
          subject: topUp.userId,
          data: { ...base, transactionId },
          traceparent,
        }),
        failed: {
          type: "payment.failed",
          subject: topUp.userId,
          data: { ...base, reason: ev.reason ?? "payment_failed" },
          traceparent,
        },
      },
      newId(now),
      now,
    );
    return c.json({ received: true as const, result }, 200);
  },
);
