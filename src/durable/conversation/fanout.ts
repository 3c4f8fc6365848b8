import { currentTraceparent } from "../../lib/tracing/spans";
import type { DeliveryOptions } from "../protocol/delivery";
import { type GatewayStub, gatewayStub } from "../protocol/stubs";
import { gatewayOf } from "../protocol/gateways";

/** Members whose gateway number a conversation remembers. */
const HASHED_MAX = 200_000;

/**
 * Delivers frames to the gateways holding members' sockets: one `deliver` per gateway naming its
 * members, so a message to a group of 1,000 costs at most the tenant's gateway count in calls.
 * Each gateway has its own promise chain, so the frames a member receives keep the order they
 * were produced in (seq 5 before seq 6: a member's sockets are all on one gateway) while gateways
 * are served in parallel and a slow one does not hold the others up. A failed delivery is logged
 * and dropped: the devices catch up with `sync` when they notice the gap.
 */
export class Fanout {
  private readonly chains = new Map<number, Promise<void>>();
  private readonly stubs = new Map<number, GatewayStub>();
  /** Deliveries waiting for the tenant's gateway count; later ones queue behind them, in order. */
  private waiting: Promise<void> | undefined;
  /** Members' gateway numbers under `hashedFor` gateways (a hash per member per message would add up in big groups). */
  private readonly hashed = new Map<string, number>();
  private hashedFor = 0;

  constructor(
    private readonly env: Env,
    private readonly tenantId: () => string,
  ) {}

  private gateway(index: number): GatewayStub {
    let stub = this.stubs.get(index);
    if (!stub) this.stubs.set(index, (stub = gatewayStub(this.env, this.tenantId(), index)));
    return stub;
  }

  /** Sends `frame` to the sockets of `userIds`; `count` answers the tenant's gateway count, or its pending read. */
  send(
    count: () => number | Promise<number>,
    userIds: Iterable<string>,
    frame: string,
    opts: DeliveryOptions = {},
  ): void {
    const users = [...userIds];
    if (users.length === 0) return;
    const gateways = count();
    // Each gateway's delivery continues the sender's trace (docs/operations.md, "Traces").
    const delivery = { ...opts, traceparent: currentTraceparent() ?? undefined };
    if (typeof gateways === "number" && !this.waiting) return this.dispatch(gateways, users, frame, delivery);
    const next = (this.waiting ?? Promise.resolve())
      .then(() => gateways)
      .then(
        (n) => this.dispatch(n, users, frame, delivery),
        (err: unknown) => console.error(JSON.stringify({ msg: "fanout failed", error: String(err) })),
      );
    this.waiting = next;
    void next.then(() => {
      if (this.waiting === next) this.waiting = undefined;
    });
  }

  private dispatch(gateways: number, users: string[], frame: string, opts: DeliveryOptions): void {
    const byGateway = new Map<number, string[]>();
    if (this.hashedFor !== gateways || this.hashed.size > HASHED_MAX) {
      this.hashed.clear();
      this.hashedFor = gateways;
    }
    for (const u of users) {
      let g = this.hashed.get(u);
      if (g === undefined) this.hashed.set(u, (g = gatewayOf(u, gateways)));
      const list = byGateway.get(g);
      if (list) list.push(u);
      else byGateway.set(g, [u]);
    }
    for (const [g, members] of byGateway) {
      const prev = this.chains.get(g) ?? Promise.resolve();
      const next = prev.then(async () => {
        try {
          await this.gateway(g).deliver(frame, members, opts);
        } catch (err) {
          this.stubs.delete(g);
          console.error(JSON.stringify({ msg: "fanout failed", gateway: g, error: String(err) }));
        }
      });
      this.chains.set(g, next);
      // Forget settled chains so the map only holds gateways with deliveries in flight.
      void next.then(() => {
        if (this.chains.get(g) === next) this.chains.delete(g);
      });
    }
  }
}
