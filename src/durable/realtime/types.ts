import type { FrameBucket } from "./frame-bucket";

/**
 * Per-socket state, kept in the socket's attachment so it survives hibernation. Namespaced under
 * `rt` so later app state in the same attachment cannot clash with it.
 */
export interface SocketAttachment {
  rt: {
    tenantId: string;
    userId: string;
    sessionId: string;
    deviceId: string | null;
    /** One id per connection: a device may hold several sockets (tabs) of one session. */
    connId: string;
    framesPerSecond: number;
    /** Frames a socket may send at once. */
    frameBurst: number;
    maxFrameBytes: number;
  };
}

/**
 * Headers the Worker sets on the upgrade it forwards to a gateway (never the client's own):
 * the identity the user's hub admitted, and the tenant's caps for this connection.
 */
export const GATEWAY_HEADERS = {
  tenant: "x-canopy-gw-tenant",
  user: "x-canopy-gw-user",
  session: "x-canopy-gw-session",
  device: "x-canopy-gw-device",
  /** This gateway's number among the tenant's (`realtime.gateways`): the hub reaches it by it. */
  index: "x-canopy-gw-index",
  framesPerSecond: "x-canopy-gw-fps",
  frameBurst: "x-canopy-gw-burst",
  maxFrameBytes: "x-canopy-gw-max-frame",
} as const;

/** Tags of a socket: its user (deliveries), its session (revocation) and its connection. */
export const userTag = (userId: string) => `u:${userId}`;
export const sessionTag = (userId: string, sessionId: string) => `s:${userId}:${sessionId}`;
export const connTag = (connId: string) => `c:${connId}`;

/** What a gateway tells the hub when one of the user's sockets opens. */
export interface SocketOpened {
  connId: string;
  sessionId: string;
  tenantId: string;
  /** The gateway holding it (its number among the tenant's). */
  gateway: number;
}

/** A live frame held back, with the conversation and seq that order it. */
export interface Held {
  frame: string;
  conversationId?: string | undefined;
  seq?: number | undefined;
}

/**
 * In-memory state of one socket. It may be lost when the gateway hibernates; nothing in it must
 * survive (budgets refill, a woken gateway holds nothing back and checks the session again).
 */
export interface SocketState {
  /** The socket's frame budget (frame-bucket.ts); full again after the object wakes. */
  rate: FrameBucket | null;
  /** When the hub last confirmed the session (0: not since the object woke). */
  checkedAt: number;
  /** The session check in flight: every frame arriving meanwhile waits for it, in order. */
  checking: Promise<boolean> | null;
  /**
   * Until the hub has logged the socket (`socketOpened`): what the socket tells the hub later
   * (away, close) goes after it, and no relation is kept for it (a graph change would miss it).
   */
  announced: Promise<void> | null;
  /** From the upgrade until the first client frame (at most OPENING_HOLD_MS): every live conversation frame waits. */
  opening: { queue: Held[]; timer: ReturnType<typeof setTimeout> } | null;
  /** While a sync is answered: live frames of its conversations wait, and go out after it minus what it sent. */
  sync: { conversations: Set<string>; queue: Held[] } | null;
  /** Seqs recently sent, per conversation: each goes out once per socket. */
  recent: Map<string, number[]>;
}
