import { createRoute, z } from "@hono/zod-openapi";
import { blockedEitherWay, follow, followPage, unfollow } from "../../db/tenant/profiles";
import { findUserById } from "../../db/tenant/users";
import { AppError } from "../../lib/errors";
import { requireUser, signedIn } from "../gateway/middleware/authn";
import { createRouter, jsonResponse, PageQuerySchema, pageSchema, problemResponses, pagerFor } from "../gateway/http";
import { PublicUserSchema, UserIdParamSchema } from "./schemas";
import { publicUser } from "./views";

/** One-way follows: /v1/users/{id}/follow, /followers, /following. Blocks apply both ways. */
export const followRoutes = createRouter();
const tags = ["Follows"];
const security = [{ bearer: [] }];
const mw = signedIn();
const notFound = () => new AppError("user_not_found", "No such user.");

for (const method of ["put", "delete"] as const) {
  followRoutes.openapi(
    createRoute({
      method,
      path: "/users/{id}/follow",
      operationId: method === "put" ? "followUser" : "unfollowUser",
      tags,
      security,
      middleware: mw,
      summary: method === "put" ? "Follow a user (idempotent)" : "Unfollow a user (idempotent)",
      request: { params: UserIdParamSchema },
      responses: {
        200: jsonResponse(z.object({ following: z.boolean() }), "State after the call"),
        ...problemResponses("cannot_follow_self", "user_required", "user_not_found"),
      },
    }),
    async (c) => {
      const me = requireUser(c.get("principal")).userId;
      const id = c.req.valid("param").id;
      const db = c.get("db");
      if (id === me) throw new AppError("cannot_follow_self", "You cannot follow yourself.");
      const target = await findUserById(db, id);
      if (method === "delete") {
        // Idempotent for a real user (whatever their status); an id that names nobody is a 404.
        if (!target) throw notFound();
        await unfollow(db, me, id);
        return c.json({ following: false }, 200);
      }
      if (!target || target.status !== "active" || (await blockedEitherWay(db, me, id))) throw notFound();
      await follow(db, me, id);
      return c.json({ following: true }, 200);
    },
  );
}

for (const side of ["followers", "following"] as const) {
  followRoutes.openapi(
    createRoute({
      method: "get",
      path: `/users/{id}/${side}`,
      operationId: side === "followers" ? "listFollowers" : "listFollowing",
      tags,
      security,
      middleware: mw,
      summary: side === "followers" ? "Who follows this user, newest first" : "Whom this user follows, newest first",
      request: { params: UserIdParamSchema, query: PageQuerySchema },
      responses: {
        200: jsonResponse(pageSchema(PublicUserSchema), "Users"),
        ...problemResponses("user_required", "user_not_found"),
      },
    }),
    async (c) => {
      const me = requireUser(c.get("principal")).userId;
      const id = c.req.valid("param").id;
      const q = c.req.valid("query");
      const db = c.get("db");
      const target = await findUserById(db, id);
      if (!target || target.status !== "active" || (id !== me && (await blockedEitherWay(db, me, id))))
        throw notFound();
      const pg = pagerFor(c, "time-id");
      const before = await pg.after(q.cursor);
      const rows = await followPage(db, id, side, q.limit + 1, before);
      const { page, nextCursor } = await pg.page(rows, q.limit, (r) => [r.createdAt, r.userId]);
      return c.json(
        {
          items: page.map((r) => publicUser({ id: r.userId, username: r.username }, r.profile)),
          nextCursor,
        },
        200,
      );
    },
  );
}
