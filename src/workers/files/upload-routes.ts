import { createRoute, z } from "@hono/zod-openapi";
import { requireUser, signedIn } from "../gateway/middleware/authn";
import { createRouter, jsonResponse, problemResponses } from "../gateway/http";
import { abortUpload, completeUpload, putPart, startUpload } from "./multipart";
import { FileSchema } from "../file-links/file-urls";
import { PartParamsSchema, PartSchema, UploadInitSchema, UploadParamsSchema, UploadSchema } from "./schemas";
import { fileJson, filesScope } from "./service";

/** Multipart uploads for files larger than one request should carry: /v1/files/uploads*. */
export const uploadRoutes = createRouter();
const security = [{ bearer: [] }];
const mw = signedIn();
const tags = ["Files"];

uploadRoutes.openapi(
  createRoute({
    method: "post",
    path: "/files/uploads",
    operationId: "startUpload",
    tags,
    security,
    middleware: mw,
    summary: "Start a multipart upload",
    request: { body: { required: true, content: { "application/json": { schema: UploadInitSchema } } } },
    responses: {
      201: jsonResponse(UploadSchema, "Upload started; send the parts"),
      ...problemResponses("user_required", "file_too_large", "unsupported_file_type"),
    },
  }),
  async (c) => {
    const p = requireUser(c.get("principal"));
    return c.json(await startUpload(filesScope(c), p.userId, c.req.valid("json")), 201);
  },
);

uploadRoutes.openapi(
  createRoute({
    method: "put",
    path: "/files/uploads/{uploadId}/parts/{n}",
    operationId: "uploadPart",
    tags,
    security,
    middleware: mw,
    summary: "Send part n (1-based) as the raw body: exactly partSize bytes, the last part the rest",
    request: {
      params: PartParamsSchema,
      body: { content: { "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) } } },
    },
    responses: {
      200: jsonResponse(PartSchema, "Part stored (a re-sent part replaces the earlier one)"),
      ...problemResponses(
        "invalid_part_number",
        "part_size_mismatch",
        "user_required",
        "upload_not_found",
        "part_too_large",
        "unsupported_file_type",
      ),
    },
  }),
  async (c) => {
    const p = requireUser(c.get("principal"));
    const { uploadId, n } = c.req.valid("param");
    return c.json(await putPart(filesScope(c), p.userId, uploadId, n, c.req.raw), 200);
  },
);

uploadRoutes.openapi(
  createRoute({
    method: "post",
    path: "/files/uploads/{uploadId}/complete",
    operationId: "completeUpload",
    tags,
    security,
    middleware: mw,
    summary: "Complete a multipart upload",
    request: { params: UploadParamsSchema },
    responses: {
      201: jsonResponse(FileSchema, "The file"),
      ...problemResponses("user_required", "upload_not_found", "upload_incomplete"),
    },
  }),
  async (c) => {
    const p = requireUser(c.get("principal"));
    const s = filesScope(c);
    const row = await completeUpload(s, p.userId, c.req.valid("param").uploadId);
    return c.json(await fileJson(s, row), 201);
  },
);

uploadRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/files/uploads/{uploadId}",
    operationId: "abortUpload",
    tags,
    security,
    middleware: mw,
    summary: "Abort a multipart upload",
    request: { params: UploadParamsSchema },
    responses: { 204: { description: "Aborted" }, ...problemResponses("user_required", "upload_not_found") },
  }),
  async (c) => {
    const p = requireUser(c.get("principal"));
    await abortUpload(filesScope(c), p.userId, c.req.valid("param").uploadId);
    return c.body(null, 204);
  },
);
