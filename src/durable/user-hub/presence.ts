import type { Relation } from "../protocol/relation";
import {
  OFFLINE_GRACE_MS,
  type FriendPresence,
  type PresencePrivacy,
  type PresenceStatus,
  type PresenceView,
} from "../protocol/presence";
import { hubStub, type HubStub } from "../protocol/stubs";

const PRIVACIES: readonly string[] = ["everyone", "friends", "nobody"];
const KEY = {
  status: "presence.status",
  lastSeenAt: "presence.lastSeenAt",
  offlineDue: "presence.offlineDue",
  privacy: "presence.privacy",
} as const;

/**
 * The user's presence across devices, derived from the connection log (the open sockets the
 * gateways reported, and each one's `away` flag: connections.ts). Only changes of
 * the *announced* status fan out, to friends not blocked either way, unless privacy is `nobody`.
 * Going offline is announced only after OFFLINE_GRACE_MS via the hub's (shared) alarm; a
 * socket that comes back within the grace cancels it, so a flapping connection stays quiet.
 */
export class HubPresence {
  /** Fan-outs run one after another, so friends see this user's changes in order. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Env,
    private readonly userId: () => string,
    private readonly relation: (peer: string) => Relation,
    private readonly deliverLocal: (frame: string) => number,
    private readonly scheduleAlarm: (at: number) => Promise<void>,
    /** online if any open socket is not away; away if all are; offline with none. */
    private readonly current: () => PresenceStatus,
  ) {}

  private get(key: string): string | undefined {
    return this.ctx.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]
      ?.value;
  }

  private set(key: string, value: string | null): void {
    if (value === null) this.ctx.storage.sql.exec("DELETE FROM meta WHERE key = ?", key);
    else
      this.ctx.storage.sql.exec(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        key,
        value,
      );
  }

  private privacy(): PresencePrivacy {
    return (this.get(KEY.privacy) as PresencePrivacy | undefined) ?? "friends";
  }

  private announced(): PresenceStatus {
    return (this.get(KEY.status) as PresenceStatus | undefined) ?? "offline";
  }

  /** Friends who may hear of this user's presence (blocks either way excluded). */
  private audience(): string[] {
    return this.ctx.storage.sql
      .exec<{ peer_id: string }>(
        "SELECT peer_id FROM friends WHERE peer_id NOT IN (SELECT peer_id FROM blocks) AND peer_id NOT IN (SELECT peer_id FROM blocked_by)",
      )
      .toArray()
      .map((r) => r.peer_id);
  }

  private hub(peer: string): HubStub | null {
    const tenantId = this.get("tenantId");
    return tenantId ? hubStub(this.env, tenantId, peer) : null;
  }

  /** Records and fans out a change of the announced status. */
  private announce(status: PresenceStatus, lastSeenAt: string | null, force = false): void {
    if (!force && status === this.announced()) return;
    this.set(KEY.status, status);
    if (this.privacy() === "nobody" && !force) return;
    this.fanOut(
      JSON.stringify({ type: "presence", userId: this.userId(), status, ...(lastSeenAt ? { lastSeenAt } : {}) }),
    );
  }

  private fanOut(frame: string): void {
    const from = this.userId();
    const peers = this.audience();
    const run = this.chain.then(() => Promise.allSettled(peers.map((p) => this.hub(p)?.deliverPresence(from, frame))));
    this.chain = run;
    this.ctx.waitUntil(run);
  }

  /** Re-derives the status after a socket opened, closed or changed its away flag. */
  changed(now = Date.now()): void {
    const status = this.current();
    if (status === "offline") {
      if (this.announced() === "offline" || this.get(KEY.offlineDue)) return;
      this.set(KEY.offlineDue, String(now + OFFLINE_GRACE_MS));
      this.ctx.waitUntil(this.scheduleAlarm(now + OFFLINE_GRACE_MS));
      return;
    }
    this.set(KEY.offlineDue, null); // a reconnect within the grace: nothing is announced
    this.announce(status, null);
  }

  /** Remembers the tenant and privacy setting an upgrade brought (the Worker read them). */
  remember(tenantId: string, privacy: string | null): void {
    this.set("tenantId", tenantId);
    if (privacy && PRIVACIES.includes(privacy)) this.set(KEY.privacy, privacy);
  }

  /** The hub's alarm: announces offline once the grace has passed with no socket back. */
  async alarm(now = Date.now()): Promise<void> {
    const due = Number(this.get(KEY.offlineDue) ?? 0);
    if (!due) return;
    if (now < due) return this.scheduleAlarm(due); // woken early by the graph's retry
    this.set(KEY.offlineDue, null);
    if (this.current() !== "offline") return this.changed();
    const lastSeenAt = new Date(due - OFFLINE_GRACE_MS).toISOString();
    this.set(KEY.lastSeenAt, lastSeenAt);
    this.announce("offline", lastSeenAt);
  }

  /** A user's privacy changed (PUT /v1/me/settings). Turning it to `nobody` tells friends "offline". */
  setPrivacy(privacy: PresencePrivacy): void {
    const before = this.privacy();
    if (before === privacy) return;
    this.set(KEY.privacy, privacy);
    const status = this.announced();
    if (status === "offline") return;
    if (privacy === "nobody")
      this.fanOut(JSON.stringify({ type: "presence", userId: this.userId(), status: "offline" }));
    else if (before === "nobody") this.announce(status, null, true);
  }

  /** A friend's presence frame arriving here: written to this user's sockets if the friendship holds. */
  receive(from: string, frame: string): number {
    const r = this.relation(from);
    return r.friend && !r.blocks && !r.blockedBy ? this.deliverLocal(frame) : 0;
  }

  /** What `viewer` may see of this user (`privacy` from the tenant DB overrides the cached one). */
  viewFor(viewer: string, privacy: PresencePrivacy = this.privacy()): PresenceView | null {
    const view = { status: this.announced(), lastSeenAt: this.get(KEY.lastSeenAt) ?? null };
    if (viewer === this.userId()) return view;
    const r = this.relation(viewer);
    if (r.blocks || r.blockedBy || privacy === "nobody" || (privacy === "friends" && !r.friend)) return null;
    return view;
  }

  /** The presence of this user's visible, online or away friends (a socket's `presence_snapshot`). */
  async friendsOnline(): Promise<FriendPresence[]> {
    const me = this.userId();
    const peers = this.audience();
    const views = await Promise.allSettled(peers.map((p) => this.hub(p)?.presenceFor(me)));
    const friends: FriendPresence[] = [];
    views.forEach((v, i) => {
      if (v.status === "fulfilled" && v.value && v.value.status !== "offline")
        friends.push({ userId: peers[i]!, status: v.value.status, lastSeenAt: v.value.lastSeenAt });
    });
    return friends;
  }
}
