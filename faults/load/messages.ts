/**
 * The message load: devices that send over `/v1/realtime` with client ids, as docs/realtime.md
 * asks clients to (a send is stored once whatever the retries, and acknowledged with its seq).
 * A device reconnects whenever its socket goes (workerd killed), then re-sends every send not yet
 * acknowledged with the same client id; an ack that does not come within a few seconds on an
 * open socket is re-sent too. Frames leave at most ten a second, under the per-socket cap.
 * Each body carries its client id, so the log shows whether one client id was stored twice.
 */
import type WebSocket from "ws";
import { parseFrame } from "../../bench/realtime/ws-client";
import type { Journal } from "../http";
import type { User } from "../world";
import { TENANT } from "../world";
import { openSocket } from "./socket";

export interface SendRecord {
  clientId: string;
  conversationId: string;
  senderId: string;
  via: "ws" | "http";
  firstSentAt: number;
  lastSentAt: number;
  sends: number;
  ack: { seq: number; messageId: string; at: number } | null;
  /** A repeat of this client id was acknowledged with another seq or message id. */
  ackMismatch: string | null;
  /** A definitive refusal (error frame or 4xx), which is not an ack. */
  refused: string | null;
}

/** Refusals that retrying cannot change (docs/realtime.md's error codes). */
const FINAL_ERRORS = new Set(["invalid_frame", "conversation_not_found", "user_blocked", "message_blocked"]);
const ACK_TIMEOUT_MS = 5_000;
const TICK_MS = 100;

/** Records an ack (or a repeat's ack) on a send; flags a repeat acked differently. */
export function recordAck(rec: SendRecord, seq: number, messageId: string): void {
  if (rec.ack && (rec.ack.seq !== seq || rec.ack.messageId !== messageId)) {
    rec.ackMismatch = `first acked seq ${rec.ack.seq} (${rec.ack.messageId}), then seq ${seq} (${messageId})`;
  }
  rec.ack ??= { seq, messageId, at: Date.now() };
}

export class SocketSender {
  readonly records = new Map<string, SendRecord>();
  readonly counts = { connects: 0, upgradeFailures: 0, closes: 0, errorFrames: {} as Record<string, number> };
  private ws: WebSocket | null = null;
  private connecting = false;
  private sending = false;
  private closed = false;
  private n = 0;
  private nextNew = 0;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly url: string,
    private readonly user: User,
    private readonly conversationId: string,
    private readonly journal: Journal,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.sending = true;
    this.timer = setInterval(() => this.tick(), TICK_MS);
    void this.connect();
  }

  /** No new sends from now on; unacknowledged ones keep being re-sent until `close`. */
  stopSending(): void {
    this.sending = false;
  }

  unacked(): SendRecord[] {
    return [...this.records.values()].filter((r) => !r.ack && !r.refused);
  }

  close(): void {
    this.closed = true;
    this.sending = false;
    if (this.timer) clearInterval(this.timer);
    this.ws?.terminate();
    this.ws = null;
  }

  private async connect(): Promise<void> {
    if (this.connecting || this.closed) return;
    this.connecting = true;
    const headers = { authorization: `Bearer ${this.user.accessToken}`, "x-tenant": TENANT };
    const ws = await openSocket(this.url, headers, this.journal, `ws.connect.${this.user.username}`);
    this.connecting = false;
    if (this.closed) return void ws?.terminate();
    if (!ws) {
      this.counts.upgradeFailures++;
      setTimeout(() => void this.connect(), 300);
      return;
    }
    this.counts.connects++;
    this.ws = ws;
    ws.on("message", (data: Buffer) => this.onFrame(data));
    ws.on("close", () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.counts.closes++;
      if (!this.closed) setTimeout(() => void this.connect(), 300);
    });
    ws.on("error", () => undefined);
    // Everything not acknowledged goes again, with its client id.
    for (const r of this.unacked()) r.lastSentAt = 0;
  }

  private onFrame(data: Buffer): void {
    let frame;
    try {
      frame = parseFrame(data);
    } catch {
      return;
    }
    if (!frame) return;
    if (frame.type === "ack") {
      const rec = this.records.get(frame.clientId);
      if (rec) recordAck(rec, frame.seq, frame.messageId);
    } else if (frame.type === "error" && frame.clientId) {
      this.counts.errorFrames[frame.code] = (this.counts.errorFrames[frame.code] ?? 0) + 1;
      const rec = this.records.get(frame.clientId);
      if (rec && FINAL_ERRORS.has(frame.code) && !rec.ack) rec.refused = `${frame.code}: ${frame.message}`;
    }
  }

  private send(rec: SendRecord): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== ws.OPEN) return;
    rec.sends++;
    rec.lastSentAt = Date.now();
    ws.send(
      JSON.stringify({
        type: "send",
        clientId: rec.clientId,
        conversationId: rec.conversationId,
        body: { text: rec.clientId },
      }),
    );
  }

  /** One frame per tick at most: an overdue re-send first, else a new message when one is due. */
  private tick(): void {
    if (!this.ws || this.ws.readyState !== this.ws.OPEN) return;
    const now = Date.now();
    const overdue = this.unacked().find((r) => now - r.lastSentAt >= ACK_TIMEOUT_MS);
    if (overdue) return this.send(overdue);
    if (!this.sending || now < this.nextNew) return;
    this.nextNew = now + this.intervalMs;
    const clientId = `${this.user.username}-ws-${++this.n}`;
    const rec: SendRecord = {
      clientId,
      conversationId: this.conversationId,
      senderId: this.user.userId,
      via: "ws",
      firstSentAt: now,
      lastSentAt: 0,
      sends: 0,
      ack: null,
      ackMismatch: null,
      refused: null,
    };
    this.records.set(clientId, rec);
    this.send(rec);
  }
}
