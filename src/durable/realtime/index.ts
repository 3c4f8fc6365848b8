import { DurableObject } from "cloudflare:workers";
import type { DeliveryOptions } from "../protocol/delivery";
import { GatewaySockets } from "./sockets";

export type { SocketOpened } from "./types";

/**
 * One of a tenant's realtime gateways (named `<tenantId>:gw:<n>`, n = gatewayOf(userId,
 * `realtime.gateways`)): it terminates the WebSockets of every user hashed to it. A message to a
 * group is one `deliver` per gateway naming its members, instead of one call per member. It
 * keeps no storage: sessions, presence and the connection log stay in each user's hub.
 */
export class RealtimeGateway extends DurableObject<Env> {
  private readonly sockets: GatewaySockets;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sockets = new GatewaySockets(ctx, env);
  }

  override fetch(req: Request): Response {
    return this.sockets.upgrade(req);
  }
  override webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
    return this.sockets.message(ws, raw);
  }
  override webSocketClose(ws: WebSocket): void {
    this.sockets.forget(ws, "client");
  }
  override webSocketError(ws: WebSocket): void {
    this.sockets.forget(ws, "error");
  }

  /** Writes a frame to the sockets of these users (a conversation's fan-out, a hub's presence). */
  deliver(frame: string, userIds: string[], opts: DeliveryOptions = {}): number {
    return this.sockets.deliver(frame, userIds, opts);
  }
  /** Ends a session's sockets with a final `closed` frame (the hub revoked it). */
  closeSession(userId: string, sessionId: string, reason: string): number {
    return this.sockets.closeSession(userId, sessionId, reason);
  }
  /** Ends a user's sockets with a final `closed` frame (tenant suspended or deleted). */
  closeUser(userId: string, reason: string): number {
    return this.sockets.closeUser(userId, reason);
  }
  /** Ends every socket this gateway holds with a final `closed` frame (its tenant was suspended or deleted). */
  closeAll(reason: string): number {
    return this.sockets.closeUser(null, reason);
  }
  /** Forgets the relations kept for a user's direct sends (the user's graph changed). */
  forgetRelations(userId: string): void {
    this.sockets.forgetRelations(userId);
  }
  /** The connection ids of a user's sockets held here. */
  liveConnIds(userId: string): string[] {
    return this.sockets.liveConnIds(userId);
  }
}
