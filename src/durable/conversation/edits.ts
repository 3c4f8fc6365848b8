import { refuse } from "../protocol/result";
import { z } from "zod";
import { wordListModerator } from "../../lib/moderation";
import { editedFileBody, type FileBody, type FileInput } from "./attachments";
import { checkBody, MessageKindSchema, type MessageKind, type MessageView } from "../protocol/frames";
import type { GroupContext } from "./groups";
import { notFound } from "./groups";
import { findMessage, markEdited, markRecalled } from "./store";
import type { ConvResult, MessagePolicy } from "./types";

const ok = <T>(value: T): ConvResult<T> => ({ ok: true, value });
const noMessage = refuse("message_not_found", "No such message in this conversation.");
const notSender = refuse("not_message_sender", "Only the sender may change this message.");
const wasRecalled = refuse("message_recalled", "The message was recalled.");

const BodyOfKind = z.object({ kind: MessageKindSchema, body: z.unknown() }).superRefine(checkBody);

/**
 * The moderation hook: a text body, and a file message's caption, pass the tenant's moderator
 * before they are stored (custom JSON bodies are not inspected). Block (and review) refuses with
 * `message_blocked`; mask answers the body with the matches starred.
 */
export function moderate(policy: MessagePolicy, kind: MessageKind, body: unknown): ConvResult<unknown> {
  const field = kind === "text" ? "text" : kind === "file" ? "caption" : undefined;
  const value = field ? (body as Record<string, unknown>)[field] : undefined;
  if (!field || typeof value !== "string") return ok(body);
  const r = wordListModerator(policy.moderation).check(value);
  // `review` holds posts for a moderator; a chat message cannot wait, so it is refused like `block`.
  if (r.action === "block" || r.action === "review")
    return refuse("message_blocked", "The message was refused by moderation.");
  return ok(r.action === "mask" ? { ...(body as object), [field]: r.text } : body);
}

export interface MessageChange {
  /** The original message as history now shows it. */
  message: MessageView;
  /** The `edit` or `recall` event appended to the log. */
  event: MessageView;
}

const within = (m: MessageView, seconds: number, now: number) => now - Date.parse(m.sentAt) < seconds * 1000;

/** The original message an edit or recall targets: text, custom or file, not an event. */
function target(ctx: GroupContext, messageId: string): MessageView | undefined {
  const m = findMessage(ctx.sql, ctx.meta.get("id") ?? "", messageId);
  return m && (m.kind === "text" || m.kind === "custom" || m.kind === "file") ? m : undefined;
}

/**
 * Replaces a message's body: its sender only, within `editWindowSeconds`, moderated like a send.
 * A file message takes a body of its kind with the same fileId: only its caption changes.
 */
export function edit(
  ctx: GroupContext,
  actor: string,
  messageId: string,
  body: unknown,
  policy: MessagePolicy,
  now: number,
): ConvResult<MessageChange> {
  if (!ctx.members.has(actor)) return notFound;
  const m = target(ctx, messageId);
  if (!m) return noMessage;
  if (m.senderId !== actor) return notSender;
  if (m.recalled) return wasRecalled;
  if (!within(m, policy.editWindowSeconds, now)) {
    return refuse("edit_window_expired", `Messages can be edited for ${policy.editWindowSeconds} s after sending.`);
  }
  const parsed = BodyOfKind.safeParse({ kind: m.kind, body });
  if (!parsed.success)
    return refuse("validation_failed", parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  const next = m.kind === "file" ? editedFileBody(m.body as FileBody, parsed.data.body as FileInput) : ok(body);
  if (!next.ok) return next;
  const moderated = moderate(policy, m.kind as MessageKind, next.value);
  if (!moderated.ok) return moderated;
  markEdited(ctx.sql, messageId, moderated.value, now);
  const event = ctx.emit(actor, "edit", { messageId, body: moderated.value }, now);
  return ok({ message: findMessage(ctx.sql, m.conversationId, messageId)!, event });
}

/**
 * Recalls a message: its sender within `recallWindowSeconds`, or a group's owner/admins at any
 * time. The body is dropped for good; history shows `recalled: true` with a null body.
 */
export function recall(
  ctx: GroupContext,
  actor: string,
  messageId: string,
  policy: MessagePolicy,
  now: number,
): ConvResult<MessageChange> {
  const me = ctx.members.get(actor);
  if (!me) return notFound;
  const m = target(ctx, messageId);
  if (!m) return noMessage;
  const moderator = ctx.meta.get("type") === "group" && (me.role === "owner" || me.role === "admin");
  if (m.senderId !== actor && !moderator) return notSender;
  if (m.recalled) return wasRecalled;
  if (!moderator && !within(m, policy.recallWindowSeconds, now)) {
    return refuse(
      "recall_window_expired",
      `Messages can be recalled for ${policy.recallWindowSeconds} s after sending.`,
    );
  }
  markRecalled(ctx.sql, messageId, now);
  const event = ctx.emit(actor, "recall", { messageId }, now);
  return ok({ message: findMessage(ctx.sql, m.conversationId, messageId)!, event });
}

/**
 * Recalls a message for moderation (the classifier after delivery, or a moderator's block): no
 * member, window or role check. The `recall` event names the sender as its actor and says
 * `by: "moderation"`. Recalling one twice is `message_recalled`.
 */
export function moderationRecall(ctx: GroupContext, messageId: string, now: number): ConvResult<MessageChange> {
  const m = target(ctx, messageId);
  if (!m) return noMessage;
  if (m.recalled) return wasRecalled;
  markRecalled(ctx.sql, messageId, now);
  const event = ctx.emit(m.senderId, "recall", { messageId, by: "moderation" }, now);
  return ok({ message: findMessage(ctx.sql, m.conversationId, messageId)!, event });
}
