import { scopeOf } from "../gateway/context";
import { createRoute, z } from "@hono/zod-openapi";
import { createRouter, jsonResponse } from "../gateway/http";
import { tenantKeys } from "../tenancy/signing-keys";

const JwksSchema = z.object({ keys: z.array(z.record(z.string(), z.unknown())) }).openapi("JWKS");

/** GET /.well-known/jwks.json: the tenant's public keys, for its own servers to verify tokens. */
export const jwksRoutes = createRouter();

jwksRoutes.openapi(
  createRoute({
    method: "get",
    path: "/.well-known/jwks.json",
    operationId: "getJwks",
    security: [],
    tags: ["Auth"],
    summary: "The tenant's token verification keys (ES256)",
    description:
      "Tokens carry iss `canopy:tenant:<id>` and aud `canopy:tenant:<id>:api`; verify with any JOSE library.",
    responses: { 200: jsonResponse(JwksSchema, "JWK set") },
  }),
  async (c) => {
    const keys = await tenantKeys(scopeOf(c));
    return c.json({ keys: keys.jwks as Record<string, unknown>[] }, 200, { "cache-control": "public, max-age=300" });
  },
);
