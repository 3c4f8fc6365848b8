import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import {
  deleteNotification,
  listNotifications,
  markAllRead,
  markRead,
  mutedTypes,
  setMutedTypes,
  unreadCount,
} from "../../db/tenant/notifications";
import { AppError } from "../../lib/errors";
import { requireUser, signedIn } from "../gateway/middleware/authn";
import type { AppEnv } from "../gateway/context";
import { createRouter, jsonBody, jsonResponse, problemResponses, pagerFor } from "../gateway/http";
import {
  NotificationIdParamSchema,
  NotificationPageSchema,
  NotificationQuerySchema,
  NotificationSchema,
  PreferencesSchema,
} from "./schemas";
import { notificationView } from "./view";
import { deliverToUser } from "../../durable/protocol/gateways";

/** The signed-in user's inbox: /v1/notifications*. */
export const notificationRoutes = createRouter();
const tags = ["Notifications"];
const security = [{ bearer: [] }];
const mw = signedIn();
const notFound = () => new AppError("notification_not_found", "No such notification.");
const me = (c: Context<AppEnv>) => ({
  userId: requireUser(c.get("principal")).userId,
  db: c.get("db"),
});

/** Tells the user's other devices that the badge changed (read state is per user, not per device). */
async function badgeChanged(c: Context<AppEnv>, userId: string, unread: number, ids: string[] | "all"): Promise<void> {
  const frame = JSON.stringify({ type: "notifications_read", ids, unreadCount: unread });
  await deliverToUser(c.env, c.get("tenant"), userId, frame).catch(() => 0);
}

notificationRoutes.openapi(
  createRoute({
    method: "get",
    path: "/notifications",
    operationId: "listNotifications",
    tags,
    security,
    middleware: mw,
    summary: "The inbox, most recent activity first, with the unread count",
    request: { query: NotificationQuerySchema },
    responses: {
      200: jsonResponse(NotificationPageSchema, "A page of notifications"),
      ...problemResponses("user_required"),
    },
  }),
  async (c) => {
    const { userId, db } = me(c);
    const q = c.req.valid("query");
    const pg = pagerFor(c, "time-id");
    const before = await pg.after(q.cursor);
    const [rows, unread] = await Promise.all([
      listNotifications(db, userId, { before, limit: q.limit + 1, unreadOnly: q.unread === "true" }),
      unreadCount(db, userId),
    ]);
    const { page, nextCursor } = await pg.page(rows, q.limit, (r) => [r.updatedAt, r.id]);
    return c.json({ items: page.map(notificationView), nextCursor, unreadCount: unread }, 200);
  },
);

notificationRoutes.openapi(
  createRoute({
    method: "get",
    path: "/notifications/unread-count",
    operationId: "getUnreadNotificationCount",
    tags,
    security,
    middleware: mw,
    summary: "The number of unread notifications (the badge)",
    responses: {
      200: jsonResponse(z.object({ count: z.number().int() }), "Unread count"),
      ...problemResponses("user_required"),
    },
  }),
  async (c) => {
    const { userId, db } = me(c);
    return c.json({ count: await unreadCount(db, userId) }, 200);
  },
);

notificationRoutes.openapi(
  createRoute({
    method: "post",
    path: "/notifications/read-all",
    operationId: "markAllNotificationsRead",
    tags,
    security,
    middleware: mw,
    summary: "Mark every notification read",
    responses: {
      200: jsonResponse(z.object({ updated: z.number().int(), unreadCount: z.number().int() }), "How many changed"),
      ...problemResponses("user_required"),
    },
  }),
  async (c) => {
    const { userId, db } = me(c);
    const updated = await markAllRead(db, userId, Date.now());
    if (updated) await badgeChanged(c, userId, 0, "all");
    return c.json({ updated, unreadCount: 0 }, 200);
  },
);

notificationRoutes.openapi(
  createRoute({
    method: "post",
    path: "/notifications/{id}/read",
    operationId: "markNotificationRead",
    tags,
    security,
    middleware: mw,
    summary: "Mark one notification read (idempotent)",
    request: { params: NotificationIdParamSchema },
    responses: {
      200: jsonResponse(NotificationSchema, "The notification"),
      ...problemResponses("user_required", "notification_not_found"),
    },
  }),
  async (c) => {
    const { userId, db } = me(c);
    const row = await markRead(db, userId, c.req.valid("param").id, Date.now());
    if (!row) throw notFound();
    await badgeChanged(c, userId, await unreadCount(db, userId), [row.id]);
    return c.json(notificationView(row), 200);
  },
);

notificationRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/notifications/{id}",
    operationId: "deleteNotification",
    tags,
    security,
    middleware: mw,
    summary: "Delete a notification",
    request: { params: NotificationIdParamSchema },
    responses: { 204: { description: "Deleted" }, ...problemResponses("user_required", "notification_not_found") },
  }),
  async (c) => {
    const { userId, db } = me(c);
    if (!(await deleteNotification(db, userId, c.req.valid("param").id))) throw notFound();
    return c.body(null, 204);
  },
);

notificationRoutes.openapi(
  createRoute({
    method: "get",
    path: "/notifications/preferences",
    operationId: "getNotificationPreferences",
    tags,
    security,
    middleware: mw,
    summary: "Muted notification types",
    responses: { 200: jsonResponse(PreferencesSchema, "Preferences"), ...problemResponses("user_required") },
  }),
  async (c) => {
    const { userId, db } = me(c);
    return c.json({ muted: (await mutedTypes(db, userId)) as z.infer<typeof PreferencesSchema>["muted"] }, 200);
  },
);

notificationRoutes.openapi(
  createRoute({
    method: "put",
    path: "/notifications/preferences",
    operationId: "setNotificationPreferences",
    tags,
    security,
    middleware: mw,
    summary: "Replace the muted notification types",
    request: { body: jsonBody(PreferencesSchema) },
    responses: { 200: jsonResponse(PreferencesSchema, "Preferences"), ...problemResponses("user_required") },
  }),
  async (c) => {
    const { userId, db } = me(c);
    const muted = [...new Set(c.req.valid("json").muted)];
    await setMutedTypes(db, userId, muted, Date.now());
    return c.json({ muted }, 200);
  },
);
