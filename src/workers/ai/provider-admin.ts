import { createRoute, z } from "@hono/zod-openapi";
import { putAiProvider } from "../../db/tenant/ai-providers";
import { sealSecret } from "../../lib/crypto";
import { AppError } from "../../lib/errors";
import { urlProblem } from "../../lib/outbound/url";
import { isoOrNull } from "../../lib/time";
import {
  AI_FEATURES,
  aiSealContext,
  forgetRemoteConfigs,
  type RemoteConfig,
  remoteConfigs,
} from "../ai-core/provider-config";
import { breakerView } from "../ai-core/resilience";
import { scopeOf } from "../gateway/context";
import { createRouter, jsonBody, jsonResponse, problemResponses } from "../gateway/http";
import { withPermission } from "../gateway/middleware/authn";
import { AiProviderListSchema, AiProviderNameSchema, AiProviderPutSchema, AiProviderSchema } from "./schemas";

/**
 * A tenant's AI providers (`ai:configure`): PUT /v1/admin/ai/providers/{provider} sets a remote
 * provider's settings, key and the features it serves; GET lists every provider with what it
 * serves and its breakers as this isolate sees them. Keys are sealed and never returned.
 */
export const providerAdminRoutes = createRouter();
const tags = ["AI"];
const security = [{ bearer: [] }];
const mw = withPermission("ai:configure");
const invalid = (detail: string) => new AppError("ai_provider_invalid", detail);

function view(
  tenantId: string,
  name: "local" | RemoteConfig["provider"],
  c: RemoteConfig | undefined,
  all: RemoteConfig[],
) {
  const features =
    name === "local" ? AI_FEATURES.filter((f) => !all.some((r) => r.features.includes(f))) : (c?.features ?? []);
  const breakers = Object.fromEntries(
    features.map((f) => {
      const b = breakerView(`${tenantId}:${name}:${f}`);
      return [f, { state: b.breaker, lastError: b.lastError?.message ?? null }];
    }),
  );
  return {
    provider: name,
    features: [...features],
    configured: { apiKey: Boolean(c?.apiKey) },
    baseUrl: c?.settings.baseUrl ?? null,
    model: c?.settings.model ?? null,
    embeddingModel: c?.settings.embeddingModel ?? null,
    breakers,
    updatedAt: isoOrNull(c?.updatedAt ?? null),
  };
}

providerAdminRoutes.openapi(
  createRoute({
    method: "put",
    path: "/admin/ai/providers/{provider}",
    operationId: "putAiProvider",
    tags,
    security,
    middleware: mw,
    summary: "Configure an AI provider and the features it serves",
    description:
      "Fields left out keep their value. `openai-compatible` needs `baseUrl` and `apiKey` before it can serve a feature; `baseUrl` passes the same outbound-URL rules as webhooks. `workers-ai` uses the deployment's `AI` binding. A feature no provider serves uses `local`. The key is sealed and never returned.",
    request: { params: z.object({ provider: AiProviderNameSchema }), body: jsonBody(AiProviderPutSchema) },
    responses: {
      200: jsonResponse(AiProviderSchema, "The provider as configured now"),
      ...problemResponses("forbidden", "ai_provider_invalid"),
    },
  }),
  async (c) => {
    const s = scopeOf(c);
    const name = c.req.valid("param").provider;
    const body = c.req.valid("json");
    const before = (await remoteConfigs(s, true)).find((r) => r.provider === name);
    const settings = {
      baseUrl: body.baseUrl ?? before?.settings.baseUrl,
      model: body.model ?? before?.settings.model,
      embeddingModel: body.embeddingModel ?? before?.settings.embeddingModel,
    };
    const apiKey = body.apiKey ?? before?.apiKey ?? null;
    const features = body.features ?? before?.features ?? [];
    if (name === "workers-ai" && (body.baseUrl || body.apiKey))
      throw invalid("workers-ai takes no baseUrl or apiKey: it uses the AI binding.");
    if (settings.baseUrl) {
      const problem = urlProblem(settings.baseUrl, s.env.ENVIRONMENT, "AI provider URLs");
      if (problem) throw invalid(problem);
    }
    if (name === "openai-compatible" && features.length && (!settings.baseUrl || !apiKey)) {
      throw invalid("openai-compatible needs baseUrl and apiKey before it can serve a feature.");
    }
    await putAiProvider(
      s.db,
      {
        provider: name,
        features: JSON.stringify(features),
        settings: JSON.stringify(settings),
        sealed: apiKey
          ? await sealSecret(s.env.DB_ENCRYPTION_KEY, JSON.stringify({ apiKey }), aiSealContext(s.tenant.id, name))
          : null,
      },
      Date.now(),
    );
    forgetRemoteConfigs(s.tenant.id);
    const all = await remoteConfigs(s, true);
    return c.json(
      view(
        s.tenant.id,
        name,
        all.find((r) => r.provider === name),
        all,
      ),
      200,
    );
  },
);

providerAdminRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/ai/providers",
    operationId: "listAiProviders",
    tags,
    security,
    middleware: mw,
    summary: "The tenant's AI providers, what each serves, and their breakers",
    responses: { 200: jsonResponse(AiProviderListSchema, "Providers"), ...problemResponses("forbidden") },
  }),
  async (c) => {
    const s = scopeOf(c);
    const all = await remoteConfigs(s, true);
    const names = ["local", "openai-compatible", "workers-ai"] as const;
    return c.json(
      {
        providers: names.map((n) =>
          view(s.tenant.id, n, n === "local" ? undefined : all.find((r) => r.provider === n), all),
        ),
      },
      200,
    );
  },
);
