import { z } from "zod";
import { PoisonError, type CloudEvent } from "../events/queues";
import type { TenantConfig } from "../../lib/tenant-config";
import { COMMERCE_EVENTS, commerceDrafts } from "./compose-commerce";
import { contentDrafts } from "./compose-content";
import type { Draft } from "./drafts";

export { NOTIFICATION_TYPES, type Draft, type NotificationType } from "./drafts";

const id = z.string().min(1).max(64);
const FriendRequest = z.object({ userId: id, fromUserId: id, requestId: z.string(), message: z.string().nullish() });
const FriendAccepted = z.object({ userId: id, friendId: id, acceptedBy: id.optional() });
const Message = z.object({
  conversationId: z.string(),
  conversationType: z.enum(["direct", "group"]).optional(),
  conversationName: z.string().nullish(),
  seq: z.number().int(),
  messageId: z.string(),
  senderId: id,
  kind: z.string(),
  body: z.unknown(),
  recipients: z.array(id).max(10_000).default([]),
  /** Whom the conversation let the message's mentions notify (members, not muted, no block with the sender). */
  mentioned: z.array(id).max(50).default([]),
});
const QuotaWarning = z.object({ userId: id, quota: z.string(), used: z.number(), limit: z.number() });

function parse<T>(schema: z.ZodType<T>, event: CloudEvent): T {
  const r = schema.safeParse(event.data);
  if (!r.success) throw new PoisonError(`bad data for ${event.type}: ${r.error.issues[0]?.message ?? "invalid"}`);
  return r.data;
}

const USER_KINDS = new Set(["text", "custom", "file"]);

/** A short preview of a message body for a notification. */
function preview(kind: string, body: unknown): string {
  if (kind === "text" && body && typeof body === "object" && "text" in body)
    return String((body as { text: unknown }).text).slice(0, 140);
  return kind === "file" ? "Sent a file" : "Sent a message";
}

/**
 * What an event means for users' inboxes. Events that concern nobody answer []. Announcements
 * and webhook notices fan out in the consumer (they address many users at once). The tenant's
 * config names its VIP levels and the decimals of its virtual currencies.
 */
export function draftsFor(event: CloudEvent, config: TenantConfig): Draft[] {
  switch (event.type) {
    case "friend.request.received": {
      const d = parse(FriendRequest, event);
      return [
        {
          userId: d.userId,
          type: "friend_request",
          groupKey: "friend_request",
          actorId: d.fromUserId,
          title: "{actor} sent you a friend request",
          collapsedTitle: "{count} new friend requests",
          body: d.message ?? "",
          data: { requestId: d.requestId, fromUserId: d.fromUserId },
        },
      ];
    }
    case "friend.accepted": {
      const d = parse(FriendAccepted, event);
      if (!d.acceptedBy || d.acceptedBy === d.userId) return [];
      return [
        {
          userId: d.userId,
          type: "friend_accepted",
          groupKey: null,
          actorId: d.friendId,
          title: "{actor} accepted your friend request",
          body: "",
          data: { friendId: d.friendId },
        },
      ];
    }
    case "message.created": {
      const d = parse(Message, event);
      if (!USER_KINDS.has(d.kind)) return [];
      const text = preview(d.kind, d.body);
      const ref = { conversationId: d.conversationId, seq: d.seq, messageId: d.messageId };
      // Never the ids the body names: those are the sender's to choose. The conversation decided
      // who may be notified, and a mention only ever reaches someone the message notifies anyway.
      const recipients = new Set(d.recipients);
      const mentioned = new Set(d.mentioned.filter((u) => u !== d.senderId && recipients.has(u)));
      const inGroup = d.conversationType === "group" && d.conversationName;
      const drafts: Draft[] = [...mentioned].map((userId) => ({
        userId,
        type: "mention" as const,
        groupKey: null,
        actorId: d.senderId,
        title: inGroup ? `{actor} mentioned you in ${d.conversationName}` : "{actor} mentioned you",
        body: text,
        data: ref,
      }));
      for (const userId of d.recipients) {
        if (mentioned.has(userId)) continue;
        drafts.push({
          userId,
          type: "message",
          groupKey: `message:${d.conversationId}`,
          actorId: d.senderId,
          onlyIfOffline: true,
          title: inGroup ? `{actor} in ${d.conversationName}` : "{actor}",
          collapsedTitle: inGroup
            ? `{count} new messages in ${d.conversationName}`
            : "{count} new messages from {actor}",
          body: text,
          data: ref,
        });
      }
      return drafts;
    }
    case "quota.warning": {
      const d = parse(QuotaWarning, event);
      return [
        {
          userId: d.userId,
          type: "quota_warning",
          groupKey: `quota:${d.quota}`,
          actorId: null,
          title: `You have used ${d.used} of ${d.limit} (${d.quota})`,
          body: "",
          data: { quota: d.quota, used: d.used, limit: d.limit },
        },
      ];
    }
    default:
      return COMMERCE_EVENTS.has(event.type) ? commerceDrafts(event, config) : contentDrafts(event);
  }
}
