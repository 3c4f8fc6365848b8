import { createRoute, z } from "@hono/zod-openapi";
import { newId } from "../../lib/ids";
import { requireUser, signedIn } from "../gateway/middleware/authn";
import {
  createRouter,
  jsonResponse,
  PageQuerySchema,
  pageSchema,
  problemResponses,
  jsonBody,
  pagerFor,
} from "../gateway/http";
import { peers } from "./graph";
import {
  FriendGroupSchema,
  FriendGroupWriteSchema,
  FriendPatchSchema,
  FriendSchema,
  IdParam,
  UserIdParam,
} from "./schemas";
import { iso } from "../../lib/time";
import { hubStub } from "../../durable/protocol/stubs";
import { valueOf } from "../gateway/results";

/** Friends and friend groups: /v1/friends*, /v1/friends/groups*. */
export const friendRoutes = createRouter();
const tags = ["Friends"];
const security = [{ bearer: [] }];
const mw = signedIn();
const me = (c: { get(k: "tenant"): { id: string }; get(k: "principal"): Parameters<typeof requireUser>[0] }) => ({
  tenantId: c.get("tenant").id,
  userId: requireUser(c.get("principal")).userId,
});

friendRoutes.openapi(
  createRoute({
    method: "get",
    path: "/friends",
    operationId: "listFriends",
    tags,
    security,
    middleware: mw,
    summary: "Friends, by user id",
    request: { query: PageQuerySchema.extend({ groupId: z.string().max(64).optional() }) },
    responses: { 200: jsonResponse(pageSchema(FriendSchema), "Friends"), ...problemResponses("user_required") },
  }),
  async (c) => {
    const who = me(c);
    const q = c.req.valid("query");
    const pg = pagerFor(c, "id");
    const after = (await pg.after(q.cursor))?.[0];
    const rows = await hubStub(c.env, who.tenantId, who.userId).friends(q.limit + 1, after, q.groupId);
    const { page, nextCursor } = await pg.page(rows, q.limit, (f) => [f.userId]);
    const peer = await peers(
      c.get("db"),
      page.map((f) => f.userId),
    );
    return c.json(
      {
        items: page.map((f) => ({ user: peer(f.userId), remark: f.remark, groupId: f.groupId, since: iso(f.since) })),
        nextCursor,
      },
      200,
    );
  },
);

friendRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/friends/{userId}",
    operationId: "updateFriend",
    tags,
    security,
    middleware: mw,
    summary: "Set a friend's remark or group",
    request: { params: UserIdParam, body: jsonBody(FriendPatchSchema) },
    responses: {
      200: jsonResponse(FriendSchema, "The friend"),
      ...problemResponses("user_required", "friend_group_not_found", "friend_not_found"),
    },
  }),
  async (c) => {
    const who = me(c);
    const f = valueOf(
      await hubStub(c.env, who.tenantId, who.userId).updateFriend(c.req.valid("param").userId, c.req.valid("json")),
    );
    const peer = await peers(c.get("db"), [f.userId]);
    return c.json({ user: peer(f.userId), remark: f.remark, groupId: f.groupId, since: iso(f.since) }, 200);
  },
);

friendRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/friends/{userId}",
    operationId: "removeFriend",
    tags,
    security,
    middleware: mw,
    summary: "Remove a friend (both sides)",
    request: { params: UserIdParam },
    responses: { 204: { description: "Removed" }, ...problemResponses("user_required", "friend_not_found") },
  }),
  async (c) => {
    const who = me(c);
    valueOf(await hubStub(c.env, who.tenantId, who.userId).removeFriend(who, c.req.valid("param").userId));
    return c.body(null, 204);
  },
);

friendRoutes.openapi(
  createRoute({
    method: "get",
    path: "/friends/groups",
    operationId: "listFriendGroups",
    tags,
    security,
    middleware: mw,
    summary: "Friend groups (at most 100)",
    responses: {
      200: jsonResponse(z.object({ items: z.array(FriendGroupSchema), nextCursor: z.null() }), "Groups"),
      ...problemResponses("user_required"),
    },
  }),
  async (c) => {
    const who = me(c);
    const groups = await hubStub(c.env, who.tenantId, who.userId).friendGroups();
    return c.json({ items: groups.map((g) => ({ ...g, createdAt: iso(g.createdAt) })), nextCursor: null }, 200);
  },
);

friendRoutes.openapi(
  createRoute({
    method: "post",
    path: "/friends/groups",
    operationId: "createFriendGroup",
    tags,
    security,
    middleware: mw,
    summary: "Create a friend group",
    request: { body: jsonBody(FriendGroupWriteSchema) },
    responses: {
      201: jsonResponse(FriendGroupSchema, "Created"),
      ...problemResponses("user_required", "friend_group_limit"),
    },
  }),
  async (c) => {
    const who = me(c);
    const g = valueOf(
      await hubStub(c.env, who.tenantId, who.userId).editGroup({
        kind: "create",
        id: newId(),
        name: c.req.valid("json").name,
      }),
    )!;
    return c.json({ ...g, createdAt: iso(g.createdAt) }, 201);
  },
);

friendRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/friends/groups/{id}",
    operationId: "updateFriendGroup",
    tags,
    security,
    middleware: mw,
    summary: "Rename a friend group",
    request: { params: IdParam, body: jsonBody(FriendGroupWriteSchema) },
    responses: {
      200: jsonResponse(FriendGroupSchema, "Renamed"),
      ...problemResponses("user_required", "friend_group_not_found"),
    },
  }),
  async (c) => {
    const who = me(c);
    const g = valueOf(
      await hubStub(c.env, who.tenantId, who.userId).editGroup({
        kind: "rename",
        id: c.req.valid("param").id,
        name: c.req.valid("json").name,
      }),
    )!;
    return c.json({ ...g, createdAt: iso(g.createdAt) }, 200);
  },
);

friendRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/friends/groups/{id}",
    operationId: "deleteFriendGroup",
    tags,
    security,
    middleware: mw,
    summary: "Delete a friend group (its friends become ungrouped)",
    request: { params: IdParam },
    responses: { 204: { description: "Deleted" }, ...problemResponses("user_required", "friend_group_not_found") },
  }),
  async (c) => {
    const who = me(c);
    valueOf(await hubStub(c.env, who.tenantId, who.userId).editGroup({ kind: "delete", id: c.req.valid("param").id }));
    return c.body(null, 204);
  },
);
