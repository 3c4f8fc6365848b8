import { createRoute, z } from "@hono/zod-openapi";
import { findTopUp } from "../../db/tenant/payments";
import { AppError } from "../../lib/errors";
import { SandboxProvider } from "../../lib/payments/sandbox";
import { selfFetch } from "../../lib/self-dispatch";
import { scopeOf } from "../gateway/context";
import { createRouter, jsonResponse, problemResponses } from "../gateway/http";
import { callerGrants, grantsAll, requireUser, signedIn } from "../gateway/middleware/authn";
import { activeProviderName, providerFor } from "./providers";
import { SandboxResultSchema, TopUpIdParamSchema } from "./schemas";
import { apiBaseOf, topUpView } from "./top-up-view";

/**
 * The sandbox provider's "customer paid" and "payment failed" buttons:
 * POST /v1/payments/sandbox/{topUpId}/complete and /fail. They answer only while the sandbox is
 * the tenant's provider, and only to the top-up's owner or a user holding `payments:configure`. The
 * sandbox then does what a real provider does: it signs its event (Standard Webhooks) and
 * delivers it to POST /v1/payments/webhooks/sandbox, through the whole HTTP path, which credits
 * exactly as it does for Stripe. Idempotent by nature (a second completion credits nothing), so
 * no Idempotency-Key is needed.
 */
export const sandboxRoutes = createRouter();

function sandboxRoute(action: "complete" | "fail") {
  sandboxRoutes.openapi(
    createRoute({
      method: "post",
      path: `/payments/sandbox/{id}/${action}`,
      operationId: action === "complete" ? "completeSandboxPayment" : "failSandboxPayment",
      tags: ["Payments"],
      security: [{ bearer: [] }],
      middleware: signedIn(),
      summary:
        action === "complete"
          ? "Sandbox: the customer paid (sends the signed payment.succeeded webhook)"
          : "Sandbox: the payment failed (sends the signed payment.failed webhook, reason card_declined)",
      request: { params: TopUpIdParamSchema },
      responses: {
        200: jsonResponse(SandboxResultSchema, "The webhook's status and the top-up after it"),
        ...problemResponses("top_up_not_found", "payments_not_configured", "user_required"),
      },
    }),
    async (c) => {
      const s = scopeOf(c);
      const p = requireUser(c.get("principal"));
      const id = c.req.valid("param").id;
      const now = Date.now();
      const notFound = () => new AppError("top_up_not_found", "No such sandbox top-up of yours.");
      if ((await activeProviderName(s)) !== "sandbox") throw notFound();
      const t = await findTopUp(s.db, id);
      const mine = t && p.userId === t.userId;
      if (!t || t.provider !== "sandbox" || !(mine || grantsAll(await callerGrants(s.db, p), "payments:configure"))) {
        throw notFound();
      }
      const provider = await providerFor(s, "sandbox", apiBaseOf(c.req.url), now);
      if (!(provider instanceof SandboxProvider)) throw new Error("sandbox provider expected");
      const signed = await provider.signedEvent(
        {
          outcome: action === "complete" ? "succeeded" : "failed",
          topUpId: t.id,
          providerRef: t.providerRef ?? `sbx_${t.id}`,
          tenantId: s.tenant.id,
          amount: BigInt(t.amount),
          currency: t.currency,
          ...(action === "fail" ? { reason: "card_declined" } : {}),
        },
        now,
      );
      const url = `${new URL(c.req.url).origin}/v1/payments/webhooks/sandbox`;
      const delivery = new Request(url, {
        method: "POST",
        headers: { ...signed.headers, "content-type": "application/json", "x-tenant": s.tenant.slug },
        body: signed.body,
      });
      const res = await selfFetch(delivery, c.env, c.executionCtx as ExecutionContext);
      await res.body?.cancel();
      const after = (await findTopUp(s.db, id)) ?? t;
      return c.json({ delivered: res.status, topUp: topUpView(after) }, 200);
    },
  );
}
sandboxRoute("complete");
sandboxRoute("fail");
