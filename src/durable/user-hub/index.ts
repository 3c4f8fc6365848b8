import { DurableObject } from "cloudflare:workers";
import { slidingWindow, type RateLimitResult, type WindowState } from "../sliding-window";
import { migrateStorage } from "../storage-migrations";
import { FriendGraph } from "./graph";
import {
  editGroup,
  listBlocks,
  pendingPeers,
  listFriends,
  listGroups,
  listRequests,
  updateFriend,
  type GroupEdit,
} from "./graph-lists";
import { eraseGraph } from "./erasure";
import type {
  FriendGroupView,
  FriendRequestView,
  FriendView,
  GraphIdentity,
  GraphResult,
  PeerMessage,
  PeerResult,
  SendRequestInput,
} from "./graph-types";
import {
  badRefresh,
  CREDENTIAL_CHANGES,
  REFRESH_GRACE_MS,
  TOUCH_PERSIST_MS,
  findRefreshToken,
  hashRefreshToken,
  insertSession,
  isNewDevice,
  isUsable,
  loadLiveSessions,
  markRevoked,
  newRefreshToken,
  hubEventSource,
  rememberIdentity,
  hubFacts,
  setHubMeta,
  parseRefreshToken,
  storeRefreshToken,
  planSession,
  type SessionState,
} from "./sessions";
import { alarmBy, DurableOutbox } from "../outbox";
import { HubPresence } from "./presence";
import type { FriendPresence, PresencePrivacy, PresenceView } from "../protocol/presence";
import { ConnectionLog } from "./connections";
import { HUB_MIGRATIONS } from "./migrations";
import { HubSockets } from "./sockets";
import type { SocketOpened } from "../realtime/types";
import type {
  Admission,
  CheckResult,
  CreateResult,
  NewSession,
  RefreshResult,
  RevokeReason,
  SessionView,
} from "./types";
import { ok, refuse, type Result } from "../protocol/result";
import { hubStub } from "../protocol/stubs";
import { restorePage, type SnapshotCursor, type SnapshotPage, snapshotPage } from "../snapshot";

export type * from "./types";
export type * from "./graph-types";

export { REFRESH_GRACE_MS } from "./sessions";

/** What a backup keeps of a hub: the account's facts and its graph (sessions sign in again). */
const HUB_SNAPSHOT_TABLES = ["meta", "friend_requests", "friends", "friend_groups", "blocks", "blocked_by"] as const;

/**
 * One object per user (named `<tenantId>:<userId>`): the user's device sessions and refresh
 * tokens, consulted on every authenticated request. Live sessions are held in memory, so the
 * per-request check is a map lookup; every change is written to SQLite storage first.
 * The user's sockets live in the tenant's gateways (src/durable/realtime); the hub admits them,
 * keeps their log and derives presence from it.
 */
export class UserHub extends DurableObject<Env> {
  private sessions = new Map<string, SessionState>();
  private status: "active" | "suspended" | "deleted" = "active";
  /** When the account's credentials last changed (revokeAll for a password or an undone email change). */
  private credentialsChangedAt = 0;
  private userId = "";
  private tenantId = ""; // meta `tenantId`, kept here so a call names it without a write
  /** When the account was erased (0: never): the graph then refuses every peer's change. */
  private erasedAt = 0;
  private apiWindow: WindowState | undefined;
  private readonly graph: FriendGraph;
  private readonly sockets: HubSockets;
  private readonly connections: ConnectionLog;
  private readonly presence: HubPresence;
  /** Domain events (session.*, friend.*, user.blocked, message.*) on their way to the queues. */
  readonly outbox: DurableOutbox;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.outbox = new DurableOutbox(ctx, env, () => hubEventSource(this.tenantId, this.userId), alarmBy(ctx.storage));
    this.graph = new FriendGraph(
      ctx.storage,
      (tenantId, to, from, msg) => hubStub(env, tenantId, to).peerMessage(tenantId, to, from, msg),
      alarmBy(ctx.storage),
      (e, now) => this.outbox.record(e, now),
    );
    const connections = (this.connections = new ConnectionLog(
      ctx.storage.sql,
      (e, now) => this.outbox.record(e, now),
      () => this.userId,
    ));
    this.presence = new HubPresence(
      ctx,
      env,
      () => this.userId,
      (peer) => this.relation(peer),
      (frame) => this.sockets.deliver(frame),
      alarmBy(ctx.storage),
      () => connections.status(),
    );
    this.sockets = new HubSockets(
      ctx,
      env,
      () => ({ tenantId: this.tenantId, userId: this.userId }),
      (sid, now) => (this.check(sid, now).ok ? { deviceId: this.sessions.get(sid)!.deviceId } : null),
      connections,
      this.presence,
    );
    ctx.blockConcurrencyWhile(async () => {
      migrateStorage(ctx.storage, HUB_MIGRATIONS);
      this.load();
      // Sockets whose close a restart lost: asked of their gateways in the background.
      if (connections.count() > 0) ctx.waitUntil(this.sockets.reconcile().catch(() => undefined));
    });
  }

  /** The account's facts and live sessions from storage into memory. */
  private load(): void {
    ({
      status: this.status,
      credentialsChangedAt: this.credentialsChangedAt,
      userId: this.userId,
      tenantId: this.tenantId,
      erasedAt: this.erasedAt,
    } = hubFacts(this.ctx.storage.sql));
    this.sessions = loadLiveSessions(this.ctx.storage.sql, Date.now());
  }

  // ---- backups (src/durable/snapshot.ts): the graph and the account's facts, never sessions ----
  snapshot(cursor: SnapshotCursor | null): SnapshotPage {
    return snapshotPage(this.ctx.storage.sql, HUB_SNAPSHOT_TABLES, cursor);
  }
  /** Writes a backup's page into this object of the restored tenant (`first` empties it beforehand). */
  restore(page: SnapshotPage, tenantId: string, first: boolean): number {
    const n = restorePage(this.ctx.storage, HUB_SNAPSHOT_TABLES, page, tenantId, first);
    this.load();
    return n;
  }

  private revoke(id: string, reason: RevokeReason, now: number): void {
    if (!this.sessions.has(id)) return;
    this.markRevoked(id, reason, now);
    this.forget(id, reason);
  }
  /** The storage half of {@link revoke}: the row and its session.revoked event. */
  private markRevoked(id: string, reason: RevokeReason, now: number): void {
    markRevoked(this.ctx.storage.sql, (e, t) => this.outbox.record(e, t), id, reason, now, this.userId);
  }
  /** The memory half of {@link revoke}, after its write: the session is gone, its live sockets get a final `closed` frame. */
  private forget(id: string, reason: RevokeReason): void {
    this.sessions.delete(id);
    this.sockets.closeSession(id, reason);
  }

  private live = (now: number): SessionState[] => [...this.sessions.values()].filter((s) => isUsable(s, now) === "ok");

  // ---- realtime (sockets.ts): admission; the gateways' reports (open, close, away, presence_sync) ----
  /** Admits an upgrade the Worker authenticated, before it goes to the user's gateway (sockets.ts). */
  admit(a: Admission, now = Date.now()): Result<{ deviceId: string | null }> {
    return this.sockets.admit(a, now);
  }
  /** A gateway accepted one of the user's sockets: logged, presence follows; refused if the session ended meanwhile. */
  socketOpened(o: SocketOpened): Promise<Result<{ friends: FriendPresence[] }>> {
    return this.sockets.opened(o);
  }
  socketClosed(connId: string): void {
    this.sockets.closed(connId);
  }
  socketAway(connId: string, away: boolean): void {
    this.sockets.away(connId, away);
  }
  presenceSnapshot(): Promise<FriendPresence[]> {
    return this.presence.friendsOnline();
  }
  /** Ends every socket with a final `closed` frame (tenant suspended or deleted); returns how many. */
  closeSockets(reason: string): Promise<number> {
    return this.sockets.closeAll(reason);
  }
  /** How many sockets the user holds (0 = offline), for push decisions. */
  connectedDevices(): number {
    return this.connections.count();
  }
  // ---- presence (presence.ts): a friend's change arriving, what a viewer may see, the privacy setting ----
  deliverPresence(from: string, frame: string): number {
    return this.presence.receive(from, frame);
  }
  presenceFor(viewer: string, privacy?: PresencePrivacy): PresenceView | null {
    return this.presence.viewFor(viewer, privacy);
  }
  setPresencePrivacy(privacy: PresencePrivacy): void {
    this.presence.setPrivacy(privacy);
  }

  /**
   * Opens a session for a device (one per device: a second sign-in replaces the first). The one
   * await (the refresh token's hash) comes first, so everything after it runs without a turn in
   * between (concurrent sign-ins of one device see each other's session) and the replaced and
   * evicted sessions, the new one and their events commit in one storage write.
   */
  async createSession(n: NewSession): Promise<CreateResult> {
    const refreshToken = newRefreshToken(n.userId, n.sessionId);
    const hash = await hashRefreshToken(refreshToken);
    this.identify(n);
    if (this.status !== "active") return refuse("account_suspended", "The account is suspended.");
    // Equal counts as before: clocks here are coarse, and a refused sign-in only has to be retried.
    if (n.checkedAt !== undefined && n.checkedAt <= this.credentialsChangedAt)
      return refuse("invalid_credentials", "The credentials changed while signing in; sign in again.");
    const plan = planSession(this.live(n.now), n);
    if (plan === "refuse")
      return refuse("session_limit", "The session limit is reached; sign out on another device first.");
    const { state, ends, evicted } = plan;
    const sql = this.ctx.storage.sql;
    const newDevice = isNewDevice(sql, n.device.id);
    this.ctx.storage.transactionSync(() => {
      for (const [id, reason] of ends) this.markRevoked(id, reason, n.now);
      insertSession(sql, state);
      storeRefreshToken(sql, hash, n.sessionId, n.now);
      this.outbox.record(
        {
          type: "session.created",
          subject: n.userId,
          data: { userId: n.userId, sessionId: n.sessionId, platform: n.device.platform },
        },
        n.now,
      );
    });
    for (const [id, reason] of ends) this.forget(id, reason);
    this.sessions.set(n.sessionId, state);
    return ok({ refreshToken, evicted, newDevice });
  }

  /**
   * Rotates a refresh token. Single use: the first call gets a successor; calls within the grace
   * window get the same successor (racing tabs, retried requests); a later reuse means the token
   * leaked, so the whole session is revoked.
   */
  async refresh(token: string, now = Date.now()): Promise<RefreshResult> {
    const parsed = parseRefreshToken(token);
    if (!parsed) return badRefresh;
    const sql = this.ctx.storage.sql;
    const hash = await hashRefreshToken(token);
    const row = findRefreshToken(sql, hash);
    if (!row || row.session_id !== parsed.sessionId || this.status !== "active") return badRefresh;
    const session = this.sessions.get(row.session_id);
    if (!session || isUsable(session, now) !== "ok") return badRefresh;

    if (row.used_at !== null) {
      if (now - row.used_at <= REFRESH_GRACE_MS && row.successor)
        return ok({ sessionId: session.id, refreshToken: row.successor });
      this.revoke(session.id, "reuse_detected", now);
      return refuse("refresh_token_reused", "The refresh token was already used; the session has been signed out.");
    }
    const successor = newRefreshToken(parsed.userId, session.id);
    const successorHash = await hashRefreshToken(successor);
    this.ctx.storage.transactionSync(() => {
      sql.exec("UPDATE refresh_tokens SET used_at = ?, successor = ? WHERE hash = ?", now, successor, hash);
      storeRefreshToken(sql, successorHash, session.id, now);
      // Successors are only needed during their grace window: do not keep live tokens at rest.
      sql.exec(
        "UPDATE refresh_tokens SET successor = NULL WHERE successor IS NOT NULL AND used_at < ?",
        now - REFRESH_GRACE_MS,
      );
      sql.exec("UPDATE sessions SET last_used_at = ? WHERE id = ?", now, session.id);
      this.outbox.record(
        { type: "session.refreshed", subject: parsed.userId, data: { userId: parsed.userId, sessionId: session.id } },
        now,
      );
    });
    session.lastUsedAt = now;
    session.persistedUse = now;
    return ok({ sessionId: session.id, refreshToken: successor });
  }

  /**
   * The per-request check: is this session live? Also records use (batched to storage) and,
   * when asked, spends one unit of the user's API rate limit, so an authenticated request
   * costs one Durable Object call for both. The rate window lives in memory only: an evicted
   * hub starts a fresh minute, which errs on the side of the user.
   */
  check(sessionId: string, now = Date.now(), rate?: { limit: number; windowSeconds: number }): CheckResult {
    if (this.status !== "active") return refuse("account_inactive", "The account is suspended or deleted.");
    const s = this.sessions.get(sessionId);
    if (!s) return refuse("session_revoked", "The session does not exist.");
    const usable = isUsable(s, now);
    if (usable !== "ok")
      return refuse(
        "session_revoked",
        usable === "expired" ? "The session has expired." : "The session was signed out.",
      );
    let result: RateLimitResult | undefined;
    if (rate) {
      const { result: r, next } = slidingWindow(this.apiWindow, rate.limit, rate.windowSeconds, 1, now);
      if (r.allowed) this.apiWindow = next;
      result = r;
    }
    s.lastUsedAt = now;
    if (now - s.persistedUse >= TOUCH_PERSIST_MS) {
      s.persistedUse = now;
      this.ctx.storage.sql.exec("UPDATE sessions SET last_used_at = ? WHERE id = ?", now, sessionId);
    }
    return ok(result ? { rate: result } : {});
  }

  listSessions(now = Date.now()): SessionView[] {
    return this.live(now)
      .sort((a, b) => b.lastUsedAt - a.lastUsedAt)
      .map(({ idleMs: _i, revokedAt: _r, persistedUse: _p, ...view }) => view);
  }

  /** Revokes one session; false if it was not live. */
  revokeSession(sessionId: string, reason: RevokeReason, now = Date.now()): boolean {
    if (!this.sessions.has(sessionId)) return false;
    this.revoke(sessionId, reason, now);
    return true;
  }

  /** Revokes every session but `keep`; returns how many ended. */
  revokeAll(reason: RevokeReason, keep?: string, now = Date.now()): number {
    if (CREDENTIAL_CHANGES.has(reason)) {
      this.credentialsChangedAt = Math.max(this.credentialsChangedAt, now);
      setHubMeta(this.ctx.storage.sql, "credentialsChangedAt", String(this.credentialsChangedAt));
    }
    let n = 0;
    for (const id of [...this.sessions.keys()]) {
      if (id === keep) continue;
      this.revoke(id, reason, now);
      n++;
    }
    return n;
  }

  /**
   * Revokes the sessions opened at or before `changedAt`, when credentials changed, and refuses
   * sign-ins checked by then. The queued repeat of a revokeAll that may not have happened (the
   * reset's outbox event): a redelivery days later must not end the sessions signed in since.
   */
  revokeOpenedBefore(reason: RevokeReason, changedAt: number, now = Date.now()): number {
    if (CREDENTIAL_CHANGES.has(reason) && changedAt > this.credentialsChangedAt) {
      this.credentialsChangedAt = changedAt;
      setHubMeta(this.ctx.storage.sql, "credentialsChangedAt", String(changedAt));
    }
    const stale = [...this.sessions.values()].filter((s) => s.createdAt <= changedAt);
    for (const s of stale) this.revoke(s.id, reason, now);
    return stale.length;
  }

  /** Mirrors the account status; a suspended or deleted user loses every session at once. */
  setStatus(status: "active" | "suspended" | "deleted", now = Date.now()): void {
    this.status = status;
    setHubMeta(this.ctx.storage.sql, "status", status);
    if (status !== "active") this.revokeAll(status === "deleted" ? "user_deleted" : "user_suspended", undefined, now);
  }

  // ---- friend graph (see graph.ts for the consistency protocol) ----

  private identify(me: GraphIdentity): void {
    const known = { userId: this.userId, tenantId: this.tenantId };
    ({ userId: this.userId, tenantId: this.tenantId } = rememberIdentity(this.ctx.storage.sql, known, me));
  }
  /** Runs a change of the graph, then has the user's gateways forget the relations they keep. */
  private relating = <T>(change: T | Promise<T>): Promise<T> =>
    Promise.resolve(change).then((r) => this.sockets.relationsChanged().then(() => r));

  sendFriendRequest(i: SendRequestInput): Promise<GraphResult<{ status: "pending" | "accepted"; requestId: string }>> {
    this.identify(i);
    return this.relating(this.graph.send(i));
  }

  acceptFriendRequest(me: GraphIdentity, requestId: string, maxFriends: number, now = Date.now()) {
    this.identify(me);
    return this.relating(this.graph.accept(me, requestId, maxFriends, now));
  }

  closeFriendRequest(me: GraphIdentity, requestId: string, how: "rejected" | "cancelled", now = Date.now()) {
    this.identify(me);
    return this.graph.close(me, requestId, how, now);
  }

  removeFriend(me: GraphIdentity, peer: string, now = Date.now()) {
    this.identify(me);
    return this.relating(this.graph.remove(me, peer, now));
  }

  setBlock(me: GraphIdentity, peer: string, on: boolean, now = Date.now()): Promise<void> {
    this.identify(me);
    return this.relating(this.graph.block(me, peer, now, on));
  }

  /** A message from another user's hub of the same tenant (an erased user takes none). */
  peerMessage(tenantId: string, me: string, from: string, msg: PeerMessage): Promise<PeerResult> {
    this.identify({ tenantId, userId: me });
    if (this.erasedAt) return Promise.resolve(msg.op === "request" ? "refused" : "ok");
    return this.relating(this.graph.receive(me, from, msg, Date.now()));
  }

  /** Erases the user's hub (docs/privacy.md, user-hub/erasure.ts); idempotent. */
  async erase(me: GraphIdentity, now = Date.now()): Promise<{ peers: number }> {
    this.identify(me);
    this.setStatus("deleted", now); // ends the sessions: their sockets get `closed`
    this.sockets.forgetAll(now); // the log's rows end with their events, before the wipe
    this.erasedAt ||= now;
    const peers = eraseGraph(this.ctx.storage, this.graph.store, this.erasedAt);
    this.sessions.clear();
    await this.graph.flush(me);
    return { peers };
  }

  /** Announces a pending offline (presence), redelivers graph messages and publishes events a failure or crash left behind. */
  override async alarm(): Promise<void> {
    await this.presence.alarm();
    const who = hubEventSource(this.tenantId, this.userId);
    if (who) await this.graph.flush({ tenantId: who.tenantId, userId: this.userId });
    await this.outbox.publish();
  }

  friends(limit: number, after?: string, groupId?: string): FriendView[] {
    return listFriends(this.ctx.storage.sql, limit, after, groupId);
  }

  friendRequests(
    direction: "in" | "out",
    limit: number,
    before?: [number, string],
    now = Date.now(),
  ): FriendRequestView[] {
    return listRequests(this.ctx.storage.sql, direction, now, limit, before);
  }

  blockList(limit: number, after?: string): { userId: string; since: number }[] {
    return listBlocks(this.ctx.storage.sql, limit, after);
  }

  /** Whether this user is friends with / blocks / is blocked by `peer` (for other services' checks). */
  relation(peer: string): { friend: boolean; blocks: boolean; blockedBy: boolean } {
    const g = this.graph.store;
    return { friend: g.isFriend(peer), blocks: g.blocks(peer), blockedBy: g.blockedBy(peer) };
  }

  /**
   * This user's friends and everyone blocked either way, in one call: what lists of posts need to
   * apply visibility in SQL (src/db/tenant/feeds.ts).
   */
  circle(): { friends: string[]; blocked: string[] } {
    const g = this.graph.store;
    return { friends: g.friendIds(), blocked: g.blockedIds() };
  }

  /**
   * Whom friend suggestions leave out, read live (a stale mirror never suggests one): friends,
   * everyone blocked either way, and users with a pending request in or out.
   */
  suggestionExclusions(now = Date.now()): { friends: string[]; blocked: string[]; pending: string[] } {
    const g = this.graph.store;
    return { friends: g.friendIds(), blocked: g.blockedIds(), pending: pendingPeers(this.ctx.storage.sql, now) };
  }

  /** Which of `peers` this user blocks or is blocked by (a message's mentions notify none of them). */
  blockedAmong(peers: string[]): string[] {
    return peers.filter((p) => this.graph.store.blocks(p) || this.graph.store.blockedBy(p));
  }

  updateFriend(
    peer: string,
    patch: { remark?: string | undefined; groupId?: string | null | undefined },
  ): GraphResult<FriendView> {
    return updateFriend(this.ctx.storage, peer, patch);
  }

  friendGroups(): FriendGroupView[] {
    return listGroups(this.ctx.storage.sql);
  }

  /** Creates, renames or deletes a friend group (deleting ungroups its friends). */
  editGroup(op: GroupEdit, now = Date.now()): GraphResult<FriendGroupView | null> {
    return editGroup(this.ctx.storage, op, now);
  }
}
