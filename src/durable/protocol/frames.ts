import { z } from "zod";

/**
 * The realtime wire contract (docs/realtime.md), shared by the UserHub (which validates client
 * frames) and the Conversation object and HTTP routes (which validate message input).
 */

/**
 * Largest client frame, in bytes of UTF-8, when the upgrade names none; beyond it the socket
 * closes with 1009. Tenants set their own (`realtime.maxFrameBytes`, same default).
 */
export const MAX_FRAME_BYTES = 64 * 1024;
/**
 * A socket's frame budget when the upgrade names none (`realtime.framesPerSecond`,
 * `realtime.frameBurst`): a token bucket; a frame beyond it is refused with `rate_limited`, and
 * only sustained abuse closes the socket with 1008 (src/durable/user-hub/frame-bucket.ts).
 */
export const FRAMES_PER_SECOND = 20;
export const FRAME_BURST = 100;
/** Largest message body, as serialized JSON. */
export const MAX_BODY_BYTES = 16 * 1024;
/** A sync that is further behind than this gets a `sync_truncated` marker instead of messages. */
export const SYNC_MAX = 200;

/** Close codes the server uses (besides the standard ones). */
export const CLOSE = { policy: 1008, tooLarge: 1009, retry: 1013, revoked: 4001 } as const;

export const ConversationIdSchema = z.string().regex(/^[dg]_[0-9a-z]{20,40}$/, "not a conversation id");
export const ClientIdSchema = z.string().min(1).max(64);
export const MessageIdSchema = z.string().min(1).max(64);
export const MessageKindSchema = z.enum(["text", "custom", "file"]);
export type MessageKind = z.infer<typeof MessageKindSchema>;
/**
 * Kinds on the log: what clients send, plus events the object writes itself: `system`
 * (membership and group changes), `edit` and `recall` (referencing an earlier messageId).
 */
export type LogKind = MessageKind | "system" | "edit" | "recall";

/** A file id as the files service issues them (src/lib/ids.ts: 26 Crockford base32 characters). */
export const FileIdSchema = z.string().regex(/^[0-9a-hjkmnp-tv-z]{26}$/, "not a file id");
/** Longest caption of a file message. */
export const MAX_CAPTION_CHARS = 1000;

/** Text: `{ text, mentions? }`; mentions are user ids a notification goes to even in muted conversations. */
const TextBodySchema = z
  .object({ text: z.string().trim().min(1).max(4000), mentions: z.array(z.string().min(1).max(64)).max(50).optional() })
  .strict();
const CustomBodySchema = z.record(z.string(), z.unknown());
/**
 * File: `{ fileId, caption? }`, one of the sender's own ready uploads. The object stores it
 * enriched with the file's `name`, `contentType` and `size` (see conversation/attachments.ts).
 */
const FileBodySchema = z
  .object({ fileId: FileIdSchema, caption: z.string().trim().min(1).max(MAX_CAPTION_CHARS).optional() })
  .strict();
const BODY_SCHEMAS = { text: TextBodySchema, custom: CustomBodySchema, file: FileBodySchema } as const;

const bodyBytes = (body: unknown) => new TextEncoder().encode(JSON.stringify(body)).length;

/** A message as a client submits it (socket `send` frame and HTTP POST .../messages). */
export const MessageInputShape = {
  clientId: ClientIdSchema,
  kind: MessageKindSchema.default("text"),
  body: z.unknown(),
};

/** Checks a body against its kind: text is `{ text }`; custom is any JSON object; file is `{ fileId, caption? }`; all size-capped. */
export function checkBody(v: { kind: MessageKind; body: unknown }, ctx: z.RefinementCtx): void {
  const parsed = BODY_SCHEMAS[v.kind].safeParse(v.body);
  if (!parsed.success) {
    for (const issue of parsed.error.issues)
      ctx.addIssue({ code: "custom", path: ["body", ...issue.path.map(String)], message: issue.message });
  } else if (bodyBytes(v.body) > MAX_BODY_BYTES) {
    ctx.addIssue({ code: "custom", path: ["body"], message: `must be at most ${MAX_BODY_BYTES} bytes of JSON` });
  }
}

export const MessageInputSchema = z.object(MessageInputShape).strict().superRefine(checkBody);
export type MessageInput = z.infer<typeof MessageInputSchema>;

/** Every frame a client may send. Unknown types and extra fields are rejected. */
export const ClientFrameSchema = z.discriminatedUnion("type", [
  z
    .object({ type: z.literal("send"), conversationId: ConversationIdSchema, ...MessageInputShape })
    .strict()
    .superRefine(checkBody),
  z
    .object({ type: z.literal("sync"), cursors: z.record(ConversationIdSchema, z.number().int().min(0)) })
    .strict()
    .refine((v) => Object.keys(v.cursors).length <= 100, "at most 100 conversations per sync"),
  z.object({ type: z.literal("read"), conversationId: ConversationIdSchema, seq: z.number().int().min(0) }).strict(),
  z.object({ type: z.literal("typing"), conversationId: ConversationIdSchema }).strict(),
  z.object({ type: z.literal("ping") }).strict(),
  // Edit and recall (same rules as HTTP PATCH/DELETE …/messages/{messageId}); clientId is only echoed back.
  z
    .object({
      type: z.literal("edit"),
      conversationId: ConversationIdSchema,
      messageId: MessageIdSchema,
      body: z.unknown(),
      clientId: ClientIdSchema.optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal("recall"),
      conversationId: ConversationIdSchema,
      messageId: MessageIdSchema,
      clientId: ClientIdSchema.optional(),
    })
    .strict(),
]);
export type ClientFrame = z.infer<typeof ClientFrameSchema>;

/** A stored message as delivered (`message` frame without its `type`, and HTTP history items). */
export interface MessageView {
  conversationId: string;
  seq: number;
  messageId: string;
  senderId: string;
  kind: LogKind;
  /** The latest body (after edits); null once recalled. */
  body: unknown;
  sentAt: string;
  /** Set when the message was edited (history shows the latest body). */
  editedAt?: string;
  /** Set when the message was recalled (its body is gone). */
  recalled?: true;
  /** Set when the sender's account was erased and its messages anonymised (the body is gone). */
  senderDeleted?: true;
}

/** Frames the server sends. */
export type ServerFrame =
  | ({ type: "message" } & MessageView)
  | { type: "ack"; clientId: string; conversationId: string; seq: number; messageId: string }
  /** An edit or recall frame is done: `messageId` is the changed message, `seq` the log entry that records the change. */
  | { type: "edited" | "recalled"; conversationId: string; messageId: string; seq: number; clientId?: string }
  | { type: "error"; code: string; message: string; clientId?: string; conversationId?: string; retryAfterMs?: number }
  | { type: "sync_truncated"; conversationId: string; fromSeq: number; latestSeq: number }
  | { type: "synced"; cursors: Record<string, number> }
  | { type: "read"; conversationId: string; userId: string; seq: number }
  | { type: "typing"; conversationId: string; userId: string }
  | { type: "pong" }
  | { type: "closed"; reason: string };
