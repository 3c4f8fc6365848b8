import { GraphStore, type RequestRow } from "./graph-store";
import { graphRefusals, type GraphRefusal } from "./graph-refusals";
import type { GraphIdentity, GraphResult, PeerMessage, PeerResult, SendRequestInput } from "./graph-types";
import type { RecordEvent } from "./sessions";
import { forgetPeer } from "./erasure";

/** Delivers a message to another user's hub; throws if that hub cannot be reached. */
export type Deliver = (tenantId: string, to: string, from: string, msg: PeerMessage) => Promise<PeerResult>;

const fail = <T>(why: GraphRefusal): GraphResult<T> => graphRefusals[why];
const ok = <T>(value: T): GraphResult<T> => ({ ok: true, value });

/**
 * The friend graph of one user, kept symmetric with the peers' hubs by idempotent messages.
 * Every local change and the message announcing it are written in one storage transaction
 * (peer_outbox), then delivered; undelivered messages are retried by the alarm, so a crash
 * between this write and the peer's converges. All checks and writes of an operation happen
 * before its first await, so concurrent calls on this (single-threaded) object cannot
 * interleave inside one: ten accepts of one request make one friendship.
 */
export class FriendGraph {
  readonly store: GraphStore;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly deliver: Deliver,
    private readonly scheduleRetry: (at: number) => Promise<void>,
    private readonly record: RecordEvent,
  ) {
    this.store = new GraphStore(storage.sql);
  }

  private event(type: string, data: Record<string, unknown> & { userId: string }, now: number): void {
    this.record({ type, subject: data.userId, data }, now);
  }

  /** Marks a friendship on this side and closes every pending request with the peer. */
  private befriend(me: string, peer: string, now: number, acceptedBy: string): void {
    if (!this.store.isFriend(peer)) this.event("friend.accepted", { userId: me, friendId: peer, acceptedBy }, now);
    this.store.addFriend(peer, now);
    this.store.closePendingWith(peer, "accepted");
  }

  send(i: SendRequestInput): Promise<GraphResult<{ status: "pending" | "accepted"; requestId: string }>> {
    const s = this.store;
    if (s.blockedBy(i.to)) return Promise.resolve(fail("not_found"));
    if (s.blocks(i.to)) return Promise.resolve(fail("you_blocked"));
    if (s.isFriend(i.to)) return Promise.resolve(fail("already_friends"));
    const incoming = s.pendingWith(i.to, "in", i.now);
    if (incoming)
      return this.accept(i, incoming.id, i.maxFriends, i.now).then((r) =>
        r.ok ? ok({ status: "accepted" as const, requestId: incoming.id }) : r,
      );
    const existing = s.pendingWith(i.to, "out", i.now);
    if (existing) return Promise.resolve(ok({ status: "pending" as const, requestId: existing.id }));
    if (s.friendCount() >= i.maxFriends) return Promise.resolve(fail("friend_limit"));
    if (s.pendingCount("out", i.now) >= i.maxPending) return Promise.resolve(fail("pending_limit"));
    const msg: PeerMessage = {
      op: "request",
      requestId: i.requestId,
      message: i.message,
      createdAt: i.now,
      expiresAt: i.now + i.ttlMs,
      autoAccept: i.autoAccept,
      maxFriends: i.maxFriends,
      maxPending: i.maxPending,
    };
    this.storage.transactionSync(() => {
      s.insertRequest({
        id: i.requestId,
        direction: "out",
        peer_id: i.to,
        message: i.message,
        created_at: i.now,
        expires_at: msg.expiresAt,
        status: "pending",
      });
      s.enqueue(i.to, msg, i.now);
      this.event("friend.requested", { userId: i.userId, toUserId: i.to, requestId: i.requestId }, i.now);
    });
    return this.flush(i).then(() => {
      const row = s.request(i.requestId);
      if (row?.status === "refused") return fail<{ status: "pending" | "accepted"; requestId: string }>("not_found");
      return ok({
        status: row?.status === "accepted" ? ("accepted" as const) : ("pending" as const),
        requestId: i.requestId,
      });
    });
  }

  async accept(
    me: GraphIdentity,
    requestId: string,
    maxFriends: number,
    now: number,
  ): Promise<GraphResult<{ friendId: string }>> {
    const r = this.store.request(requestId);
    if (!r || r.direction !== "in") return fail("request_not_found");
    if (r.status === "accepted") return ok({ friendId: r.peer_id }); // a retry, or a racing accept
    if (r.status !== "pending" || r.expires_at <= now) return fail("request_not_pending");
    if (this.store.friendCount() >= maxFriends) return fail("friend_limit");
    this.storage.transactionSync(() => {
      this.befriend(me.userId, r.peer_id, now, me.userId);
      this.store.enqueue(r.peer_id, { op: "accepted", requestId }, now);
    });
    await this.flush(me);
    return ok({ friendId: r.peer_id });
  }

  /** Rejects an incoming request, or cancels an outgoing one. */
  async close(
    me: GraphIdentity,
    requestId: string,
    how: "rejected" | "cancelled",
    now: number,
  ): Promise<GraphResult<null>> {
    const r = this.store.request(requestId);
    if (!r || r.direction !== (how === "rejected" ? "in" : "out")) return fail("request_not_found");
    if (r.status === how) return ok(null);
    if (r.status !== "pending") return fail("request_not_pending");
    this.storage.transactionSync(() => {
      this.store.setStatus(requestId, how);
      this.store.enqueue(r.peer_id, { op: how, requestId }, now);
    });
    await this.flush(me);
    return ok(null);
  }

  async remove(me: GraphIdentity, peer: string, now: number): Promise<GraphResult<null>> {
    if (!this.store.isFriend(peer)) return fail("not_friends");
    this.storage.transactionSync(() => {
      this.store.removeFriend(peer);
      this.store.enqueue(peer, { op: "removed" }, now);
      this.event("friend.removed", { userId: me.userId, friendId: peer }, now);
    });
    await this.flush(me);
    return ok(null);
  }

  /** Blocking ends the friendship and every pending request, both ways. Idempotent. */
  async block(me: GraphIdentity, peer: string, now: number, on: boolean): Promise<void> {
    if (on === this.store.blocks(peer)) return;
    this.storage.transactionSync(() => {
      if (on) {
        this.storage.sql.exec("INSERT INTO blocks (peer_id, created_at) VALUES (?, ?)", peer, now);
        this.store.removeFriend(peer);
        this.store.closePendingWith(peer, "cancelled");
        this.event("user.blocked", { userId: me.userId, blockedId: peer }, now);
      } else {
        this.storage.sql.exec("DELETE FROM blocks WHERE peer_id = ?", peer);
        this.event("user.unblocked", { userId: me.userId, blockedId: peer }, now);
      }
      this.store.enqueue(peer, { op: on ? "blocked" : "unblocked" }, now);
    });
    await this.flush(me);
  }

  /** Applies a message from a peer's hub. Every branch is idempotent: redelivery is harmless. */
  receive(me: string, from: string, msg: PeerMessage, now: number): PeerResult {
    const s = this.store;
    let result: PeerResult = "ok";
    this.storage.transactionSync(() => {
      switch (msg.op) {
        case "request": {
          const known = s.request(msg.requestId);
          if (s.blocks(from)) result = "refused";
          else if (s.isFriend(from)) result = "accepted";
          else if (known)
            result = known.status === "accepted" ? "accepted" : known.status === "pending" ? "pending" : "refused";
          else if (s.pendingWith(from, "out", now) || msg.autoAccept) {
            // Mutual requests, or a recipient who accepts anyone: one friendship, no pending left.
            if (s.friendCount() >= msg.maxFriends) result = "refused_limit";
            else {
              s.insertRequest(incoming(msg, from, "accepted"));
              this.befriend(me, from, now, me);
              result = "accepted";
            }
          } else if (s.pendingCount("in", now) >= msg.maxPending) result = "refused_limit";
          else {
            s.insertRequest(incoming(msg, from, "pending"));
            this.event(
              "friend.request.received",
              { userId: me, fromUserId: from, requestId: msg.requestId, message: msg.message },
              now,
            );
            result = "pending";
          }
          break;
        }
        case "accepted":
          // An accept wins over a cancel that crossed it, so both sides end up friends.
          if (!s.blocks(from)) {
            this.befriend(me, from, now, from);
            s.setStatus(msg.requestId, "accepted");
          }
          break;
        case "rejected":
        case "cancelled":
          if (s.request(msg.requestId)?.status === "pending") s.setStatus(msg.requestId, msg.op);
          break;
        case "removed":
          s.removeFriend(from);
          break;
        case "blocked":
          this.storage.sql.exec(
            "INSERT INTO blocked_by (peer_id, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
            from,
            now,
          );
          s.removeFriend(from);
          s.closePendingWith(from, "cancelled");
          break;
        case "unblocked":
          this.storage.sql.exec("DELETE FROM blocked_by WHERE peer_id = ?", from);
          break;
        case "erased":
          forgetPeer(this.storage.sql, from);
          break;
      }
    });
    return result;
  }

  /**
   * Delivers queued messages in order. A delivered request's answer is applied here (accepted,
   * refused). On failure the message stays queued and the alarm retries with backoff.
   */
  async flush(me: GraphIdentity, now = Date.now()): Promise<void> {
    const rows = this.storage.sql
      .exec<{ id: number; peer_id: string; message: string; attempts: number }>(
        "SELECT id, peer_id, message, attempts FROM peer_outbox ORDER BY id",
      )
      .toArray();
    for (const row of rows) {
      const msg = JSON.parse(row.message) as PeerMessage;
      let result: PeerResult;
      try {
        result = await this.deliver(me.tenantId, row.peer_id, me.userId, msg);
      } catch {
        this.storage.sql.exec("UPDATE peer_outbox SET attempts = attempts + 1 WHERE id = ?", row.id);
        await this.scheduleRetry(now + Math.min(60_000, 1000 * 2 ** row.attempts));
        return;
      }
      this.storage.transactionSync(() => {
        this.storage.sql.exec("DELETE FROM peer_outbox WHERE id = ?", row.id);
        if (msg.op !== "request") return;
        if (result === "accepted") {
          this.befriend(me.userId, row.peer_id, now, row.peer_id);
          this.store.setStatus(msg.requestId, "accepted");
        } else if (result === "refused" || result === "refused_limit") {
          this.store.setStatus(msg.requestId, "refused");
        }
      });
    }
  }
}

function incoming(msg: Extract<PeerMessage, { op: "request" }>, from: string, status: string): RequestRow {
  return {
    id: msg.requestId,
    direction: "in",
    peer_id: from,
    message: msg.message,
    created_at: msg.createdAt,
    expires_at: msg.expiresAt,
    status,
  };
}
