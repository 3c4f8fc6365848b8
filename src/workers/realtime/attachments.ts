import { createRoute, z } from "@hono/zod-openapi";
import { findFile } from "../../db/tenant/files";
import { ConversationIdSchema } from "../../durable/protocol/frames";
import { AppError } from "../../lib/errors";
import { requireUser, signedIn } from "../gateway/middleware/authn";
import { FileSchema, fileView, tenantOrigin } from "../file-links/file-urls";
import { createRouter, jsonResponse, problemResponses } from "../gateway/http";
import { memberConversation } from "./service";
import { valueOf } from "../gateway/results";
import { scopeOf } from "../gateway/context";

/**
 * Attachments of conversations: `GET /v1/conversations/{id}/files/{fileId}`. The files service
 * shows an `attachment` to its owner only; a conversation's members may read one that a file
 * message of the conversation (not recalled) references. The answer is the files service's own
 * view with a freshly signed download URL, so clients handle both the same way.
 */
export const attachmentRoutes = createRouter();

const AttachmentParam = z.object({ id: ConversationIdSchema, fileId: z.string().min(1).max(64) });
const noFile = () => new AppError("file_not_found", "No such file in this conversation.");

attachmentRoutes.openapi(
  createRoute({
    method: "get",
    path: "/conversations/{id}/files/{fileId}",
    operationId: "getConversationFile",
    tags: ["Conversations"],
    security: [{ bearer: [] }],
    middleware: signedIn(),
    summary:
      "A file sent in the conversation, for its members: metadata and a fresh signed download URL (same shape as GET /v1/files/{id})",
    request: { params: AttachmentParam },
    responses: {
      200: jsonResponse(FileSchema, "The file"),
      ...problemResponses("user_required", "conversation_not_found", "file_not_found"),
    },
  }),
  async (c) => {
    const tenant = c.get("tenant");
    const userId = requireUser(c.get("principal")).userId;
    const { id, fileId } = c.req.valid("param");
    // The conversation decides (a non-member gets conversation_not_found); a recalled message no longer grants access.
    const stub = await memberConversation(scopeOf(c), userId, id);
    if (!valueOf<boolean>(await stub.hasFile(userId, fileId))) throw noFile();
    // A file deleted by its owner since is gone for everyone.
    const row = await findFile(c.get("db"), fileId);
    if (!row || row.status !== "ready") throw noFile();
    return c.json(
      await fileView(c.env.DB_ENCRYPTION_KEY, tenantOrigin(c.req.url, tenant.slug, c.env.BASE_DOMAIN), tenant.id, row),
      200,
    );
  },
);
