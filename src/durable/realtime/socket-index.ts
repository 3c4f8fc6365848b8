import type { SocketAttachment } from "./types";

type Attachment = SocketAttachment["rt"];

/**
 * The gateway's sockets by user, in memory, with each socket's attachment read once. A delivery
 * names its users; looking each up here costs a map read, where asking the runtime
 * (`getWebSockets(tag)`) and reading every socket's attachment (a structured-clone
 * deserialization) cost microseconds per user and per socket on every message. Built from the
 * runtime's list on first use after the object starts (the sockets survive hibernation, this
 * does not), then kept in step by accept and close.
 */
export class SocketIndex {
  private byUser: Map<string, Set<WebSocket>> | null = null;
  private readonly atts = new WeakMap<WebSocket, Attachment>();

  constructor(private readonly ctx: DurableObjectState) {}

  /** The socket's attachment (read from the runtime once). */
  attachment(ws: WebSocket): Attachment | undefined {
    let a = this.atts.get(ws);
    if (!a) {
      a = (ws.deserializeAttachment() as SocketAttachment | null)?.rt;
      if (a) this.atts.set(ws, a);
    }
    return a;
  }

  private index(): Map<string, Set<WebSocket>> {
    if (!this.byUser) {
      this.byUser = new Map();
      for (const ws of this.ctx.getWebSockets()) {
        const a = this.attachment(ws);
        if (a && ws.readyState <= 1) this.put(a.userId, ws);
      }
    }
    return this.byUser;
  }

  private put(userId: string, ws: WebSocket): void {
    const set = this.byUser!.get(userId);
    if (set) set.add(ws);
    else this.byUser!.set(userId, new Set([ws]));
  }

  /** A socket just accepted, with the attachment it was given. */
  add(ws: WebSocket, att: Attachment): void {
    this.atts.set(ws, att);
    if (this.byUser) this.put(att.userId, ws);
  }

  /** A socket gone; answers whether its user has another socket here. */
  remove(ws: WebSocket, userId: string): boolean {
    const set = this.index().get(userId);
    set?.delete(ws);
    if (set?.size) return true;
    this.byUser!.delete(userId);
    return false;
  }

  /** The user's open sockets here. */
  of(userId: string): ReadonlySet<WebSocket> {
    return this.index().get(userId) ?? EMPTY;
  }
}

const EMPTY: ReadonlySet<WebSocket> = new Set();
