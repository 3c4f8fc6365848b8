import { base64url } from "../../lib/ids";
import type { NewEvent } from "../outbox";
import { refuse } from "../protocol/result";
import type { DoMigration } from "../storage-migrations";
import type { NewSession, RevokeReason, SessionView } from "./types";

/** Concurrent refreshes of one token within this window all get the same successor. */
export const REFRESH_GRACE_MS = 30_000;
/** lastUsedAt is written to storage at most this often per session (it is always exact in memory). */
export const TOUCH_PERSIST_MS = 60_000;

/** Every refresh that cannot go on answers alike: it tells nothing about why. */
export const badRefresh = refuse("invalid_refresh_token", "The refresh token is invalid or expired.");

/** Revocations that mean the credentials changed: sign-ins checked before them are refused. */
export const CREDENTIAL_CHANGES: ReadonlySet<RevokeReason> = new Set([
  "password_changed",
  "password_reset",
  "email_change_undone",
  // A sign-in checked before the deletion request must not open a session after it.
  "deletion_requested",
]);

/** Storage schema of the session part of a UserHub (v1). */
export const sessionMigrations: readonly DoMigration[] = [
  (sql) => {
    sql.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
    sql.exec(`CREATE TABLE sessions (
      id TEXT PRIMARY KEY, device_id TEXT NOT NULL, device_name TEXT NOT NULL, platform TEXT NOT NULL,
      ip TEXT NOT NULL, user_agent TEXT NOT NULL, created_at INTEGER NOT NULL, last_used_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL, idle_ms INTEGER NOT NULL, revoked_at INTEGER, revoked_reason TEXT)`);
    // One row per refresh token ever issued; `successor` is kept for the grace window only.
    sql.exec(`CREATE TABLE refresh_tokens (
      hash TEXT PRIMARY KEY, session_id TEXT NOT NULL, created_at INTEGER NOT NULL,
      used_at INTEGER, successor TEXT)`);
    sql.exec(`CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id)`);
    // Events for the event pipeline (session.revoked closes live sockets of that session).
    sql.exec(`CREATE TABLE events (id TEXT PRIMARY KEY, type TEXT NOT NULL, data TEXT NOT NULL,
      created_at INTEGER NOT NULL, published_at INTEGER)`);
  },
];

/** The events table grows to the shared outbox shape (OUTBOX_TABLE_SQL); appended after the other parts. */
export const hubOutboxMigrations: readonly DoMigration[] = [
  (sql) => {
    sql.exec("ALTER TABLE events ADD COLUMN subject TEXT");
    sql.exec("ALTER TABLE events ADD COLUMN traceparent TEXT");
  },
];

/** A live session as held in memory. */
export interface SessionState extends SessionView {
  idleMs: number;
  revokedAt: number | null;
  /** When lastUsedAt was last written to storage (touches are batched). */
  persistedUse: number;
}

interface SessionRow extends Record<string, SqlStorageValue> {
  id: string;
  device_id: string;
  device_name: string;
  platform: string;
  ip: string;
  user_agent: string;
  created_at: number;
  last_used_at: number;
  expires_at: number;
  idle_ms: number;
  revoked_at: number | null;
}

export function loadLiveSessions(sql: SqlStorage, now: number): Map<string, SessionState> {
  const rows = sql
    .exec<SessionRow>("SELECT * FROM sessions WHERE revoked_at IS NULL AND expires_at > ?", now)
    .toArray();
  return new Map(
    rows.map((r) => [
      r.id,
      {
        id: r.id,
        deviceId: r.device_id,
        deviceName: r.device_name,
        platform: r.platform,
        ip: r.ip,
        userAgent: r.user_agent,
        createdAt: r.created_at,
        lastUsedAt: r.last_used_at,
        expiresAt: r.expires_at,
        idleMs: r.idle_ms,
        revokedAt: r.revoked_at,
        persistedUse: r.last_used_at,
      },
    ]),
  );
}

export function insertSession(sql: SqlStorage, s: SessionState): void {
  sql.exec(
    `INSERT INTO sessions (id, device_id, device_name, platform, ip, user_agent, created_at, last_used_at, expires_at, idle_ms)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    s.id,
    s.deviceId,
    s.deviceName,
    s.platform,
    s.ip,
    s.userAgent,
    s.createdAt,
    s.lastUsedAt,
    s.expiresAt,
    s.idleMs,
  );
}

/** Marks a session revoked and records a session.revoked event in the same storage write. */
export function markRevoked(
  sql: SqlStorage,
  record: RecordEvent,
  id: string,
  reason: RevokeReason,
  now: number,
  userId: string,
): void {
  sql.exec(
    "UPDATE sessions SET revoked_at = ?, revoked_reason = ? WHERE id = ? AND revoked_at IS NULL",
    now,
    reason,
    id,
  );
  record({ type: "session.revoked", subject: userId, data: { userId, sessionId: id, reason } }, now);
}

/** Writes one of the facts a hub keeps in its `meta` table. */
export function setHubMeta(sql: SqlStorage, key: string, value: string): void {
  sql.exec(
    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    key,
    value,
  );
}

/**
 * The hub's user (set once) and tenant after a call that names them: written to `meta` only
 * when they are new, so the calls that name them (every sign-in) write nothing.
 */
export function rememberIdentity(
  sql: SqlStorage,
  known: { userId: string; tenantId: string },
  me: { userId: string; tenantId: string },
): { userId: string; tenantId: string } {
  if (!known.userId) setHubMeta(sql, "userId", me.userId);
  if (known.tenantId !== me.tenantId) setHubMeta(sql, "tenantId", me.tenantId);
  return { userId: known.userId || me.userId, tenantId: me.tenantId };
}

/** The account's facts a hub keeps in its `meta` table. */
export function hubFacts(sql: SqlStorage) {
  const meta = new Map(
    sql
      .exec<{ key: string; value: string }>("SELECT key, value FROM meta")
      .toArray()
      .map((r) => [r.key, r.value]),
  );
  return {
    status: (meta.get("status") as "active" | "suspended" | "deleted" | undefined) ?? "active",
    credentialsChangedAt: Number(meta.get("credentialsChangedAt") ?? 0),
    userId: meta.get("userId") ?? "",
    tenantId: meta.get("tenantId") ?? "",
    erasedAt: Number(meta.get("erasedAt") ?? 0),
  };
}

/** The tenant and CloudEvents source of a hub's events; null until the hub knows its tenant. */
export function hubEventSource(tenantId: string, userId: string): { tenantId: string; source: string } | null {
  return tenantId && userId ? { tenantId, source: `/tenants/${tenantId}/users/${userId}` } : null;
}

/** How hub modules write to the object's outbox (DurableOutbox.record). */
export type RecordEvent = (e: NewEvent, now: number) => void;

/**
 * What opening session `n` changes among the `live` ones: the device's own session is replaced,
 * the policy's caps evict the least recently used of the others (or refuse, by the policy).
 */
export function planSession(
  live: SessionState[],
  n: NewSession,
): { state: SessionState; ends: [string, RevokeReason][]; evicted: string[] } | "refuse" {
  const evicted = toEvict(
    live.filter((s) => s.deviceId !== n.device.id),
    n,
  );
  if (evicted === "refuse") return "refuse";
  const ends: [string, RevokeReason][] = [
    ...live.filter((s) => s.deviceId === n.device.id).map((s): [string, RevokeReason] => [s.id, "replaced"]),
    ...evicted.map((id): [string, RevokeReason] => [id, "evicted"]),
  ];
  const state: SessionState = {
    id: n.sessionId,
    deviceId: n.device.id,
    deviceName: n.device.name,
    platform: n.device.platform,
    ip: n.ip,
    userAgent: n.userAgent,
    createdAt: n.now,
    lastUsedAt: n.now,
    expiresAt: n.now + n.policy.absoluteMs,
    idleMs: n.policy.idleMs,
    revokedAt: null,
    persistedUse: n.now,
  };
  return { state, ends, evicted };
}

/**
 * The sessions a new sign-in pushes out, least recently used first: the per-platform cap, then
 * the total cap. "refuse" when the policy refuses instead of evicting.
 */
export function toEvict(live: SessionState[], n: NewSession): string[] | "refuse" {
  const out = new Set<string>();
  const caps: [number | undefined, (s: SessionState) => boolean][] = [
    [n.policy.perPlatform[n.device.platform], (s) => s.platform === n.device.platform],
    [n.policy.maxSessions, () => true],
  ];
  for (const [cap, matches] of caps) {
    if (cap === undefined) continue;
    const group = live.filter((s) => !out.has(s.id) && matches(s)).sort((a, b) => a.lastUsedAt - b.lastUsedAt);
    if (group.length < cap) continue;
    if (n.policy.overflow === "refuse") return "refuse";
    for (const s of group.slice(0, group.length - cap + 1)) out.add(s.id);
  }
  return [...out];
}

export function isUsable(s: SessionState, now: number): "ok" | "revoked" | "expired" {
  if (s.revokedAt !== null) return "revoked";
  if (now >= s.expiresAt || now - s.lastUsedAt >= s.idleMs) return "expired";
  return "ok";
}

async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Refresh tokens: `rt1.<userId>.<sessionId>.<256-bit secret>`; only the secret's hash is stored. */
export function newRefreshToken(userId: string, sessionId: string): string {
  return `rt1.${userId}.${sessionId}.${base64url(crypto.getRandomValues(new Uint8Array(32)))}`;
}

export function parseRefreshToken(token: string): { userId: string; sessionId: string } | null {
  const m = /^rt1\.([0-9a-z]{26})\.([0-9a-z]{26})\.[A-Za-z0-9_-]{43}$/.exec(token);
  return m ? { userId: m[1]!, sessionId: m[2]! } : null;
}

export const hashRefreshToken = sha256Hex;

export function storeRefreshToken(sql: SqlStorage, hash: string, sessionId: string, now: number): void {
  sql.exec("INSERT INTO refresh_tokens (hash, session_id, created_at) VALUES (?, ?, ?)", hash, sessionId, now);
}

interface RefreshRow extends Record<string, SqlStorageValue> {
  session_id: string;
  used_at: number | null;
  successor: string | null;
}

export function findRefreshToken(sql: SqlStorage, hash: string): RefreshRow | undefined {
  return sql
    .exec<RefreshRow>("SELECT session_id, used_at, successor FROM refresh_tokens WHERE hash = ?", hash)
    .toArray()[0];
}

/** Whether a device never had a session of this user while another device had (a security event). */
export function isNewDevice(sql: SqlStorage, deviceId: string): boolean {
  // Two existence probes (each stops at its first row) rather than counting every session.
  const seen = sql
    .exec<{ any: number; same: number }>(
      "SELECT EXISTS (SELECT 1 FROM sessions) AS any, EXISTS (SELECT 1 FROM sessions WHERE device_id = ?) AS same",
      deviceId,
    )
    .one();
  return seen.any === 1 && seen.same === 0;
}
