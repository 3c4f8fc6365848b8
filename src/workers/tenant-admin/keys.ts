import { createRoute, z } from "@hono/zod-openapi";
import { findApiKey, insertApiKey, listApiKeys, revokeApiKey } from "../../db/tenant/api-keys";
import type { ApiKeyRow } from "../../db/tenant/schema";
import { rotateSigningKey } from "../../db/tenant/signing-keys";
import { sha256Hex } from "../../lib/crypto";
import { AppError } from "../../lib/errors";
import { base64url, newId } from "../../lib/ids";
import { withPermission } from "../gateway/middleware/authn";
import { createRouter, jsonResponse, PageQuerySchema, pageSchema, problemResponses, pagerFor } from "../gateway/http";
import { forgetKeys } from "../tenancy/signing-keys";
import { ApiKeySchema, CreateApiKeySchema, CreatedApiKeySchema, IdParamSchema } from "./schemas";
import { keyOwner } from "../gateway/middleware/api-key-principal";
import { assertOutranks, rankOf } from "../gateway/ranks";
import { assertGrantable } from "./service";
import { iso, isoOrNull } from "../../lib/time";

/** API keys for the tenant's servers and signing-key rotation: /v1/admin/api-keys*, /v1/admin/signing-keys/rotate. */
export const adminKeyRoutes = createRouter();
const tags = ["Tenant admin"];
const security = [{ bearer: [] }];
const mw = withPermission;

const keyView = (k: ApiKeyRow) => ({
  id: k.id,
  name: k.name,
  permissions: JSON.parse(k.permissions) as string[],
  createdBy: k.createdBy,
  rank: k.rank,
  createdAt: iso(k.createdAt),
  lastUsedAt: isoOrNull(k.lastUsedAt),
});

adminKeyRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/api-keys",
    operationId: "listApiKeys",
    tags,
    security,
    summary: "List live API keys (never their secrets)",
    middleware: mw("api-keys:read"),
    request: { query: PageQuerySchema },
    responses: { 200: jsonResponse(pageSchema(ApiKeySchema), "API keys"), ...problemResponses("forbidden") },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const pg = pagerFor(c, "id");
    const rows = await listApiKeys(c.get("db"), {
      before: (await pg.after(q.cursor))?.[0],
      limit: q.limit + 1,
    });
    const { page, nextCursor } = await pg.page(rows, q.limit, (k) => [k.id]);
    const items = page.map(keyView);
    return c.json({ items, nextCursor }, 200);
  },
);

adminKeyRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/api-keys",
    operationId: "createApiKey",
    tags,
    security,
    summary: "Create an API key scoped to permissions; the key is shown once",
    middleware: mw("api-keys:write"),
    request: { body: { required: true, content: { "application/json": { schema: CreateApiKeySchema } } } },
    responses: {
      201: jsonResponse(CreatedApiKeySchema, "Created"),
      ...problemResponses("forbidden", "privilege_escalation"),
    },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const db = c.get("db");
    await assertGrantable(db, c.get("principal"), body.permissions);
    const now = Date.now();
    const id = newId(now);
    const secret = base64url(crypto.getRandomValues(new Uint8Array(32)));
    const p = c.get("principal");
    const row: ApiKeyRow = {
      id,
      name: body.name,
      keyHash: await sha256Hex(secret),
      permissions: JSON.stringify(body.permissions),
      createdBy: p.kind === "user" ? p.userId : `key:${p.keyId}`,
      rank: await rankOf(db, p),
      createdAt: now,
      lastUsedAt: null,
      revokedAt: null,
    };
    await insertApiKey(db, row);
    return c.json({ ...keyView(row), key: `ck_${id}_${secret}` }, 201);
  },
);

adminKeyRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/admin/api-keys/{id}",
    operationId: "revokeApiKey",
    tags,
    security,
    summary: "Revoke an API key (immediately); needs a rank above the key's creator's",
    middleware: mw("api-keys:write"),
    request: { params: IdParamSchema },
    responses: {
      204: { description: "Revoked" },
      ...problemResponses("forbidden", "rank_too_low", "api_key_not_found"),
    },
  }),
  async (c) => {
    const db = c.get("db");
    const p = c.get("principal");
    const key = await findApiKey(db, c.req.valid("param").id);
    if (!key || key.revokedAt !== null) throw new AppError("api_key_not_found", "No such live API key.");
    // Revoking acts on the key's creator as much as suspending them would: the same rank rule
    // (a key answering to the same user may revoke its sibling or itself).
    const owner = await keyOwner(db, key);
    if (owner && !(p.kind === "api_key" && p.creatorId === owner)) await assertOutranks(db, p, owner);
    if (!(await revokeApiKey(db, key.id))) throw new AppError("api_key_not_found", "No such live API key.");
    return c.body(null, 204);
  },
);

adminKeyRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/signing-keys/rotate",
    operationId: "rotateSigningKey",
    tags,
    security,
    summary: "Start signing with a new key; the old one verifies until its tokens expire",
    middleware: mw("signing-keys:rotate"),
    responses: { 200: jsonResponse(z.object({ kid: z.string() }), "The new key id"), ...problemResponses("forbidden") },
  }),
  async (c) => {
    const tenant = c.get("tenant");
    const kid = await rotateSigningKey(c.get("db"), c.env.DB_ENCRYPTION_KEY, tenant.id);
    forgetKeys(tenant.id);
    return c.json({ kid }, 200);
  },
);
