import { createRoute, z } from "@hono/zod-openapi";
import { settingsOf } from "../../db/tenant/profiles";
import { findUserById } from "../../db/tenant/users";
import { AppError } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { requireUser, signedIn } from "../gateway/middleware/authn";
import { createRouter, jsonResponse, PageQuerySchema, pageSchema, problemResponses, pagerFor } from "../gateway/http";
import { peers } from "./graph";
import { FriendRequestCreateSchema, FriendRequestSchema, IdParam } from "./schemas";
import { iso } from "../../lib/time";
import { hubStub } from "../../durable/protocol/stubs";
import { valueOf } from "../gateway/results";

/** Friend requests: /v1/friends/requests*. The graph lives in each user's hub (UserHub). */
export const friendRequestRoutes = createRouter();
const tags = ["Friends"];
const security = [{ bearer: [] }];
const mw = signedIn();
const DAY = 86_400_000;

friendRequestRoutes.openapi(
  createRoute({
    method: "post",
    path: "/friends/requests",
    operationId: "sendFriendRequest",
    tags,
    security,
    middleware: mw,
    summary: "Send a friend request (mutual requests become a friendship; retries are idempotent)",
    request: { body: { required: true, content: { "application/json": { schema: FriendRequestCreateSchema } } } },
    responses: {
      201: jsonResponse(
        z.object({ id: z.string(), status: z.enum(["pending", "accepted"]) }),
        "Sent, or already friends now",
      ),
      ...problemResponses(
        "cannot_befriend_self",
        "friend_requests_closed",
        "user_blocked",
        "user_required",
        "user_not_found",
        "already_friends",
        "friend_limit",
        "pending_limit",
      ),
    },
  }),
  async (c) => {
    const me = requireUser(c.get("principal")).userId;
    const tenant = c.get("tenant");
    const { toUserId, message } = c.req.valid("json");
    if (toUserId === me) throw new AppError("cannot_befriend_self", "You cannot send yourself a friend request.");
    const db = c.get("db");
    const target = await findUserById(db, toUserId);
    if (!target || target.status !== "active") throw new AppError("user_not_found", "No such user.");
    const policy = (await settingsOf(db, toUserId)).privacy.friendRequests;
    if (policy === "nobody") throw new AppError("friend_requests_closed", "This user does not accept friend requests.");
    const l = tenant.config.limits;
    const r = valueOf(
      await hubStub(c.env, tenant.id, me).sendFriendRequest({
        tenantId: tenant.id,
        userId: me,
        to: toUserId,
        requestId: newId(),
        message,
        autoAccept: policy === "anyone",
        maxFriends: l.maxFriends,
        maxPending: l.maxPendingRequests,
        ttlMs: l.friendRequestTtlDays * DAY,
        now: Date.now(),
      }),
    );
    return c.json({ id: r.requestId, status: r.status }, 201);
  },
);

friendRequestRoutes.openapi(
  createRoute({
    method: "get",
    path: "/friends/requests",
    operationId: "listFriendRequests",
    tags,
    security,
    middleware: mw,
    summary: "Pending friend requests, newest first",
    request: { query: PageQuerySchema.extend({ direction: z.enum(["incoming", "outgoing"]).default("incoming") }) },
    responses: { 200: jsonResponse(pageSchema(FriendRequestSchema), "Requests"), ...problemResponses("user_required") },
  }),
  async (c) => {
    const me = requireUser(c.get("principal")).userId;
    const tenant = c.get("tenant");
    const q = c.req.valid("query");
    const pg = pagerFor(c, "time-id");
    const before = await pg.after(q.cursor);
    const rows = await hubStub(c.env, tenant.id, me).friendRequests(
      q.direction === "incoming" ? "in" : "out",
      q.limit + 1,
      before,
    );
    const { page, nextCursor } = await pg.page(rows, q.limit, (r) => [r.createdAt, r.id]);
    const peer = await peers(
      c.get("db"),
      page.map((r) => r.userId),
    );
    return c.json(
      {
        items: page.map((r) => ({
          id: r.id,
          direction: r.direction,
          user: peer(r.userId),
          message: r.message,
          status: r.status,
          createdAt: iso(r.createdAt),
          expiresAt: iso(r.expiresAt),
        })),
        nextCursor,
      },
      200,
    );
  },
);

const actions = [
  ["post", "/friends/requests/{id}/accept", "acceptFriendRequest", "Accept an incoming request (idempotent)"],
  ["post", "/friends/requests/{id}/reject", "rejectFriendRequest", "Reject an incoming request"],
  ["delete", "/friends/requests/{id}", "cancelFriendRequest", "Cancel an outgoing request"],
] as const;

for (const [method, path, operationId, summary] of actions) {
  friendRequestRoutes.openapi(
    createRoute({
      method,
      path,
      operationId,
      tags,
      security,
      middleware: mw,
      summary,
      request: { params: IdParam },
      responses: {
        204: { description: "Done" },
        ...problemResponses(
          "user_required",
          "friend_request_not_found",
          "friend_request_closed",
          "friend_limit",
          "user_not_found",
        ),
      },
    }),
    async (c) => {
      const me = { tenantId: c.get("tenant").id, userId: requireUser(c.get("principal")).userId };
      const hub = hubStub(c.env, me.tenantId, me.userId);
      const id = c.req.valid("param").id;
      if (path.endsWith("accept"))
        valueOf(await hub.acceptFriendRequest(me, id, c.get("tenant").config.limits.maxFriends));
      else valueOf(await hub.closeFriendRequest(me, id, path.endsWith("reject") ? "rejected" : "cancelled"));
      return c.body(null, 204);
    },
  );
}
