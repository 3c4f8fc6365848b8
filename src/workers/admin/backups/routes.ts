import { createRoute } from "@hono/zod-openapi";
import { platformDb } from "../../../db/client";
import {
  createRouter,
  jsonBody,
  jsonResponse,
  PageQuerySchema,
  pageSchema,
  pagerFor,
  problemResponses,
} from "../../gateway/http";
import { SlugParamSchema } from "../schemas";
import { getTenant } from "../service";
import { BackupParamSchema, BackupSchema, RestoreBodySchema, RestoreParamSchema, RestoreSchema } from "./schemas";
import * as svc from "./service";

/**
 * Tenant backups and restores (docs/operations.md, "Backup and restore"), mounted at /admin/v1
 * behind the platform admin token. The work runs on the statistics queue; these routes start it
 * and report on it.
 */
export const backupRoutes = createRouter();

const tags = ["Platform admin: backups"];
const security = [{ adminToken: [] }];
const backupResponse = jsonResponse(BackupSchema, "The backup");

backupRoutes.openapi(
  createRoute({
    method: "post",
    path: "/tenants/{slug}/backups",
    operationId: "startBackup",
    tags,
    security,
    summary: "Start a backup of the tenant's database, hubs, conversations and files (runs in the background)",
    request: { params: SlugParamSchema },
    responses: {
      202: jsonResponse(BackupSchema, "Started"),
      ...problemResponses("tenant_not_found", "backup_running"),
    },
  }),
  async (c) => {
    const db = platformDb(c.env);
    const tenant = await getTenant(db, c.req.valid("param").slug);
    return c.json(svc.toBackupView(await svc.startBackup(c.env, db, tenant, "manual"), tenant.slug), 202);
  },
);

backupRoutes.openapi(
  createRoute({
    method: "get",
    path: "/tenants/{slug}/backups",
    operationId: "listBackups",
    tags,
    security,
    summary: "List the tenant's backups, newest first",
    request: { params: SlugParamSchema, query: PageQuerySchema },
    responses: {
      200: jsonResponse(pageSchema(BackupSchema), "A page of backups"),
      ...problemResponses("tenant_not_found"),
    },
  }),
  async (c) => {
    const db = platformDb(c.env);
    const tenant = await getTenant(db, c.req.valid("param").slug);
    return c.json(await svc.backupsPage(db, tenant, pagerFor(c, "id"), c.req.valid("query")), 200);
  },
);

backupRoutes.openapi(
  createRoute({
    method: "get",
    path: "/tenants/{slug}/backups/{backupId}",
    operationId: "getBackup",
    tags,
    security,
    summary: "Get one of the tenant's backups",
    request: { params: BackupParamSchema },
    responses: { 200: backupResponse, ...problemResponses("tenant_not_found", "backup_not_found") },
  }),
  async (c) => {
    const db = platformDb(c.env);
    const { slug, backupId } = c.req.valid("param");
    const tenant = await getTenant(db, slug);
    return c.json(svc.toBackupView(await svc.backupOf(db, tenant, backupId), tenant.slug), 200);
  },
);

backupRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/tenants/{slug}/backups/{backupId}",
    operationId: "deleteBackup",
    tags,
    security,
    summary: "Delete a backup (its archive in R2 and its record)",
    request: { params: BackupParamSchema },
    responses: {
      204: { description: "Deleted" },
      ...problemResponses("tenant_not_found", "backup_not_found", "backup_running"),
    },
  }),
  async (c) => {
    const db = platformDb(c.env);
    const { slug, backupId } = c.req.valid("param");
    await svc.deleteBackup(c.env, db, await svc.backupOf(db, await getTenant(db, slug), backupId));
    return c.body(null, 204);
  },
);

backupRoutes.openapi(
  createRoute({
    method: "post",
    path: "/tenants/{slug}/restore",
    operationId: "restoreBackup",
    tags,
    security,
    summary: "Restore one of the tenant's backups into a new tenant (runs in the background)",
    description:
      "The new tenant is reserved at once (its slug is taken) and stays invisible until the restore is verified; poll `GET /admin/v1/restores/{restoreId}`. Users sign in again with their passwords (sessions are not restored).",
    request: { params: SlugParamSchema, body: jsonBody(RestoreBodySchema) },
    responses: {
      202: jsonResponse(RestoreSchema, "Started"),
      ...problemResponses(
        "tenant_not_found",
        "backup_not_found",
        "backup_not_ready",
        "tenant_exists",
        "backup_corrupt",
      ),
    },
  }),
  async (c) => {
    const db = platformDb(c.env);
    const source = await getTenant(db, c.req.valid("param").slug);
    return c.json(svc.toRestoreView(await svc.startRestore(c.env, db, source, c.req.valid("json"))), 202);
  },
);

backupRoutes.openapi(
  createRoute({
    method: "get",
    path: "/restores/{restoreId}",
    operationId: "getRestore",
    tags,
    security,
    summary: "Get a restore's progress and outcome",
    request: { params: RestoreParamSchema },
    responses: { 200: jsonResponse(RestoreSchema, "The restore"), ...problemResponses("restore_not_found") },
  }),
  async (c) => c.json(svc.toRestoreView(await svc.getRestore(platformDb(c.env), c.req.valid("param").restoreId)), 200),
);
