import { z } from "zod";

/**
 * The realtime wire contract (docs/realtime.md), shared by the UserHub (which validates client
 * frames) and the Conversation object and HTTP routes (which validate message input).
 */

/** Largest client frame, in bytes of UTF-8; beyond it the socket closes with 1009. */
export const MAX_FRAME_BYTES = 64 * 1024;
/** Client frames per socket per second; beyond it the socket closes with 1008. */
export const FRAMES_PER_SECOND = 20;
/** Largest message body, as serialized JSON. */
export const MAX_BODY_BYTES = 16 * 1024;
/** A sync that is further behind than this gets a `sync_truncated` marker instead of messages. */
export const SYNC_MAX = 200;

/** Close codes the server uses (besides the standard ones). */
export const CLOSE = { policy: 1008, tooLarge: 1009, revoked: 4001 } as const;

export const ConversationIdSchema = z.string().regex(/^[dg]_[0-9a-z]{20,40}$/, "not a conversation id");
export const ClientIdSchema = z.string().min(1).max(64);
export const MessageKindSchema = z.enum(["text", "custom"]);
export type MessageKind = z.infer<typeof MessageKindSchema>;
/**
 * Kinds on the log: what clients send, plus events the object writes itself: `system`
 * (membership and group changes), `edit` and `recall` (referencing an earlier messageId).
 */
export type LogKind = MessageKind | "system" | "edit" | "recall";

/** Text: `{ text, mentions? }`; mentions are user ids a notification goes to even in muted conversations. */
const TextBodySchema = z.object({ text: z.string().trim().min(1).max(4000), mentions: z.array(z.string().min(1).max(64)).max(50).optional() }).strict();
const CustomBodySchema = z.record(z.string(), z.unknown());

const bodyBytes = (body: unknown) => new TextEncoder().encode(JSON.stringify(body)).length;

/** A message as a client submits it (socket `send` frame and HTTP POST .../messages). */
export const MessageInputShape = {
  clientId: ClientIdSchema,
  kind: MessageKindSchema.default("text"),
  body: z.unknown(),
};

/** Checks a body against its kind: text is `{ text }`; custom is any JSON object; both size-capped. */
export function checkBody(v: { kind: MessageKind; body: unknown }, ctx: z.RefinementCtx): void {
  const parsed = (v.kind === "text" ? TextBodySchema : CustomBodySchema).safeParse(v.body);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.addIssue({ code: "custom", path: ["body", ...issue.path.map(String)], message: issue.message });
  } else if (bodyBytes(v.body) > MAX_BODY_BYTES) {
    ctx.addIssue({ code: "custom", path: ["body"], message: `must be at most ${MAX_BODY_BYTES} bytes of JSON` });
  }
}

export const MessageInputSchema = z.object(MessageInputShape).strict().superRefine(checkBody);
export type MessageInput = z.infer<typeof MessageInputSchema>;

/** Every frame a client may send. Unknown types and extra fields are rejected. */
export const ClientFrameSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("send"), conversationId: ConversationIdSchema, ...MessageInputShape }).strict().superRefine(checkBody),
  z.object({ type: z.literal("sync"), cursors: z.record(ConversationIdSchema, z.number().int().min(0)) }).strict()
    .refine((v) => Object.keys(v.cursors).length <= 100, "at most 100 conversations per sync"),
  z.object({ type: z.literal("read"), conversationId: ConversationIdSchema, seq: z.number().int().min(0) }).strict(),
  z.object({ type: z.literal("typing"), conversationId: ConversationIdSchema }).strict(),
  z.object({ type: z.literal("ping") }).strict(),
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
}

/** Frames the server sends. */
export type ServerFrame =
  | ({ type: "message" } & MessageView)
  | { type: "ack"; clientId: string; conversationId: string; seq: number; messageId: string }
  | { type: "error"; code: string; message: string; clientId?: string; conversationId?: string }
  | { type: "sync_truncated"; conversationId: string; fromSeq: number; latestSeq: number }
  | { type: "synced"; cursors: Record<string, number> }
  | { type: "read"; conversationId: string; userId: string; seq: number }
  | { type: "typing"; conversationId: string; userId: string }
  | { type: "pong" }
  | { type: "closed"; reason: string };
