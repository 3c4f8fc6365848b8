import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { findExport, insertExport, lastSelfExportAt, type ExportRow } from "../../db/tenant/exports";
import { AppError } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { signDownload, tenantOrigin, verifyDownload } from "../file-links/file-urls";
import type { AppEnv } from "../gateway/context";
import { createRouter, jsonResponse, problemResponses } from "../gateway/http";
import { requireUser, signedIn, withPermission } from "../gateway/middleware/authn";
import { outrankedUser } from "../gateway/ranks";
import {
  AdminExportParamSchema,
  DownloadQuerySchema,
  ExportCreatedSchema,
  ExportIdParamSchema,
  ExportSchema,
} from "./export-schemas";

/** Data exports: /v1/me/exports*, /v1/admin/users/{id}/exports*, /v1/exports/{id}/download. */
export const exportRoutes = createRouter();
const security = [{ bearer: [] }];
const DAY_MS = 86_400_000;
const notFound = () => new AppError("export_not_found", "No such export.");

/** What a download URL is signed over: the export and the user it was issued to. */
const subject = (exportId: string, viewer: string) => `export:${exportId}:${viewer}`;

/** An export as its viewer sees it: a URL signed for them once it is ready. */
async function view(c: Context<AppEnv>, e: ExportRow, viewer: string) {
  const base = { id: e.id, status: e.status };
  if (e.status !== "ready" || e.r2Key === null || e.expiresAt === null || e.expiresAt <= Date.now()) return base;
  const tenant = c.get("tenant");
  const exp = Math.floor(e.expiresAt / 1000);
  const sig = await signDownload(c.env.DB_ENCRYPTION_KEY, tenant.id, subject(e.id, viewer), exp);
  const origin = tenantOrigin(c.req.url, tenant.slug, c.env.BASE_DOMAIN);
  return {
    ...base,
    url: `${origin}/v1/exports/${e.id}/download?exp=${exp}&sig=${sig}`,
    expiresAt: new Date(e.expiresAt).toISOString(),
    size: e.size ?? 0,
  };
}

exportRoutes.openapi(
  createRoute({
    method: "post",
    path: "/me/exports",
    operationId: "createMyExport",
    tags: ["Account"],
    security,
    summary: "Ask for a copy of my data (a ZIP, built in the background); one per 24 hours",
    middleware: signedIn(),
    responses: {
      202: jsonResponse(ExportCreatedSchema, "The export is being built"),
      ...problemResponses("user_required", "export_too_soon"),
    },
  }),
  async (c) => {
    const me = requireUser(c.get("principal")).userId;
    const db = c.get("db");
    const now = Date.now();
    const tooSoon = (last: number) =>
      new AppError("export_too_soon", "You can ask for one export per 24 hours.", {
        headers: { "retry-after": String(Math.max(1, Math.ceil((last + DAY_MS - now) / 1000))) },
      });
    const last = await lastSelfExportAt(db, me);
    if (last !== null && last > now - DAY_MS) throw tooSoon(last);
    const id = newId(now);
    // The insert re-checks in SQL: of two racing requests one makes an export, the other is refused.
    if (!(await insertExport(db, { id, userId: me, requestedBy: null, now, notBefore: now - DAY_MS })))
      throw tooSoon((await lastSelfExportAt(db, me)) ?? now);
    return c.json({ id }, 202);
  },
);

exportRoutes.openapi(
  createRoute({
    method: "get",
    path: "/me/exports/{id}",
    operationId: "getMyExport",
    tags: ["Account"],
    security,
    summary: "One of my exports: its state, and a signed download URL once it is ready",
    middleware: signedIn(),
    request: { params: ExportIdParamSchema },
    responses: {
      200: jsonResponse(ExportSchema, "The export"),
      ...problemResponses("user_required", "export_not_found"),
    },
  }),
  async (c) => {
    const me = requireUser(c.get("principal")).userId;
    const e = await findExport(c.get("db"), c.req.valid("param").id);
    if (!e || e.userId !== me || e.requestedBy !== null) throw notFound();
    return c.json(await view(c, e, me), 200);
  },
);

exportRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/users/{id}/exports",
    operationId: "createUserExport",
    tags: ["Tenant admin"],
    security,
    summary: "Export a user's data (for a data subject's request); the URL is signed for the admin who asked",
    description: "A signed-in admin's route: API keys get 403 `user_required` (the archive is fetched by a person).",
    middleware: withPermission("users:export"),
    request: { params: ExportIdParamSchema },
    responses: {
      202: jsonResponse(ExportCreatedSchema, "The export is being built"),
      ...problemResponses("forbidden", "rank_too_low", "user_not_found", "user_required", "export_too_soon"),
    },
  }),
  async (c) => {
    const user = (await outrankedUser(c.get("db"), c.get("principal"), c.req.valid("param").id)).id;
    const now = Date.now();
    const id = newId(now);
    const by = requireUser(c.get("principal")).userId;
    if (!(await insertExport(c.get("db"), { id, userId: user, requestedBy: by, now, notBefore: now })))
      throw new AppError("export_too_soon", "An export of this user you asked for is still being built.", {
        headers: { "retry-after": "60" },
      });
    c.get("audit").targetId = user;
    return c.json({ id }, 202);
  },
);

exportRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/users/{id}/exports/{exportId}",
    operationId: "getUserExport",
    tags: ["Tenant admin"],
    security,
    summary: "An export an admin asked for: its state, and a download URL signed for that admin",
    middleware: withPermission("users:export"),
    request: { params: AdminExportParamSchema },
    responses: {
      200: jsonResponse(ExportSchema, "The export"),
      ...problemResponses("forbidden", "export_not_found", "user_required", "rank_too_low", "user_not_found"),
    },
  }),
  async (c) => {
    const { id, exportId } = c.req.valid("param");
    const me = requireUser(c.get("principal")).userId;
    await outrankedUser(c.get("db"), c.get("principal"), id); // the admin must still outrank the user
    const e = await findExport(c.get("db"), exportId);
    if (!e || e.userId !== id || e.requestedBy !== me) throw notFound();
    return c.json(await view(c, e, me), 200);
  },
);

exportRoutes.openapi(
  createRoute({
    method: "get",
    path: "/exports/{id}/download",
    operationId: "downloadExport",
    tags: ["Account"],
    security,
    summary: "Download an export's ZIP with the URL it was issued (only by the user it was signed for)",
    middleware: signedIn(),
    request: { params: ExportIdParamSchema, query: DownloadQuerySchema },
    responses: {
      200: { description: "The ZIP", content: { "application/zip": { schema: { type: "string", format: "binary" } } } },
      ...problemResponses("user_required", "invalid_export_url", "export_not_ready"),
    },
  }),
  async (c) => {
    const me = requireUser(c.get("principal")).userId;
    const { id } = c.req.valid("param");
    const { exp, sig } = c.req.valid("query");
    const verdict = await verifyDownload(c.env.DB_ENCRYPTION_KEY, c.get("tenant").id, subject(id, me), exp, sig);
    if (verdict !== "ok") throw new AppError("invalid_export_url", "This URL was not issued to you, or it expired.");
    const e = await findExport(c.get("db"), id);
    const obj = e?.status === "ready" && e.r2Key ? await c.env.FILES.get(e.r2Key) : null;
    if (!obj) throw new AppError("export_not_ready", "The archive is not available.");
    return new Response(obj.body, {
      headers: {
        "content-type": "application/zip",
        "content-length": String(obj.size),
        "content-disposition": `attachment; filename="export-${id}.zip"`,
      },
    });
  },
);
