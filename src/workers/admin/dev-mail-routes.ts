import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../../lib/errors";
import { createRouter, jsonResponse, PageQuerySchema, pageSchema, pagerFor, problemResponses } from "../gateway/http";
import { DevMailSchema, hasDevInbox, readDevInbox } from "../mail/dev-inbox";

/**
 * The dev inbox, mounted at /admin/v1 (behind the gateway's platform admin check): the mail the
 * local catcher received, so a newcomer can open a sign-up or reset link without a mail
 * provider. It exists only where ENVIRONMENT is development or test; elsewhere every method on
 * /admin/v1/dev/* answers the unknown-route 404 before anything else is read, so production
 * neither reveals the route nor reaches for a catcher.
 */
export const devMailRoutes = createRouter();

const tags = ["Platform admin"];
const security = [{ adminToken: [] }];

devMailRoutes.use("/dev/*", async function devOnly(c, next) {
  if (!hasDevInbox(c.env)) throw new AppError("route_not_found", `No route for ${c.req.method} ${c.req.path}.`);
  await next();
});

devMailRoutes.openapi(
  createRoute({
    method: "get",
    path: "/dev/mail",
    operationId: "listDevMail",
    tags,
    security,
    summary: "Mail caught by the local mail catcher, newest first (development and test only)",
    description:
      "Reads the inbox of the local mail catcher that `npm run dev` and the tests start (MAIL_API_URL). Outside development and test this route does not exist (404 `route_not_found`). 503 when the catcher is not configured or not running.",
    request: {
      query: PageQuerySchema.extend({
        to: z
          .string()
          .max(320)
          .optional()
          .openapi({ description: "Only mail to this address (compared without case or display name)" }),
      }),
    },
    responses: {
      200: jsonResponse(pageSchema(DevMailSchema), "A page of caught mail"),
      ...problemResponses("route_not_found", "service_unavailable"),
    },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const pg = pagerFor(c, "id");
    const before = (await pg.after(q.cursor))?.[0];
    const rows = await readDevInbox(c.env, { to: q.to, before, limit: q.limit + 1 });
    const { page, nextCursor } = await pg.page(rows, q.limit, (m) => [m.id]);
    return c.json({ items: page, nextCursor }, 200);
  },
);
