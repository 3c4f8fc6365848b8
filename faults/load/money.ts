/**
 * The money load: each buyer places orders for the world's product (`POST /v1/orders`, paid
 * from the wallet) with a fresh `Idempotency-Key` per logical order, and now and then has the
 * owner refund one of its paid orders (`POST /v1/admin/orders/{id}/refund`, a key of its own).
 * Like a careful client, an order or refund that got a 503, no answer, or a 409 saying the key
 * is still in flight (`idempotency_in_progress`) or was just released (`idempotency_conflict`)
 * is sent again with the same key and the same body until it is decided or its retry budget
 * ends; then its outcome is unknown and the verification takes the server's word for it
 * (verify/money.ts). Every logical operation is journaled with its key and final answer.
 */
import { backoffMs, field, sleep, type Api } from "../http";
import type { Buyer } from "../world";
import type { Loops } from "./loops";
import { pick } from "./loops";

export interface MoneyOp {
  kind: "order" | "refund";
  buyer: Buyer;
  key: string;
  path: string;
  /** The body every attempt sent. */
  body: unknown;
  /** The decided status; null when the retry budget ended first (the outcome is unknown). */
  status: number | null;
  /** The problem code of a refusal, or what the last undecided attempt saw. */
  code: string | undefined;
  /** The last attempt's status (null: no answer), and when the last attempt ended. */
  lastStatus: number | null;
  /** When the last attempt started and ended. */
  lastStartedAt: number;
  lastAt: number;
  /** Each attempt's answer, `status code` or `none` (the evidence when the outcome stays unknown). */
  answers: string[];
  /** For an order answered 201, its id; for a refund, the order refunded. */
  orderId: string | undefined;
  attempts: number;
  at: number;
}

/** 409s that decide nothing: the same key and body must be sent again. */
const UNDECIDED_CODES = new Set(["idempotency_in_progress", "idempotency_conflict"]);

export class MoneyLoad {
  readonly ops: MoneyOp[] = [];
  /** Per buyer, orders answered 201 and not yet picked for a refund. */
  private readonly refundable = new Map<string, string[]>();
  private n = 0;

  constructor(
    private readonly api: Api,
    private readonly ownerToken: string,
    private readonly buyers: Buyer[],
    private readonly productId: string,
    private readonly retryMs: number,
    private readonly refundChance: number,
  ) {}

  get orders(): MoneyOp[] {
    return this.ops.filter((o) => o.kind === "order");
  }

  get refunds(): MoneyOp[] {
    return this.ops.filter((o) => o.kind === "refund");
  }

  start(loops: Loops, intervalMs: number): void {
    for (const b of this.buyers) loops.spawn(`orders ${b.username}`, intervalMs, () => this.step(b));
  }

  private async step(b: Buyer): Promise<void> {
    const order = await this.decide({
      kind: "order",
      buyer: b,
      key: `fault-order-${b.username}-${++this.n}`,
      path: "/v1/orders",
      body: { items: [{ productId: this.productId, quantity: 1 }], pay: "wallet" },
      token: b.accessToken,
    });
    if (order.status === 201 && order.orderId) {
      const mine = this.refundable.get(b.userId) ?? [];
      mine.push(order.orderId);
      this.refundable.set(b.userId, mine);
    }
    const mine = this.refundable.get(b.userId) ?? [];
    if (mine.length === 0 || Math.random() >= this.refundChance) return;
    // Each order is picked for a refund once, whatever the answer: a second refund would be a
    // deliberate 409 `order_not_refundable`, not what this load probes.
    const orderId = pick(mine);
    mine.splice(mine.indexOf(orderId), 1);
    await this.decide({
      kind: "refund",
      buyer: b,
      key: `fault-refund-${orderId}`,
      path: `/v1/admin/orders/${orderId}/refund`,
      body: { reason: `fault harness refund for ${b.username}` },
      token: this.ownerToken,
      orderId,
    });
  }

  /** Sends one logical operation until it is decided or its budget ends; journals it. */
  private async decide(
    o: Pick<MoneyOp, "kind" | "buyer" | "key" | "path" | "body"> & { token: string; orderId?: string },
  ): Promise<MoneyOp> {
    const op: MoneyOp = {
      kind: o.kind,
      buyer: o.buyer,
      key: o.key,
      path: o.path,
      body: o.body,
      status: null,
      code: undefined,
      lastStatus: null,
      lastStartedAt: 0,
      lastAt: 0,
      answers: [],
      orderId: o.orderId,
      attempts: 0,
      at: Date.now(),
    };
    this.ops.push(op);
    const deadline = Date.now() + this.retryMs;
    for (;;) {
      const a = await this.api.call(`money.${o.kind}`, "POST", o.path, {
        token: o.token,
        body: o.body,
        headers: { "idempotency-key": o.key },
      });
      op.attempts++;
      op.code = field(a.json, "code");
      op.lastStatus = a.status;
      op.lastStartedAt = a.startedAt;
      op.lastAt = a.endedAt;
      op.answers.push(`${a.status ?? "none"}${op.code ? ` ${op.code}` : ""}`);
      const undecided =
        a.status === null || a.status === 503 || (a.status === 409 && UNDECIDED_CODES.has(op.code ?? ""));
      if (!undecided) {
        op.status = a.status;
        if (o.kind === "order" && a.status === 201) op.orderId = field(a.json, "id");
        return op;
      }
      if (Date.now() >= deadline) return op;
      await sleep(backoffMs(a));
    }
  }
}
