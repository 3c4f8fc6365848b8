import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import worker from "../../src/index";
import { describe, expect, it } from "vitest";

const event = (id: string) => ({
  specversion: "1.0", id, source: "/tenants/t1", type: "user.registered", tenantid: "t1", time: new Date().toISOString(), data: {},
});

describe("queue dispatch", () => {
  it("sends invalid envelopes to the dead-letter queue and acks them; keeps valid ones for retry on a queue without a consumer yet", async () => {
    const batch = createMessageBatch<unknown>("canopy-ai", [
      { id: "m1", timestamp: new Date(), attempts: 1, body: { not: "a cloudevent" } },
      { id: "m2", timestamp: new Date(), attempts: 1, body: event("e2") },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual(["m1"]);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(["m2"]);
    expect(env.DEAD_LETTER_QUEUE).toBeDefined();
  });
});
