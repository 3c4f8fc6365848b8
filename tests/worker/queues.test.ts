import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import worker from "../../src/index";
import { describe, expect, it, vi } from "vitest";
import { call } from "./helpers";

const event = (id: string) => ({
  specversion: "1.0",
  id,
  source: "/tenants/t1",
  type: "user.registered",
  tenantid: "t1",
  time: new Date().toISOString(),
  data: {},
});

describe("queue dispatch", () => {
  it("sends invalid envelopes to the dead-letter queue and acks them; keeps valid ones for retry on a queue without a consumer yet", async () => {
    const marker = crypto.randomUUID();
    // A queue no consumer serves (as a queue added before the Worker that consumes it is deployed).
    const batch = createMessageBatch<unknown>("canopy-future", [
      { id: "m1", timestamp: new Date(), attempts: 1, body: { not: "a cloudevent", marker } },
      { id: "m2", timestamp: new Date(), attempts: 1, body: event("e2") },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual(["m1"]);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(["m2"]);
    // The invalid one really went to the dead-letter queue: its consumer stored it, with the reason.
    await vi.waitFor(
      async () => {
        const list = await (await call("/admin/v1/dead-letters?status=pending&limit=100", { admin: true })).json<{
          items: { body: unknown; reason: string }[];
        }>();
        const dead = list.items.find((d) => JSON.stringify(d.body).includes(marker));
        expect(dead, "the invalid envelope in the dead-letter store").toBeTruthy();
        expect(dead!.reason.length).toBeGreaterThan(0);
      },
      { timeout: 15_000, interval: 250 },
    );
  });
});
