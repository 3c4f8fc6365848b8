import type { Result } from "../protocol/result";
/** Shapes of the friend graph's RPCs between routes and hubs, and between two users' hubs. */
export type PeerMessage =
  | {
      op: "request";
      requestId: string;
      message: string;
      createdAt: number;
      expiresAt: number;
      autoAccept: boolean;
      maxFriends: number;
      maxPending: number;
    }
  | { op: "accepted"; requestId: string }
  | { op: "rejected"; requestId: string }
  | { op: "cancelled"; requestId: string }
  | { op: "removed" }
  | { op: "blocked" }
  | { op: "unblocked" }
  /** The sender's account was erased: forget every edge, block and request with it. */
  | { op: "erased" };

/** What a hub answers to a delivered request (other messages answer "ok"). */
export type PeerResult = "ok" | "pending" | "accepted" | "refused" | "refused_limit";

export interface GraphIdentity {
  tenantId: string;
  userId: string;
}

export interface SendRequestInput extends GraphIdentity {
  to: string;
  requestId: string;
  message: string;
  /** The recipient's privacy: `anyone` makes the request a friendship at once. */
  autoAccept: boolean;
  maxFriends: number;
  maxPending: number;
  ttlMs: number;
  now: number;
}

/** A graph call's result (the one Durable Object result shape; refusals in graph-refusals.ts). */
export type GraphResult<T> = Result<T>;

export interface FriendRequestView {
  id: string;
  direction: "incoming" | "outgoing";
  userId: string;
  message: string;
  status: string;
  createdAt: number;
  expiresAt: number;
}

export interface FriendView {
  userId: string;
  remark: string;
  groupId: string | null;
  since: number;
}

export interface FriendGroupView {
  id: string;
  name: string;
  createdAt: number;
}
