import { currentTraceparent } from "../../lib/tracing/spans";
import { doName } from "../names";
import { type HubStub, hubStub } from "../protocol/stubs";
import type { DeliverOptions } from "./types";

/** Hub stubs a conversation keeps (the largest groups' members). */
const STUBS_MAX = 10_000;

/**
 * Delivers frames to members' hubs. Each member has its own promise chain, so the frames one
 * member receives keep the order they were produced in (seq 5 before seq 6) while members are
 * served in parallel and a slow hub does not hold the others up. A failed delivery is logged
 * and dropped: the devices of that member catch up with `sync` when they notice the gap.
 */
export class Fanout {
  private readonly chains = new Map<string, Promise<void>>();
  /** Members' hub stubs, kept between messages (an id is a hash of the name); dropped after a failure. */
  private readonly stubs = new Map<string, HubStub>();

  constructor(private readonly env: Env) {}

  private hub(tenantId: string, userId: string): HubStub {
    const key = doName(tenantId, userId);
    let stub = this.stubs.get(key);
    if (!stub) {
      if (this.stubs.size >= STUBS_MAX) this.stubs.clear();
      this.stubs.set(key, (stub = hubStub(this.env, tenantId, userId)));
    }
    return stub;
  }

  send(
    tenantId: string,
    userIds: Iterable<string>,
    frame: string,
    opts: (userId: string) => DeliverOptions,
  ): Promise<void>[] {
    const done: Promise<void>[] = [];
    // Each hub's delivery continues the sender's trace (docs/operations.md, "Traces").
    const traceparent = currentTraceparent() ?? undefined;
    for (const userId of userIds) {
      const prev = this.chains.get(userId) ?? Promise.resolve();
      const next = prev.then(async () => {
        try {
          await this.hub(tenantId, userId).deliver(frame, { ...opts(userId), traceparent });
        } catch (err) {
          this.stubs.delete(doName(tenantId, userId));
          console.error(JSON.stringify({ msg: "fanout failed", userId, error: String(err) }));
        }
      });
      this.chains.set(userId, next);
      // Forget settled chains so the map only holds members with deliveries in flight.
      void next.then(() => {
        if (this.chains.get(userId) === next) this.chains.delete(userId);
      });
      done.push(next);
    }
    return done;
  }
}
