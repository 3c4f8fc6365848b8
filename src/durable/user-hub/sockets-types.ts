import type { DoMigration } from "../storage-migrations";

/**
 * Per-socket state, kept in the socket's attachment so it survives hibernation. Namespaced under
 * `hub` so later app state in the same attachment cannot clash with it.
 */
export interface SocketAttachment {
  hub: {
    tenantId: string;
    sessionId: string;
    deviceId: string | null;
    /** One id per connection: a device may hold several sockets (tabs) of one session. */
    connId: string;
    framesPerSecond: number;
    /** Frames a socket may send at once (absent on sockets opened before bursts existed). */
    frameBurst?: number;
    maxFrameBytes: number;
    /** The client said this socket is away (`{ type: "presence", status: "away" }`). */
    away?: boolean;
  };
}

/** Headers the Worker sets on the upgrade it forwards to the hub (never the client's own). */
export const HUB_HEADERS = {
  tenant: "x-canopy-hub-tenant",
  user: "x-canopy-hub-user",
  session: "x-canopy-hub-session",
  ticketId: "x-canopy-hub-ticket-id",
  ticketExp: "x-canopy-hub-ticket-exp",
  framesPerSecond: "x-canopy-hub-fps",
  frameBurst: "x-canopy-hub-burst",
  maxFrameBytes: "x-canopy-hub-max-frame",
  /** The user's privacy.presence setting (everyone | friends | nobody), read by the Worker. */
  presencePrivacy: "x-canopy-hub-presence-privacy",
} as const;

/** Storage of the socket part of a UserHub: tickets already used (one-time WebSocket tickets). */
export const socketMigrations: readonly DoMigration[] = [
  (sql) => {
    sql.exec(`CREATE TABLE used_tickets (jti TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)`);
  },
];

/** The tag that addresses one connection among the hub's sockets. */
export const connTag = (connId: string) => `conn:${connId}`;
