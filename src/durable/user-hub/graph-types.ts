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
  | { op: "unblocked" };

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

export type GraphError =
  | "already_friends"
  | "you_blocked"
  | "not_found"
  | "friend_limit"
  | "pending_limit"
  | "request_not_found"
  | "request_not_pending"
  | "not_friends"
  | "group_not_found";

export type GraphResult<T> = { ok: true; value: T } | { ok: false; error: GraphError };

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
