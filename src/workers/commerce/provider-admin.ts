import { createRoute, z } from "@hono/zod-openapi";
import { putProvider } from "../../db/tenant/payments";
import { sealSecret } from "../../lib/crypto";
import { AppError } from "../../lib/errors";
import { isoOrNull } from "../../lib/time";
import { scopeOf } from "../gateway/context";
import { createRouter, jsonBody, jsonResponse, problemResponses } from "../gateway/http";
import { withPermission } from "../gateway/middleware/authn";
import { type ProviderConfig, providerConfigs, sealContext } from "./providers";
import { ProviderListSchema, ProviderNameSchema, ProviderPutSchema, ProviderSchema } from "./schemas";

/**
 * A tenant's payment providers (`payments:configure`): PUT /v1/admin/payments/providers/{provider}
 * sets keys and which provider is active; GET lists them. Secrets are sealed and never returned:
 * the answer says only whether each is set.
 */
export const providerAdminRoutes = createRouter();
const tags = ["Payments"];
const security = [{ bearer: [] }];
const mw = withPermission("payments:configure");

function providerView(provider: "stripe" | "sandbox", c: ProviderConfig | undefined, activeName: string | null) {
  return {
    provider,
    active: activeName === provider,
    configured: {
      secretKey: Boolean(c?.secrets.secretKey),
      webhookSecret: Boolean(c?.secrets.webhookSecret),
      publishableKey: Boolean(c?.settings.publishableKey),
    },
    publishableKey: c?.settings.publishableKey ?? null,
    updatedAt: isoOrNull(c?.updatedAt ?? null),
  };
}

/** The provider top-ups use: the active row, else the sandbox outside production. */
const effectiveActive = (env: Env, configs: ProviderConfig[]) =>
  configs.find((c) => c.active)?.provider ?? (env.ENVIRONMENT === "production" ? null : "sandbox");

providerAdminRoutes.openapi(
  createRoute({
    method: "put",
    path: "/admin/payments/providers/{provider}",
    operationId: "putPaymentProvider",
    tags,
    security,
    middleware: mw,
    summary: "Set a payment provider's keys, or make it the active one",
    description:
      "Fields left out keep their value. Stripe needs `secretKey` and `webhookSecret` (the endpoint's signing secret) before it can be active; `publishableKey` is handed to clients in `checkout`. The sandbox takes an optional `webhookSecret` (generated on first use otherwise). Secrets are sealed and never returned.",
    request: { params: z.object({ provider: ProviderNameSchema }), body: jsonBody(ProviderPutSchema) },
    responses: {
      200: jsonResponse(ProviderSchema, "The provider as configured now"),
      ...problemResponses("forbidden"),
    },
  }),
  async (c) => {
    const s = scopeOf(c);
    const name = c.req.valid("param").provider;
    const body = c.req.valid("json");
    const now = Date.now();
    if (name === "sandbox" && (body.secretKey || body.publishableKey)) {
      throw new AppError("validation_failed", "The sandbox takes only webhookSecret and active.");
    }
    const before = (await providerConfigs(s)).find((p) => p.provider === name);
    const secrets = {
      secretKey: body.secretKey ?? before?.secrets.secretKey,
      webhookSecret: body.webhookSecret ?? before?.secrets.webhookSecret,
    };
    const settings = { publishableKey: body.publishableKey ?? before?.settings.publishableKey };
    if (name === "stripe" && body.active && (!secrets.secretKey || !secrets.webhookSecret)) {
      throw new AppError("validation_failed", "Stripe needs secretKey and webhookSecret before it can be active.");
    }
    const hasSecrets = Boolean(secrets.secretKey || secrets.webhookSecret);
    await putProvider(
      s.db,
      {
        provider: name,
        active: body.active,
        settings: JSON.stringify(settings),
        sealed: hasSecrets
          ? await sealSecret(s.env.DB_ENCRYPTION_KEY, JSON.stringify(secrets), sealContext(s.tenant.id, name))
          : null,
      },
      now,
    );
    const configs = await providerConfigs(s);
    return c.json(
      providerView(
        name,
        configs.find((p) => p.provider === name),
        effectiveActive(s.env, configs),
      ),
      200,
    );
  },
);

providerAdminRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/payments/providers",
    operationId: "listPaymentProviders",
    tags,
    security,
    middleware: mw,
    summary: "The tenant's payment providers (secrets shown only as set or not)",
    responses: { 200: jsonResponse(ProviderListSchema, "Providers"), ...problemResponses("forbidden") },
  }),
  async (c) => {
    const s = scopeOf(c);
    const configs = await providerConfigs(s);
    const active = effectiveActive(s.env, configs);
    return c.json(
      {
        active,
        providers: (["sandbox", "stripe"] as const).map((n) =>
          providerView(
            n,
            configs.find((p) => p.provider === n),
            active,
          ),
        ),
      },
      200,
    );
  },
);
