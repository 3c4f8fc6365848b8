import { createRoute, z } from "@hono/zod-openapi";
import { outboxInsert } from "../../db/tenant/outbox";
import { activeHolders, isLastOwnerAbort } from "../../db/tenant/roles";
import { users } from "../../db/tenant/schema";
import { nicknamesOf, rolesOfUser, searchUsers, setUserRoles } from "../../db/tenant/users";
import { findRolesByName } from "../../db/tenant/roles";
import { cancelDeletion, scheduleDeletion } from "../../db/tenant/erasure";
import { eraseUser } from "../erasure/erase";
import { scopeOf } from "../gateway/context";
import { AppError } from "../../lib/errors";
import { searchQuery } from "../../lib/search-query";
import { withPermission } from "../gateway/middleware/authn";
import { createRouter, jsonResponse, PageQuerySchema, pageSchema, problemResponses, pagerFor } from "../gateway/http";
import { AdminUserSchema, IdParamSchema, SetRolesSchema } from "./schemas";
import { assertOutranks, assertRanksBelow, rankOf, targetUser } from "../gateway/ranks";
import { assertGrantable, userView } from "./service";
import { eq } from "drizzle-orm";
import { hubStub } from "../../durable/protocol/stubs";

/** Tenant administration of users: /v1/admin/users*. */
export const adminUserRoutes = createRouter();
const tags = ["Tenant admin"];
const security = [{ bearer: [] }];
const mw = withPermission;
const lastOwner = () =>
  new AppError("last_owner", "The tenant's last active owner cannot be suspended, deleted or lose the owner role.");

const nicknameOf = async (db: Parameters<typeof nicknamesOf>[0], id: string) =>
  (await nicknamesOf(db, [id])).get(id) ?? null;

/** Runs a change the last-owner triggers may refuse (a race the pre-check could not see): 409. */
async function keepingAnOwner<T>(change: () => Promise<T>): Promise<T> {
  try {
    return await change();
  } catch (err) {
    if (isLastOwnerAbort(err)) throw lastOwner();
    throw err;
  }
}

adminUserRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/users",
    operationId: "listUsers",
    tags,
    security,
    summary: "Search users by email, username, nickname or id",
    middleware: mw("users:read"),
    request: { query: PageQuerySchema.extend({ q: z.string().max(100).optional() }) },
    responses: { 200: jsonResponse(pageSchema(AdminUserSchema), "Users"), ...problemResponses("forbidden") },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const db = c.get("db");
    const pg = pagerFor(c, "id");
    const rows = await searchUsers(db, {
      text: q.q === undefined ? undefined : searchQuery(q.q, { lowercase: true }),
      before: (await pg.after(q.cursor))?.[0],
      limit: q.limit + 1,
    });
    const { page, nextCursor } = await pg.page(rows, q.limit, (u) => [u.id]);
    const nicknames = await nicknamesOf(
      db,
      page.map((u) => u.id),
    );
    const items = await Promise.all(
      page.map(async (u) => userView(u, await rolesOfUser(db, u.id), nicknames.get(u.id) ?? null)),
    );
    return c.json({ items, nextCursor }, 200);
  },
);

const statusRoute = (action: "suspend" | "resume") =>
  createRoute({
    method: "post",
    path: `/admin/users/{id}/${action}`,
    operationId: action === "suspend" ? "suspendUser" : "resumeUser",
    tags,
    security,
    middleware: mw("users:suspend"),
    summary: action === "suspend" ? "Suspend a user: every session ends now" : "Resume a suspended user",
    request: { params: IdParamSchema },
    responses: {
      200: jsonResponse(AdminUserSchema, "The user"),
      ...problemResponses("forbidden", "rank_too_low", "user_not_found", "cannot_suspend_self"),
    },
  });

for (const action of ["suspend", "resume"] as const) {
  adminUserRoutes.openapi(statusRoute(action), async (c) => {
    const tenant = c.get("tenant");
    const db = c.get("db");
    const user = await targetUser(db, c.req.valid("param").id);
    const status = action === "suspend" ? "suspended" : "active";
    const p = c.get("principal");
    if (p.kind === "user" && p.userId === user.id)
      throw new AppError("cannot_suspend_self", "You cannot suspend yourself.");
    const roles = await rolesOfUser(db, user.id);
    await assertOutranks(db, p, user.id, roles);
    await keepingAnOwner(() =>
      db.batch([
        db.update(users).set({ status, updatedAt: Date.now() }).where(eq(users.id, user.id)),
        outboxInsert(db, {
          type: action === "suspend" ? "user.suspended" : "user.resumed",
          subject: user.id,
          data: { userId: user.id },
        }),
      ]),
    );
    // The hub mirrors the status: the user's live sessions fail on their very next request.
    await hubStub(c.env, tenant.id, user.id).setStatus(status);
    return c.json(userView({ ...user, status }, roles, await nicknameOf(db, user.id)), 200);
  });
}

adminUserRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/users/{id}/force-logout",
    operationId: "forceLogoutUser",
    tags,
    security,
    summary: "End every session of a user",
    middleware: mw("users:logout"),
    request: { params: IdParamSchema },
    responses: {
      200: jsonResponse(z.object({ revoked: z.number().int() }), "Sessions ended"),
      ...problemResponses("forbidden", "rank_too_low", "user_not_found"),
    },
  }),
  async (c) => {
    const tenant = c.get("tenant");
    const db = c.get("db");
    const user = await targetUser(db, c.req.valid("param").id);
    await assertOutranks(db, c.get("principal"), user.id);
    return c.json({ revoked: await hubStub(c.env, tenant.id, user.id).revokeAll("force_logout") }, 200);
  },
);

adminUserRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/admin/users/{id}",
    operationId: "deleteUser",
    tags,
    security,
    summary: "Delete a user: erased at once across every store (docs/privacy.md)",
    middleware: mw("users:delete"),
    request: { params: IdParamSchema },
    responses: {
      204: { description: "Deleted" },
      ...problemResponses("forbidden", "rank_too_low", "user_not_found", "last_owner"),
    },
  }),
  async (c) => {
    const tenant = c.get("tenant");
    const db = c.get("db");
    const user = await targetUser(db, c.req.valid("param").id);
    const roles = await rolesOfUser(db, user.id);
    await assertOutranks(db, c.get("principal"), user.id, roles);
    if (user.status === "active" && roles.some((r) => r.id === "owner") && (await activeHolders(db, "owner")) <= 1)
      throw lastOwner();
    // Erased at once (docs/privacy.md): the row stays (its id is never reused) but holds nothing
    // personal; what a failure part way leaves, the minute sweep finishes.
    const now = Date.now();
    await scheduleDeletion(db, user.id, now, now);
    try {
      await keepingAnOwner(() => eraseUser(scopeOf(c), user.id, now));
    } catch (err) {
      // Refused before anything was erased (the claim is one transaction): no deletion stays armed.
      if (err instanceof AppError && err.code === "last_owner") await cancelDeletion(db, user.id, Date.now());
      throw err;
    }
    return c.body(null, 204);
  },
);

adminUserRoutes.openapi(
  createRoute({
    method: "put",
    path: "/admin/users/{id}/roles",
    operationId: "setUserRoles",
    tags,
    security,
    summary: "Replace a user's roles (by name)",
    middleware: mw("roles:assign"),
    request: {
      params: IdParamSchema,
      body: { required: true, content: { "application/json": { schema: SetRolesSchema } } },
    },
    responses: {
      200: jsonResponse(AdminUserSchema, "The user"),
      ...problemResponses(
        "unknown_role",
        "forbidden",
        "privilege_escalation",
        "rank_too_low",
        "user_not_found",
        "last_owner",
      ),
    },
  }),
  async (c) => {
    const db = c.get("db");
    const user = await targetUser(db, c.req.valid("param").id);
    const names = [...new Set(c.req.valid("json").roles)];
    const wanted = await findRolesByName(db, names);
    const missing = names.filter((n) => !wanted.some((r) => r.name === n));
    if (missing.length) throw new AppError("unknown_role", `Unknown roles: ${missing.join(", ")}.`);
    const current = await rolesOfUser(db, user.id);
    const p = c.get("principal");
    await assertOutranks(db, p, user.id, current);
    // Granting and taking away are both privileged: the caller must hold every permission involved
    // and outrank every role involved (taking one's own roles away is always allowed).
    const added = wanted.filter((r) => !current.some((x) => x.id === r.id));
    const removed = current.filter((r) => !wanted.some((x) => x.id === r.id));
    const self = p.kind === "user" && p.userId === user.id;
    await assertGrantable(
      db,
      p,
      [...added, ...removed].flatMap((r) => JSON.parse(r.permissions) as string[]),
    );
    assertRanksBelow(await rankOf(db, p), self ? added : [...added, ...removed]);
    if (user.status === "active" && removed.some((r) => r.id === "owner") && (await activeHolders(db, "owner")) <= 1)
      throw lastOwner();
    await keepingAnOwner(() =>
      setUserRoles(
        db,
        user.id,
        wanted.map((r) => r.id),
        { type: "user.roles_changed", subject: user.id, data: { userId: user.id, roles: names } },
        current.map((r) => r.id),
      ),
    );
    c.get("audit").changes = { before: { roles: current.map((r) => r.name) }, after: { roles: names } };
    return c.json(userView(user, wanted, await nicknameOf(db, user.id)), 200);
  },
);
