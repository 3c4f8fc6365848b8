import type { ModerationMode } from "../../lib/moderation";
import type { Result } from "../protocol/result";
import type { Relation } from "../protocol/relation";
import type { MessageView } from "../protocol/frames";

/** Shapes crossing the Conversation RPC boundary (structured-clonable plain objects). */
export type ConversationType = "direct" | "group";
export type MemberRole = "owner" | "admin" | "member";

export interface MemberView {
  userId: string;
  role: MemberRole;
  joinedAt: number;
  readSeq: number;
  /** Muted members still receive frames; push notifications skip them. Private to the member. */
  muted: boolean;
}

export interface ConversationInit {
  tenantId: string;
  id: string;
  type: ConversationType;
  name: string | null;
  ownerId: string;
  memberIds: string[];
  now: number;
}

export interface ConversationView {
  id: string;
  type: ConversationType;
  name: string | null;
  ownerId: string;
  createdAt: number;
  members: MemberView[];
  lastSeq: number;
}

/** A member's view of a conversation for the list: last message and unread count. */
export interface ConversationSummary extends ConversationView {
  lastMessage: MessageView | null;
  readSeq: number;
  unreadCount: number;
  /** Whether the caller muted this conversation. */
  muted: boolean;
}

/**
 * A conversation call's result (the one Durable Object result shape). A non-member is refused
 * with `conversation_not_found`, so the conversation stays hidden.
 */
export type ConvResult<T> = Result<T>;

/** Tenant settings a conversation applies (from the tenant config; see policy.ts). */
export interface MessagePolicy {
  editWindowSeconds: number;
  recallWindowSeconds: number;
  moderation: { mode: ModerationMode; words: string[] };
  maxGroupMembers: number;
  /** The tenant's gateway count (`realtime.gateways`): members' sockets are grouped by it. */
  gateways: number;
  /** Direct conversations between users who are not friends (messages.directWithStrangers): creating them and sending in them. */
  directWithStrangers: boolean;
}

/** Who a membership change added and removed, for the per-user index in the tenant DB. */
export interface MembershipChange {
  added: string[];
  removed: string[];
}

export interface SendResult {
  message: MessageView;
  /** True when this was a retry of an already stored clientId. */
  duplicate: boolean;
  /** In a direct conversation, the other member. */
  peer?: string;
  /** In a direct conversation, the sender's relation with the peer as applied (a gateway keeps it to vouch next time). */
  relation?: { peer: string } & Relation;
}

/** How a send arrives: from a socket (through the sender's gateway) or over HTTP (through the Worker). */
export interface SendOptions {
  now?: number;
  /** The sending socket's connection id: the sender's other devices get the message, that one its `ack`. */
  exceptConn?: string | undefined;
  /** The tenant's policy when the caller has it (HTTP); otherwise the object loads it. */
  policy?: MessagePolicy | undefined;
  traceparent?: string | undefined;
  /**
   * The sender's relation with the direct conversation's peer (friendship, blocks either way), as
   * a previous send answered it and the sender's gateway kept it until the hub said the user's
   * graph changed; saves asking the hub. Used only when `peer` is the conversation's other member.
   */
  relation?: ({ peer: string } & Relation) | undefined;
  /**
   * The sender's hub vouching for which of the body's mentions it blocks or is blocked by (it
   * checked every one), which saves asking it back. Those get no mention notification.
   */
  blockedMentions?: string[] | undefined;
  /**
   * The sending socket is its user's only one: the conversation skips the sender's hub, which
   * writes the message itself to any socket of the user that opened meanwhile (saves a call).
   */
  senderAlone?: boolean | undefined;
}

export interface SinceResult {
  items: MessageView[];
  latestSeq: number;
  /** Set when more than SYNC_MAX messages were missed: the client should page history instead. */
  truncated: boolean;
}
