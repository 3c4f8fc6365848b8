import { z } from "@hono/zod-openapi";
import { lineText, multilineText } from "../../lib/text";
import { PageQuerySchema } from "../gateway/http";
import { NOTIFICATION_TYPES } from "./compose";

export const NotificationTypeSchema = z.enum(NOTIFICATION_TYPES);

export const NotificationSchema = z
  .object({
    id: z.string(),
    type: z.string().openapi({ description: `One of ${NOTIFICATION_TYPES.join(", ")}` }),
    title: z.string(),
    body: z.string(),
    actorId: z.string().nullable(),
    count: z
      .number()
      .int()
      .openapi({ description: "Events this entry stands for: a burst collapses into one entry while unread" }),
    data: z.record(z.string(), z.unknown()),
    createdAt: z.string(),
    updatedAt: z.string(),
    readAt: z.string().nullable(),
  })
  .openapi("Notification");

export const NotificationPageSchema = z
  .object({ items: z.array(NotificationSchema), nextCursor: z.string().nullable(), unreadCount: z.number().int() })
  .openapi("NotificationPage");

export const NotificationQuerySchema = PageQuerySchema.extend({
  unread: z.enum(["true", "false"]).optional().openapi({ description: "true: unread entries only" }),
});

export const NotificationIdParamSchema = z.object({ id: z.string().min(1).max(80) });

export const PreferencesSchema = z
  .object({
    muted: z
      .array(NotificationTypeSchema)
      .max(NOTIFICATION_TYPES.length)
      .openapi({ description: "Types that create no inbox entry and no push" }),
  })
  .strict()
  .openapi("NotificationPreferences");

export const AnnouncementInputSchema = z
  .object({
    title: lineText(200),
    body: multilineText(4000).default(""),
    role: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .openapi({ description: "Only users holding this role; absent = every active user" }),
  })
  .strict();

export const AnnouncementSchema = z
  .object({
    id: z.string(),
    title: z.string(),
    body: z.string(),
    role: z.string().nullable(),
    createdBy: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi("Announcement");
