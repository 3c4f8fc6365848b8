import { createRoute } from "@hono/zod-openapi";
import { setBlockMirror } from "../../db/tenant/profiles";
import { findUserById } from "../../db/tenant/users";
import { AppError } from "../../lib/errors";
import { requireUser, signedIn } from "../gateway/middleware/authn";
import { createRouter, jsonResponse, PageQuerySchema, pageSchema, problemResponses, pagerFor } from "../gateway/http";
import { peers } from "./graph";
import { BlockSchema, UserIdParam } from "./schemas";
import { iso } from "../../lib/time";
import { hubStub } from "../../durable/protocol/stubs";

/** Block list: /v1/blocks*. Blocking ends a friendship and pending requests, both ways. */
export const blockRoutes = createRouter();
const tags = ["Blocks"];
const security = [{ bearer: [] }];
const mw = signedIn();

blockRoutes.openapi(
  createRoute({
    method: "get",
    path: "/blocks",
    operationId: "listBlocks",
    tags,
    security,
    middleware: mw,
    summary: "Users you blocked",
    request: { query: PageQuerySchema },
    responses: { 200: jsonResponse(pageSchema(BlockSchema), "Blocked users"), ...problemResponses("user_required") },
  }),
  async (c) => {
    const tenant = c.get("tenant");
    const q = c.req.valid("query");
    const pg = pagerFor(c, "id");
    const after = (await pg.after(q.cursor))?.[0];
    const rows = await hubStub(c.env, tenant.id, requireUser(c.get("principal")).userId).blockList(q.limit + 1, after);
    const { page, nextCursor } = await pg.page(rows, q.limit, (b) => [b.userId]);
    const peer = await peers(
      c.get("db"),
      page.map((b) => b.userId),
    );
    return c.json({ items: page.map((b) => ({ user: peer(b.userId), since: iso(b.since) })), nextCursor }, 200);
  },
);

for (const method of ["put", "delete"] as const) {
  blockRoutes.openapi(
    createRoute({
      method,
      path: "/blocks/{userId}",
      operationId: method === "put" ? "blockUser" : "unblockUser",
      tags,
      security,
      middleware: mw,
      summary: method === "put" ? "Block a user (idempotent)" : "Unblock a user (idempotent)",
      request: { params: UserIdParam },
      responses: {
        204: { description: "Done" },
        ...problemResponses("cannot_block_self", "user_required", "user_not_found"),
      },
    }),
    async (c) => {
      const tenant = c.get("tenant");
      const me = requireUser(c.get("principal")).userId;
      const peer = c.req.valid("param").userId;
      if (peer === me) throw new AppError("cannot_block_self", "You cannot block yourself.");
      const db = c.get("db");
      // Both ways idempotent for a real user; an id that names nobody in this tenant is a 404.
      if (!(await findUserById(db, peer))) throw new AppError("user_not_found", "No such user.");
      // The hub is the source of truth; the tenant DB mirror (for search and profile filters)
      // follows. Both are idempotent, so a failure between them is repaired by retrying.
      await hubStub(c.env, tenant.id, me).setBlock({ tenantId: tenant.id, userId: me }, peer, method === "put");
      await setBlockMirror(db, me, peer, method === "put");
      return c.body(null, 204);
    },
  );
}
