import { z } from "@hono/zod-openapi";
import { PageQuerySchema } from "../gateway/http";

export const AuditEntrySchema = z
  .object({
    id: z.string(),
    at: z.string().openapi({ description: "When the action began (ISO 8601)" }),
    actor: z.object({ type: z.enum(["user", "apiKey", "platform"]), id: z.string().nullable() }),
    action: z.string().openapi({ description: "The operation's id (`suspendUser`, `createRole`) or a security event" }),
    target: z.object({ type: z.string().nullable(), id: z.string().nullable() }),
    ip: z.string().nullable(),
    userAgent: z.string().nullable(),
    requestId: z.string().nullable(),
    outcome: z
      .enum(["pending", "succeeded", "failed"])
      .openapi({ description: "pending: the action began and its end was not recorded (a crash)" }),
    changes: z
      .object({ before: z.unknown(), after: z.unknown() })
      .optional()
      .openapi({ description: "Before and after, for config and role edits; never secrets" }),
  })
  .openapi("AuditEntry");

const time = z.string().datetime({ offset: true }).max(40);

export const AuditQuerySchema = PageQuerySchema.extend({
  actorId: z.string().min(1).max(128).optional(),
  action: z.string().min(1).max(128).optional(),
  targetId: z.string().min(1).max(128).optional(),
  from: time.optional().openapi({ description: "Entries at or after (ISO 8601)" }),
  to: time.optional().openapi({ description: "Entries before (ISO 8601)" }),
});
