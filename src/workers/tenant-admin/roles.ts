import { createRoute } from "@hono/zod-openapi";
import { isConstraintViolation } from "../../db/constraint";
import { deleteRole, findRole, insertRole, listRoles, updateRole } from "../../db/tenant/roles";
import { AppError } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { withPermission } from "../gateway/middleware/authn";
import {
  createRouter,
  jsonResponse,
  PageQuerySchema,
  pageSchema,
  problemResponses,
  jsonBody,
  pagerFor,
} from "../gateway/http";
import { CreateRoleSchema, IdParamSchema, RoleSchema, UpdateRoleSchema } from "./schemas";
import { assertRanksBelow, rankOf } from "../gateway/ranks";
import { assertGrantable, roleView } from "./service";

/** Tenant roles: /v1/admin/roles*. Seeded roles (owner, admin, moderator, member) are system roles. */
export const adminRoleRoutes = createRouter();
const tags = ["Tenant admin"];
const security = [{ bearer: [] }];
const mw = withPermission;
const taken = (name: string) => new AppError("role_exists", `A role named '${name}' exists.`);

adminRoleRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/roles",
    operationId: "listRoles",
    tags,
    security,
    summary: "List roles by name",
    middleware: mw("roles:read"),
    request: { query: PageQuerySchema },
    responses: { 200: jsonResponse(pageSchema(RoleSchema), "Roles"), ...problemResponses("forbidden") },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const pg = pagerFor(c, "id");
    const rows = await listRoles(c.get("db"), {
      after: (await pg.after(q.cursor))?.[0],
      limit: q.limit + 1,
    });
    const { page, nextCursor } = await pg.page(rows, q.limit, (r) => [r.name]);
    return c.json({ items: page.map(roleView), nextCursor }, 200);
  },
);

adminRoleRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/roles",
    operationId: "createRole",
    tags,
    security,
    summary: "Create a custom role",
    middleware: mw("roles:write"),
    request: { body: jsonBody(CreateRoleSchema) },
    responses: {
      201: jsonResponse(RoleSchema, "Created"),
      ...problemResponses("forbidden", "privilege_escalation", "rank_too_low", "role_exists"),
    },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const db = c.get("db");
    await assertGrantable(db, c.get("principal"), body.permissions);
    assertRanksBelow(await rankOf(db, c.get("principal")), [{ name: body.name, rank: body.rank }]);
    const now = Date.now();
    const row = {
      id: newId(now),
      name: body.name,
      description: body.description,
      permissions: JSON.stringify(body.permissions),
      rank: body.rank,
      system: false,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await insertRole(db, row);
    } catch (err) {
      if (isConstraintViolation(err)) throw taken(body.name);
      throw err;
    }
    return c.json(roleView(row), 201);
  },
);

adminRoleRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/admin/roles/{id}",
    operationId: "updateRole",
    tags,
    security,
    summary: "Rename a role or change its permissions (applies on the next request)",
    middleware: mw("roles:write"),
    request: { params: IdParamSchema, body: jsonBody(UpdateRoleSchema) },
    responses: {
      200: jsonResponse(RoleSchema, "Updated"),
      ...problemResponses("forbidden", "privilege_escalation", "rank_too_low", "role_not_found", "system_role"),
    },
  }),
  async (c) => {
    const db = c.get("db");
    const role = await findRole(db, c.req.valid("param").id);
    if (!role) throw new AppError("role_not_found", "No such role.");
    const body = c.req.valid("json");
    if (role.system && (body.name !== undefined || body.rank !== undefined || role.id === "owner")) {
      throw new AppError("system_role", "System roles cannot be renamed or re-ranked, and owner cannot be changed.");
    }
    const mine = await rankOf(db, c.get("principal"));
    assertRanksBelow(mine, [role, ...(body.rank !== undefined ? [{ name: role.name, rank: body.rank }] : [])]);
    if (body.permissions)
      await assertGrantable(db, c.get("principal"), [
        ...body.permissions,
        ...(JSON.parse(role.permissions) as string[]),
      ]);
    try {
      const updated = await updateRole(db, role.id, {
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.description !== undefined ? { description: body.description } : {}),
        ...(body.permissions !== undefined ? { permissions: JSON.stringify(body.permissions) } : {}),
        ...(body.rank !== undefined ? { rank: body.rank } : {}),
      });
      c.get("audit").changes = { before: roleView(role), after: roleView(updated!) };
      return c.json(roleView(updated!), 200);
    } catch (err) {
      if (isConstraintViolation(err)) throw taken(body.name ?? role.name);
      throw err;
    }
  },
);

adminRoleRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/admin/roles/{id}",
    operationId: "deleteRole",
    tags,
    security,
    summary: "Delete a custom role (its holders lose it)",
    middleware: mw("roles:write"),
    request: { params: IdParamSchema },
    responses: {
      204: { description: "Deleted" },
      ...problemResponses("forbidden", "rank_too_low", "role_not_found", "system_role"),
    },
  }),
  async (c) => {
    const db = c.get("db");
    const role = await findRole(db, c.req.valid("param").id);
    if (!role) throw new AppError("role_not_found", "No such role.");
    if (role.system) throw new AppError("system_role", "System roles cannot be deleted.");
    assertRanksBelow(await rankOf(db, c.get("principal")), [role]);
    await assertGrantable(db, c.get("principal"), JSON.parse(role.permissions) as string[]);
    await deleteRole(db, role.id);
    return c.body(null, 204);
  },
);
