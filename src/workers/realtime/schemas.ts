import { z } from "@hono/zod-openapi";
import { lineText } from "../../lib/text";
import { checkBody, ConversationIdSchema, MessageInputShape } from "../../durable/protocol/frames";

export const TicketSchema = z.object({ ticket: z.string(), expiresIn: z.number().int() }).openapi("RealtimeTicket");

export const ConversationCreateSchema = z
  .discriminatedUnion("type", [
    z.object({ type: z.literal("direct"), userId: z.string().min(1).max(64) }).strict(),
    z
      .object({
        type: z.literal("group"),
        name: lineText(64),
        memberIds: z.array(z.string().min(1).max(64)).min(1).max(100_000),
      })
      .strict(),
  ])
  .openapi("ConversationCreate");

const Role = z.enum(["owner", "admin", "member"]);
const Member = z.object({ userId: z.string(), role: Role, joinedAt: z.string().datetime(), readSeq: z.number().int() });

export const MessageSchema = z
  .object({
    conversationId: z.string(),
    seq: z.number().int(),
    messageId: z.string(),
    senderId: z.string(),
    kind: z.enum(["text", "custom", "file", "system", "edit", "recall"]),
    body: z.unknown(),
    sentAt: z.string().datetime(),
    editedAt: z.string().datetime().optional(),
    recalled: z.literal(true).optional(),
  })
  .openapi("Message");

export const ConversationSchema = z
  .object({
    id: z.string(),
    type: z.enum(["direct", "group"]),
    name: z.string().nullable(),
    ownerId: z.string(),
    createdAt: z.string().datetime(),
    members: z.array(Member),
    lastSeq: z.number().int(),
    lastMessage: MessageSchema.nullable(),
    readSeq: z.number().int(),
    unreadCount: z.number().int(),
    muted: z.boolean(),
  })
  .openapi("Conversation");

export const MessageCreateSchema = z.object(MessageInputShape).strict().superRefine(checkBody).openapi("MessageCreate");

export const HistoryQuerySchema = z
  .object({
    cursor: z
      .string()
      .max(200)
      .optional()
      .openapi({ description: "The previous page's nextCursor: continues in the same direction" }),
    before: z.coerce
      .number()
      .int()
      .min(1)
      .optional()
      .openapi({ description: "Alias: messages with a smaller seq (default: the newest)" }),
    after: z.coerce
      .number()
      .int()
      .min(0)
      .optional()
      .openapi({ description: "Alias: messages with a larger seq, oldest first" }),
    limit: z.coerce.number().int().min(1).max(100).default(50),
  })
  .refine((q) => [q.cursor, q.before, q.after].filter((v) => v !== undefined).length <= 1, {
    message: "give at most one of cursor, before and after",
  });

export const ReadSchema = z
  .object({ seq: z.number().int().min(0) })
  .strict()
  .openapi("ReadCursor");
export const ConversationParam = z.object({ id: ConversationIdSchema });
export const MessageParam = z.object({ id: ConversationIdSchema, messageId: z.string().min(1).max(64) });
export const MemberParam = z.object({
  id: ConversationIdSchema,
  userId: z.string().min(1).max(64).openapi({ description: "A member's id, or `me`" }),
});

export const MembersAddSchema = z
  .object({ userIds: z.array(z.string().min(1).max(64)).min(1).max(1000) })
  .strict()
  .openapi("MembersAdd");
export const MemberPatchSchema = z
  .object({
    role: Role.optional().openapi({
      description: "Owner only: `admin`/`member` promotes or demotes; `owner` transfers ownership",
    }),
    muted: z.boolean().optional().openapi({ description: "Only on yourself (`me`): no push notifications" }),
  })
  .strict()
  .refine((v) => (v.role === undefined) !== (v.muted === undefined), "exactly one of role, muted")
  .openapi("MemberPatch");
export const ConversationPatchSchema = z
  .object({ name: lineText(64) })
  .strict()
  .openapi("ConversationPatch");
export const MessageEditSchema = z.object({ body: z.unknown() }).strict().openapi("MessageEdit");
export const MessageChangeSchema = z.object({ message: MessageSchema, event: MessageSchema }).openapi("MessageChange");
