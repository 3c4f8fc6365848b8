import { refuse, ok, type Result } from "../protocol/result";
import type { FriendPresence } from "../protocol/presence";
import { gatewayStub } from "../protocol/stubs";
import type { SocketOpened } from "../realtime/types";
import { type ConnectionLog, spendTicket } from "./connections";
import type { Admission } from "./types";
import type { HubPresence } from "./presence";

/**
 * The hub's side of the user's sockets, which the tenant's gateways hold: it admits upgrades
 * (session live, ticket spent), keeps the connection log (which gateway holds which socket,
 * and away flags) from which presence is derived, writes frames for the user through those
 * gateways, and has them close a revoked session's sockets.
 */
export class HubSockets {
  /** Frames for the user's sockets, one chain per gateway: a friend's "online" never overtakes their "away". */
  private readonly chains = new Map<number, Promise<void>>();

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Env,
    private readonly ids: () => { tenantId: string; userId: string },
    /** The session's device if the session is live (the check keeps it from idling out). */
    private readonly sessionLive: (sessionId: string, now: number) => { deviceId: string | null } | null,
    private readonly connections: ConnectionLog,
    private readonly presence: HubPresence,
  ) {
    // Sockets the hub itself accepted before gateways held them survive a deploy (hibernation)
    // but have no handler here any more: closed with 1012, their clients reconnect to a gateway.
    for (const ws of ctx.getWebSockets()) {
      try {
        ws.close(1012, "reconnect");
      } catch {
        // already closing
      }
    }
  }

  /**
   * Admits a WebSocket upgrade the Worker authenticated, before it goes to the user's gateway:
   * the session must be live, and a ticket's id is spent here (one-time use).
   */
  admit(a: Admission, now = Date.now()): Result<{ deviceId: string | null }> {
    const session = this.sessionLive(a.sessionId, now);
    if (!session) return refuse("session_revoked", "The session is no longer valid.");
    if (a.ticket && !spendTicket(this.ctx.storage.sql, a.ticket.id, a.ticket.expiresAt, now))
      return refuse("ticket_used", "The ticket was already used.");
    this.presence.remember(a.tenantId, a.presencePrivacy);
    return ok({ deviceId: session.deviceId });
  }

  /** A socket a gateway accepted: recorded (presence follows), or refused if its session ended meanwhile. */
  async opened(o: SocketOpened, now = Date.now()): Promise<Result<{ friends: FriendPresence[] }>> {
    if (!this.sessionLive(o.sessionId, now)) return refuse("session_revoked", "The session is no longer valid.");
    this.connections.opened(o.connId, o.sessionId, o.tenantId, o.gateway, now);
    this.presence.changed(now);
    return ok({ friends: await this.presence.friendsOnline() });
  }

  closed(connId: string, now = Date.now()): void {
    this.connections.closed(connId, now);
    this.presence.changed(now);
  }

  away(connId: string, away: boolean): void {
    if (this.connections.setAway(connId, away)) this.presence.changed();
  }

  /** Writes a frame to every socket of the user (a friend's presence); returns how many gateways were asked. */
  deliver(frame: string): number {
    const { tenantId, userId } = this.ids();
    const gateways = this.connections.gateways();
    for (const g of gateways) {
      const next = (this.chains.get(g) ?? Promise.resolve()).then(() =>
        this.call(gatewayStub(this.env, tenantId, g).deliver(frame, [userId])),
      );
      this.chains.set(g, next);
      void next.then(() => {
        if (this.chains.get(g) === next) this.chains.delete(g);
      });
      this.ctx.waitUntil(next);
    }
    return gateways.length;
  }

  /**
   * Has the gateways end a session's sockets with a final `closed` frame, trying each up to
   * three times (a revoked session's socket must not stay open because one call failed).
   */
  closeSession(sessionId: string, reason: string): void {
    const { tenantId, userId } = this.ids();
    for (const g of this.connections.gateways(sessionId))
      this.ctx.waitUntil(
        this.call(retried(() => gatewayStub(this.env, tenantId, g).closeSession(userId, sessionId, reason))),
      );
  }

  /** Closes the log's rows (the account is erased: its sockets are being closed, and the log goes). */
  forgetAll(now = Date.now()): void {
    for (const rows of this.connections.byGateway().values()) this.connections.reconcile(rows, new Set(), now);
  }

  /**
   * Has the gateways holding the user's sockets forget the relations they keep for direct sends
   * (the graph changed); awaited by the change, so its caller's next send is checked afresh.
   */
  async relationsChanged(): Promise<void> {
    const { tenantId, userId } = this.ids();
    await Promise.all(
      this.connections.gateways().map((g) => this.call(gatewayStub(this.env, tenantId, g).forgetRelations(userId))),
    );
  }

  /** Ends every socket of the user (tenant suspended or deleted); returns how many closed. */
  async closeAll(reason: string): Promise<number> {
    const { tenantId, userId } = this.ids();
    const counts = await Promise.all(
      this.connections.gateways().map((g) => gatewayStub(this.env, tenantId, g).closeUser(userId, reason)),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  /**
   * Closes the log's rows of sockets no gateway holds any more (a restart lost their close),
   * asking each gateway named there once; rows without a gateway are closed outright.
   */
  async reconcile(now = Date.now()): Promise<void> {
    const { tenantId, userId } = this.ids();
    for (const [g, rows] of this.connections.byGateway()) {
      const live = g === null ? [] : await gatewayStub(this.env, tenantId, g).liveConnIds(userId);
      this.connections.reconcile(rows, new Set(live), now);
    }
    this.presence.changed(now);
  }

  private call(p: Promise<unknown>): Promise<void> {
    return p.then(
      () => undefined,
      (err: unknown) => console.error(JSON.stringify({ msg: "gateway call failed", error: String(err) })),
    );
  }
}

/** Runs `call` up to `times` times, 100 ms then 400 ms apart; the last failure is thrown. */
async function retried<T>(call: () => Promise<T>, times = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await call();
    } catch (err) {
      if (i >= times) throw err;
      await new Promise((r) => setTimeout(r, 100 * 4 ** (i - 1)));
    }
  }
}
