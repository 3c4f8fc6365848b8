import { createRoute } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { AppError } from "../../lib/errors";
import { requireUser, signedIn } from "../gateway/middleware/authn";
import type { AppEnv } from "../gateway/context";
import { createRouter, jsonResponse, pageSchema, pagerFor, problemResponses } from "../gateway/http";
import { contentRoutes } from "./content";
import { FileSchema } from "../file-links/file-urls";
import { FileParamsSchema, ListQuerySchema, UploadFormSchema } from "./schemas";
import { deleteFile, fileJson, filesScope, listFiles, uploadFile, visibleFile } from "./service";
import { uploadRoutes } from "./upload-routes";

/** Files: upload, metadata, list, delete, signed downloads and multipart uploads under /v1/files. */
export const fileRoutes = createRouter();
const security = [{ bearer: [] }];
const mw = signedIn();
const tags = ["Files"];

/**
 * 415 unless the body is multipart/form-data. Runs before the form validator, whose own 415
 * would tell the client to send JSON.
 */
function requireMultipart(): MiddlewareHandler<AppEnv> {
  return async function requireMultipart(c, next) {
    if (!/^multipart\/form-data\s*;/i.test(c.req.header("content-type") ?? "")) {
      throw new AppError(
        "unsupported_media_type",
        "Send the file as multipart/form-data with a 'file' part and a 'purpose' field.",
      );
    }
    await next();
  };
}

fileRoutes.openapi(
  createRoute({
    method: "post",
    path: "/files",
    operationId: "uploadFile",
    tags,
    security,
    middleware: [...mw, requireMultipart()],
    summary:
      "Upload a file in one request (up to the tenant's limits.maxUploadBytes; see /files/uploads for larger ones)",
    request: { body: { required: true, content: { "multipart/form-data": { schema: UploadFormSchema } } } },
    responses: {
      201: jsonResponse(FileSchema, "The stored file"),
      ...problemResponses("bad_request", "empty_file", "user_required", "file_too_large", "unsupported_file_type"),
    },
  }),
  async (c) => {
    const p = requireUser(c.get("principal"));
    const s = filesScope(c);
    const row = await uploadFile(s, p.userId, c.req.valid("form"));
    return c.json(await fileJson(s, row), 201);
  },
);

fileRoutes.openapi(
  createRoute({
    method: "get",
    path: "/files",
    operationId: "listFiles",
    tags,
    security,
    middleware: mw,
    summary: "The caller's own files, newest first",
    request: { query: ListQuerySchema },
    responses: { 200: jsonResponse(pageSchema(FileSchema), "A page of files"), ...problemResponses("user_required") },
  }),
  async (c) => {
    const p = requireUser(c.get("principal"));
    return c.json(await listFiles(filesScope(c), p.userId, pagerFor(c, "id"), c.req.valid("query")), 200);
  },
);

fileRoutes.openapi(
  createRoute({
    method: "get",
    path: "/files/{id}",
    operationId: "getFile",
    tags,
    security,
    middleware: mw,
    summary: "A file's metadata and a fresh signed download URL (own files; avatars of anyone in the tenant)",
    request: { params: FileParamsSchema },
    responses: { 200: jsonResponse(FileSchema, "The file"), ...problemResponses("user_required", "file_not_found") },
  }),
  async (c) => {
    const p = requireUser(c.get("principal"));
    const s = filesScope(c);
    return c.json(await fileJson(s, await visibleFile(s, p.userId, c.req.valid("param").id)), 200);
  },
);

fileRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/files/{id}",
    operationId: "deleteFile",
    tags,
    security,
    middleware: mw,
    summary: "Delete one of the caller's files",
    request: { params: FileParamsSchema },
    responses: { 204: { description: "Deleted" }, ...problemResponses("user_required", "file_not_found") },
  }),
  async (c) => {
    const p = requireUser(c.get("principal"));
    await deleteFile(filesScope(c), p.userId, c.req.valid("param").id);
    return c.body(null, 204);
  },
);

fileRoutes.route("/", uploadRoutes);
fileRoutes.route("/", contentRoutes);
