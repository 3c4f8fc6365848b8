import { currentTraceparent } from "../../lib/tracing/spans";
import { refuse, type Refusal } from "../protocol/result";
import type { Conversation, ConvResult, MessageChange, SendResult, SinceResult } from "../conversation";
import type { Relation } from "../protocol/relation";
import { type ClientFrame, ClientFrameSchema, type MessageView, type ServerFrame } from "../protocol/frames";
import { parseGuardedJson } from "../../lib/json-guard";
import { PRESENCE_FRAME_TYPES, PresenceFrameSchema, type PresenceFrame } from "../protocol/presence";

/** What a frame handler may do: reach conversations and write to its own socket. */
export interface FrameContext {
  userId: string;
  connId: string;
  /** Which of these conversation ids are the user's (ask before addressing one: addressing creates it). */
  listed(ids: string[]): Promise<Set<string>>;
  conversation(id: string): DurableObjectStub<Conversation>;
  send(frame: ServerFrame): void;
  /** Runs a sync with live traffic of these conversations held back; `run` answers seq sent up to, per conversation. */
  sync(conversations: string[], run: () => Promise<Map<string, number>>): Promise<void>;
  /** Sends a missed message found by a sync (skipped if this socket already got it live). */
  deliverSynced(item: MessageView): void;
  /** Handles a presence frame (`presence`, `presence_sync`): the user's hub keeps presence. */
  presence(frame: PresenceFrame): Promise<void>;
  /** The relation with a direct conversation's peer as its last send answered (until the hub says the graph changed). */
  vouch(conversationId: string): ({ peer: string } & Relation) | undefined;
  /** Keeps the relation a direct conversation's send answered. */
  remember(conversationId: string, relation: { peer: string } & Relation): void;
  /** Whether this socket is the user's only one. */
  alone(): boolean;
  /** Writes a message to the user's other sockets (those that opened while a send from a lone socket was stored). */
  deliverOwn(item: MessageView): void;
}

/** Re-types an RPC answer as the plain result (the stub's mapped type does not narrow on `ok`). */
const plain = <T>(r: ConvResult<T>): ConvResult<T> => r;

/** What an id the user is not listed in gets: the very answer a conversation gives a non-member. */
const unlisted = refuse("conversation_not_found", "No such conversation.");

/** A refusal as the fields of an `error` frame: the same code HTTP answers. */
const refusal = (r: Refusal) => ({ code: r.code, message: r.detail });

function parse(raw: string | ArrayBuffer): { ok: true; value: unknown } | { ok: false; message: string } {
  if (typeof raw !== "string") return { ok: false, message: "Frames are JSON text; binary frames are not accepted." };
  // The same guard as HTTP bodies: depth, NUL and lone surrogates are refused before parsing.
  const parsed = parseGuardedJson(raw);
  return parsed.ok
    ? parsed
    : { ok: false, message: parsed.malformed ? "The frame is not valid JSON." : parsed.message };
}

/** True when an object in `v` has an own `__proto__` key (JSON.parse makes them own keys). */
function hasProtoKey(v: unknown): boolean {
  if (v === null || typeof v !== "object") return false;
  if (!Array.isArray(v) && Object.hasOwn(v, "__proto__")) return true;
  return Object.values(v).some(hasProtoKey);
}

/** The clientId of an invalid frame, echoed in its error when there is one. */
function clientIdOf(v: unknown): string | undefined {
  if (typeof v !== "object" || v === null || !("clientId" in v)) return undefined;
  return typeof v.clientId === "string" && v.clientId.length <= 64 ? v.clientId : undefined;
}

/** A client frame after validation, or the error frame its socket gets instead. */
export type ParsedFrame = { ok: true; frame: ClientFrame | PresenceFrame } | { ok: false; error: ServerFrame };

/** Validates one client frame against the zod schemas. */
export function parseFrame(raw: string | ArrayBuffer): ParsedFrame {
  const json = parse(raw);
  if (!json.ok) return { ok: false, error: { type: "error", code: "invalid_frame", message: json.message } };
  // zod drops an own `__proto__` key silently (a guard against prototype pollution), so a frame
  // holding one would be answered as if it were not there: refused instead, wherever it is.
  if (hasProtoKey(json.value)) return invalid("__proto__ is not allowed as a key.", json.value);
  const type =
    typeof json.value === "object" && json.value !== null && "type" in json.value ? json.value.type : undefined;
  const parsed =
    typeof type === "string" && PRESENCE_FRAME_TYPES.includes(type)
      ? PresenceFrameSchema.safeParse(json.value)
      : ClientFrameSchema.safeParse(json.value);
  if (parsed.success) return { ok: true, frame: parsed.data };
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
  return invalid(`${where}${issue?.message ?? "invalid frame"}`, json.value);
}

/** An `invalid_frame` refusal, echoing the frame's clientId when it has one. */
function invalid(message: string, value: unknown): ParsedFrame {
  const clientId = clientIdOf(value);
  return { ok: false, error: { type: "error", code: "invalid_frame", message, ...(clientId ? { clientId } : {}) } };
}

/** Handles one parsed client frame. A bad frame gets its error frame; the socket stays up. */
export async function handleFrame(ctx: FrameContext, parsed: ParsedFrame): Promise<void> {
  if (!parsed.ok) return ctx.send(parsed.error);
  const frame = parsed.frame;
  // An id the index does not list for the user never reaches an object (that would create it).
  if ("conversationId" in frame && !(await ctx.listed([frame.conversationId])).has(frame.conversationId)) {
    const echo = "clientId" in frame && frame.clientId ? { clientId: frame.clientId } : {};
    return ctx.send({ type: "error", ...refusal(unlisted), ...echo, conversationId: frame.conversationId });
  }
  switch (frame.type) {
    case "presence":
    case "presence_sync":
      return ctx.presence(frame);
    case "ping":
      return ctx.send({ type: "pong" });
    case "send": {
      const { conversationId, clientId, kind, body } = frame;
      const senderAlone = ctx.alone();
      const r = plain<SendResult>(
        await ctx.conversation(conversationId).send(
          ctx.userId,
          { clientId, kind, body },
          // Mentions' blocks are the conversation's to ask of the sender's hub (rare: only members mentioned).
          {
            exceptConn: ctx.connId,
            relation: ctx.vouch(conversationId),
            senderAlone,
            traceparent: currentTraceparent() ?? undefined,
          },
        ),
      );
      if (!r.ok) return ctx.send({ type: "error", ...refusal(r), clientId, conversationId });
      if (r.value.relation) ctx.remember(conversationId, r.value.relation);
      if (senderAlone && !r.value.duplicate) ctx.deliverOwn(r.value.message);
      return ctx.send({
        type: "ack",
        clientId,
        conversationId,
        seq: r.value.message.seq,
        messageId: r.value.message.messageId,
      });
    }
    case "read": {
      const r = await ctx.conversation(frame.conversationId).read(ctx.userId, frame.seq);
      if (!r.ok) ctx.send({ type: "error", ...refusal(r), conversationId: frame.conversationId });
      return;
    }
    case "typing": {
      const r = await ctx.conversation(frame.conversationId).typing(ctx.userId);
      if (!r.ok) ctx.send({ type: "error", ...refusal(r), conversationId: frame.conversationId });
      return;
    }
    case "sync":
      return sync(ctx, frame.cursors);
    case "edit":
    case "recall": {
      // The object loads the tenant's windows and moderation itself (a gateway has no tenant config).
      const { conversationId, messageId, clientId } = frame;
      const stub = ctx.conversation(conversationId);
      const r = plain<MessageChange>(
        frame.type === "edit"
          ? await stub.edit(ctx.userId, messageId, frame.body)
          : await stub.recall(ctx.userId, messageId),
      );
      const echo = clientId ? { clientId } : {};
      if (!r.ok) return ctx.send({ type: "error", ...refusal(r), ...echo, conversationId });
      // Every member's devices, this one included, get the log entry as a `message` frame.
      return ctx.send({
        type: frame.type === "edit" ? "edited" : "recalled",
        conversationId,
        messageId,
        seq: r.value.event.seq,
        ...echo,
      });
    }
  }
}

/** Answers a sync: per conversation, the missed messages in order or a truncation marker, then `synced`. */
async function sync(ctx: FrameContext, cursors: Record<string, number>): Promise<void> {
  const ids = Object.keys(cursors);
  const latest: Record<string, number> = {};
  await ctx.sync(ids, async () => {
    // Asked in parallel, answered in the order the client listed them; ids not listed for the user are not asked.
    const listed = await ctx.listed(ids);
    const results = await Promise.all(
      ids.map(async (id) =>
        listed.has(id) ? plain<SinceResult>(await ctx.conversation(id).since(ctx.userId, cursors[id]!)) : unlisted,
      ),
    );
    const upTo = new Map<string, number>();
    ids.forEach((id, i) => {
      const r = results[i]!;
      if (!r.ok) return ctx.send({ type: "error", ...refusal(r), conversationId: id });
      latest[id] = r.value.latestSeq;
      upTo.set(id, r.value.latestSeq);
      if (r.value.truncated) {
        ctx.send({
          type: "sync_truncated",
          conversationId: id,
          fromSeq: cursors[id]! + 1,
          latestSeq: r.value.latestSeq,
        });
      } else {
        for (const item of r.value.items) ctx.deliverSynced(item);
      }
    });
    return upTo;
  });
  ctx.send({ type: "synced", cursors: latest });
}
