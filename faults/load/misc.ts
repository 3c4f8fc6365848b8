/**
 * The rest of the load:
 * - messages over HTTP (`POST /v1/conversations/{id}/messages` with a client id, retried with
 *   the same client id like the socket's sends): the gateway path (tenant resolution, auth)
 *   under database faults, where the socket path runs inside Durable Objects;
 * - announcements by the owner (`POST /v1/admin/announcements`): each one an outbox event whose
 *   consumer writes one inbox entry per user. The route takes no Idempotency-Key, so the load
 *   does not retry it: an announcement answered 503 or not at all may or may not exist.
 */
import { callWithRetry, field, type Api } from "../http";
import type { Pair } from "../world";
import type { Loops } from "./loops";
import { recordAck, type SendRecord } from "./messages";

export interface AnnouncementOp {
  title: string;
  status: number | null;
  announcementId: string | undefined;
  at: number;
}

export class MiscLoad {
  readonly httpSends = new Map<string, SendRecord>();
  readonly announcements: AnnouncementOp[] = [];
  private n = 0;
  private a = 0;

  constructor(
    private readonly api: Api,
    private readonly ownerToken: string,
    private readonly httpPairs: Pair[],
    private readonly retryMs: number,
  ) {}

  start(loops: Loops, sendIntervalMs: number, announceIntervalMs: number): void {
    for (const p of this.httpPairs) loops.spawn(`http send ${p.b.username}`, sendIntervalMs, () => this.send(p));
    if (announceIntervalMs > 0) loops.spawn("announce", announceIntervalMs, () => this.announce());
  }

  private async send(p: Pair): Promise<void> {
    const clientId = `${p.b.username}-http-${++this.n}`;
    const now = Date.now();
    const rec: SendRecord = {
      clientId,
      conversationId: p.conversationId,
      senderId: p.b.userId,
      via: "http",
      firstSentAt: now,
      lastSentAt: now,
      sends: 0,
      ack: null,
      ackMismatch: null,
      refused: null,
    };
    this.httpSends.set(clientId, rec);
    const { last, attempts } = await callWithRetry(
      this.api,
      "messages.post",
      "POST",
      `/v1/conversations/${p.conversationId}/messages`,
      { token: p.b.accessToken, body: { clientId, body: { text: clientId } } },
      Date.now() + this.retryMs,
    );
    rec.sends = attempts.length;
    rec.lastSentAt = last.startedAt;
    const seq = typeof last.json === "object" && last.json !== null && "seq" in last.json ? Number(last.json.seq) : NaN;
    const messageId = field(last.json, "messageId");
    if ((last.status === 201 || last.status === 200) && Number.isInteger(seq) && messageId)
      recordAck(rec, seq, messageId);
    else if (last.status !== null && last.status >= 400 && last.status < 500)
      rec.refused = `${last.status} ${last.body}`;
  }

  private async announce(): Promise<void> {
    const title = `fault announcement ${++this.a}`;
    const r = await this.api.call("announce", "POST", "/v1/admin/announcements", {
      token: this.ownerToken,
      body: { title },
    });
    this.announcements.push({ title, status: r.status, announcementId: field(r.json, "id"), at: r.startedAt });
  }
}
