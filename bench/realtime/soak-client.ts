/**
 * One device of the soak: a user's socket that sends messages with clientIds, is dropped and
 * reconnects, and resumes with `sync` as docs/realtime.md describes: on every (re)connection it
 * sends its cursors (per conversation, the highest seq up to which it has every message), then
 * re-sends every send not yet acked with the same clientId. It counts what arrives:
 * - every (conversation, seq) it has, from `message` frames and from acks of its own sends;
 * - protocol duplicates: a seq a socket already delivered, or one at or below the cursor that
 *   socket's sync sent (the server promised neither);
 * - re-deliveries it asked for: a seq it had, above a gap, that its cursor asked for again;
 * - seqs delivered below one the same socket delivered before (out of order), separately
 *   before the socket's `synced` (a live frame that reached the hub between the socket's opening
 *   and its sync frame goes out at once, ahead of the older seqs the sync then sends) and after.
 * Frames that arrive on a socket after the device closed it (a normal close lets the server
 * send until it answers the close) are ignored, as a device that has moved on ignores them, and
 * counted apart: a message there does not count as received.
 */
import type WebSocket from "ws";
import { MIN_GAP_MS } from "./latency";
import type { RtUser } from "./stack";
import { userHeaders } from "./stack";
import { connect, parseFrame, type ServerFrame } from "./ws-client";

export interface SoakCounts {
  sent: number;
  acks: number;
  connects: number;
  drops: number;
  /** Closes the client did not cause, by code. */
  serverCloses: Record<string, number>;
  duplicates: number;
  askedAgain: number;
  /** Out of order before the socket's `synced`, and after it. */
  outOfOrderBeforeSynced: number;
  outOfOrder: number;
  truncated: number;
  /** Message frames on a socket after the device closed it (ignored), and duplicates among them. */
  afterClose: number;
  duplicatesAfterClose: number;
  errors: Record<string, number>;
  /** A retried clientId acked with another seq than before. */
  ackMismatches: number;
}

/** Per socket: what it delivered and what its sync asked for. */
interface SocketState {
  seen: Map<string, Set<number>>;
  highest: Map<string, number>;
  cursors: Map<string, number>;
  synced: boolean;
  /** The device closed this socket (normal close; the server may still send until it answers). */
  closed: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class SoakClient {
  readonly have = new Map<string, Set<number>>();
  private readonly contiguous = new Map<string, number>();
  /** Sends not yet acked, by clientId. */
  readonly pending = new Map<string, string>();
  /** Every clientId sent, with its conversation and acked seq (0 until acked). */
  readonly sends = new Map<string, { conversationId: string; seq: number }>();
  readonly counts: SoakCounts = {
    sent: 0,
    acks: 0,
    connects: 0,
    drops: 0,
    serverCloses: {},
    duplicates: 0,
    askedAgain: 0,
    outOfOrderBeforeSynced: 0,
    outOfOrder: 0,
    truncated: 0,
    afterClose: 0,
    duplicatesAfterClose: 0,
    errors: {},
    ackMismatches: 0,
  };
  private ws: WebSocket | null = null;
  private sock: SocketState | null = null;
  private lastSend = -Infinity;
  /** Sockets this client closed itself (their close events are not the server's doing). */
  private readonly dropped = new WeakSet<WebSocket>();
  private counter = 0;
  /** Truncated syncs to page over HTTP: conversation → [after, upTo]. */
  readonly toPage: { conversationId: string; after: number; upTo: number }[] = [];

  constructor(
    readonly user: RtUser,
    readonly conversations: string[],
    private readonly url: string,
  ) {
    for (const c of conversations) {
      this.have.set(c, new Set());
      this.contiguous.set(c, 0);
    }
  }

  get connected(): boolean {
    return this.ws !== null;
  }

  get synced(): boolean {
    return this.sock?.synced ?? false;
  }

  /** Records that this device has `seq` of `c`, moving its cursor over what is now contiguous. */
  add(c: string, seq: number): void {
    const have = this.have.get(c);
    if (!have) return;
    have.add(seq);
    let k = this.contiguous.get(c) ?? 0;
    while (have.has(k + 1)) k++;
    this.contiguous.set(c, k);
  }

  private async sendFrame(frame: unknown): Promise<void> {
    const wait = this.lastSend + MIN_GAP_MS - performance.now();
    if (wait > 0) await sleep(wait);
    if (!this.ws) return;
    this.lastSend = performance.now();
    this.ws.send(JSON.stringify(frame));
  }

  /** Connects, sends the sync with this device's cursors, then re-sends what is not acked. */
  async connect(): Promise<void> {
    const sock: SocketState = { seen: new Map(), highest: new Map(), cursors: new Map(), synced: false, closed: false };
    const ws = await connect(this.url, {
      headers: userHeaders(this.user),
      onFrame: (data) => this.onFrame(sock, parseFrame(data)),
      onClose: (code) => {
        if (this.ws === ws) {
          this.ws = null;
          this.sock = null;
        }
        if (!this.dropped.has(ws)) this.counts.serverCloses[code] = (this.counts.serverCloses[code] ?? 0) + 1;
      },
    });
    this.ws = ws;
    this.sock = sock;
    this.counts.connects++;
    for (const c of this.conversations) sock.cursors.set(c, this.contiguous.get(c) ?? 0);
    await this.sendFrame({ type: "sync", cursors: Object.fromEntries(sock.cursors) });
    for (const [clientId, conversationId] of this.pending) await this.sendFrame(this.sendOf(clientId, conversationId));
  }

  /** A final sync on the open socket (the device checks it missed nothing). */
  async resync(): Promise<void> {
    if (!this.sock) return;
    this.sock.synced = false;
    for (const c of this.conversations) this.sock.cursors.set(c, this.contiguous.get(c) ?? 0);
    await this.sendFrame({ type: "sync", cursors: Object.fromEntries(this.sock.cursors) });
  }

  private sendOf(clientId: string, conversationId: string) {
    return { type: "send", clientId, conversationId, body: { text: clientId } };
  }

  /** Sends a new message to one of its conversations. */
  async sendNew(): Promise<void> {
    const conversationId = this.conversations[Math.floor(Math.random() * this.conversations.length)]!;
    const clientId = `${this.user.username}-${++this.counter}`;
    this.pending.set(clientId, conversationId);
    this.sends.set(clientId, { conversationId, seq: 0 });
    this.counts.sent++;
    await this.sendFrame(this.sendOf(clientId, conversationId));
  }

  /** Drops the socket: abruptly (no close handshake) or with a normal close. */
  drop(abrupt: boolean): void {
    const ws = this.ws;
    if (!ws) return;
    this.dropped.add(ws);
    if (this.sock) this.sock.closed = true;
    this.counts.drops++;
    this.ws = null;
    this.sock = null;
    if (abrupt) ws.terminate();
    else ws.close(1000);
  }

  private onFrame(sock: SocketState, f: ServerFrame | null): void {
    // On a socket it closed, the device only tallies messages (below); an ack there is not
    // seen either, so that send is retried with its clientId on the next socket.
    if (!f || (sock.closed && f.type !== "message")) return;
    switch (f.type) {
      case "message": {
        const c = f.conversationId;
        const seen = sock.seen.get(c) ?? new Set<number>();
        sock.seen.set(c, seen);
        const duplicate = seen.has(f.seq) || f.seq <= (sock.cursors.get(c) ?? 0);
        if (sock.closed) {
          this.counts.afterClose++;
          if (duplicate) this.counts.duplicatesAfterClose++;
          seen.add(f.seq);
          return;
        }
        if (duplicate) this.counts.duplicates++;
        else if (this.have.get(c)?.has(f.seq)) this.counts.askedAgain++;
        if (f.seq < (sock.highest.get(c) ?? 0)) {
          if (sock.synced) this.counts.outOfOrder++;
          else this.counts.outOfOrderBeforeSynced++;
        }
        sock.highest.set(c, Math.max(f.seq, sock.highest.get(c) ?? 0));
        seen.add(f.seq);
        this.add(c, f.seq);
        return;
      }
      case "ack": {
        this.counts.acks++;
        const s = this.sends.get(f.clientId);
        if (s && s.seq !== 0 && s.seq !== f.seq) this.counts.ackMismatches++;
        if (s) s.seq = f.seq;
        this.pending.delete(f.clientId);
        this.add(f.conversationId, f.seq);
        return;
      }
      case "synced":
        sock.synced = true;
        return;
      case "sync_truncated":
        this.counts.truncated++;
        this.toPage.push({ conversationId: f.conversationId, after: f.fromSeq - 1, upTo: f.latestSeq });
        return;
      case "error":
        this.counts.errors[f.code] = (this.counts.errors[f.code] ?? 0) + 1;
        return;
      case "closed":
        this.counts.errors[`closed:${f.reason}`] = (this.counts.errors[`closed:${f.reason}`] ?? 0) + 1;
        return;
    }
  }
}
