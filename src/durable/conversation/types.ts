import type { MessageView } from "./frames";

/** Shapes crossing the Conversation RPC boundary (structured-clonable plain objects). */
export type ConversationType = "direct" | "group";
export type MemberRole = "owner" | "member";

export interface MemberView {
  userId: string;
  role: MemberRole;
  joinedAt: number;
  readSeq: number;
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
}

export type ConversationError = "not_found" | "blocked" | "invalid";
export type ConvResult<T> = { ok: true; value: T } | { ok: false; error: ConversationError; detail: string };

export interface SendResult {
  message: MessageView;
  /** True when this was a retry of an already stored clientId. */
  duplicate: boolean;
}

export interface SinceResult {
  items: MessageView[];
  latestSeq: number;
  /** Set when more than SYNC_MAX messages were missed: the client should page history instead. */
  truncated: boolean;
}

/** Options of UserHub.deliver: who not to send to, and the message's position for de-duplication. */
export interface DeliverOptions {
  exceptConn?: string | undefined;
  conversationId?: string;
  seq?: number;
}
