/** Notification types users see and can mute. */
export const NOTIFICATION_TYPES = [
  "friend_request",
  "friend_accepted",
  "message",
  "mention",
  "announcement",
  "quota_warning",
  "webhook_disabled",
  "post_comment",
  "comment_reply",
  "post_like",
  "comment_like",
  "content_mention",
  "payment_succeeded",
  "payment_failed",
  "order_refunded",
  "vip_changed",
  "vip_expiring",
  "ai_quota_warning",
  "ai_quota_granted",
  "moderation_decided",
] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

/** One notification to create for one user, before names are filled in. */
export interface Draft {
  userId: string;
  type: NotificationType;
  groupKey: string | null;
  actorId: string | null;
  /**
   * Title and body; `{actor}` is replaced by the actor's display name, `{count}` by the burst
   * size and `{others}` by the burst size less one.
   */
  title: string;
  /** The title once the row collapsed more than one event. */
  collapsedTitle?: string;
  body: string;
  data: Record<string, unknown>;
  /** Messages only reach users who were offline when they were sent (online devices already got them). */
  onlyIfOffline?: boolean;
}
