import type { Result } from "../protocol/result";
import type { RateLimitResult } from "../sliding-window";

/** Shapes crossing the UserHub RPC boundary (structured-clonable plain objects). */
export interface DeviceInfo {
  id: string;
  name: string;
  platform: string;
}

export interface SessionPolicy {
  /** Most live sessions per user (across devices). */
  maxSessions: number;
  /** Most live sessions per platform, e.g. { ios: 1, android: 1, web: 3 }; absent = unlimited. */
  perPlatform: Record<string, number>;
  /** At the limit: end the least recently used session, or refuse the new sign-in. */
  overflow: "evict_oldest" | "refuse";
  idleMs: number;
  absoluteMs: number;
}

export interface NewSession {
  tenantId: string;
  userId: string;
  sessionId: string;
  device: DeviceInfo;
  ip: string;
  userAgent: string;
  policy: SessionPolicy;
  now: number;
  /**
   * When the credential that opens this session was checked (the password read, the emailed
   * code spent). A session whose credential was checked before the account's credentials last
   * changed (a password reset or change, an undone change of email) is refused, so a sign-in
   * racing a reset cannot keep a session opened with the old password.
   */
  checkedAt?: number | undefined;
}

export interface SessionView {
  id: string;
  deviceId: string;
  deviceName: string;
  platform: string;
  ip: string;
  userAgent: string;
  createdAt: number;
  lastUsedAt: number;
  expiresAt: number;
}

/** Session calls answer in the one Durable Object result shape, refusing with registry codes. */
/** `newDevice`: the device never had a session of this user before, and another device had. */
export type CreateResult = Result<{ refreshToken: string; evicted: string[]; newDevice: boolean }>;
export type RefreshResult = Result<{ sessionId: string; refreshToken: string }>;
export type CheckResult = Result<{ rate?: RateLimitResult }>;

export type RevokeReason =
  | "logout"
  | "revoked"
  | "revoked_others"
  | "password_changed"
  | "password_reset"
  | "email_change_undone"
  | "reuse_detected"
  | "evicted"
  | "replaced"
  | "force_logout"
  | "user_suspended"
  | "user_deleted"
  | "deletion_requested";

/** A WebSocket upgrade the Worker asks the hub to admit (UserHub.admit). */
export interface Admission {
  tenantId: string;
  sessionId: string;
  /** A ticket's id and when its record may be dropped (one-time use); absent for a bearer upgrade. */
  ticket?: { id: string; expiresAt: number } | undefined;
  /** The user's privacy.presence setting (everyone | friends | nobody), read by the Worker. */
  presencePrivacy: string | null;
}
