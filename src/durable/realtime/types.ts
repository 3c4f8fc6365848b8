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
