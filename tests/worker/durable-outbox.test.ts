import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { doName } from "../../src/durable/names";
import { OUTBOX_COALESCE_MS } from "../../src/durable/outbox";
import { as, registerUser } from "./auth-helpers";
import { call, createTenant } from "./helpers";
import { group } from "./socket-helpers";

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a Durable Object's outbox", () => {
  it("publishes a burst within the coalescing window, deletes what it sent, and keeps a backstop alarm for a crash before publishing", async () => {
    const tenant = await createTenant();
    const [a, b] = [await registerUser(tenant.slug), await registerUser(tenant.slug)];
    const id = await group(tenant.slug, a, [b]);
    const stub = env.CONVERSATION.get(env.CONVERSATION.idFromName(doName(tenant.id, id)));
    const burst = await Promise.all(
      [1, 2, 3, 4, 5].map((i) =>
        call(`/v1/conversations/${id}/messages`, {
          method: "POST",
          ...as(tenant.slug, a),
          json: { clientId: `c${i}`, body: { text: `m${i}` } },
        }),
      ),
    );
    expect(burst.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    const count = () =>
      runInDurableObject(stub, (_o, state) => ({
        events: state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM events").one().n,
      }));
    // Unpublished rows wait in the table (at most the coalescing window), then go out and are deleted.
    const end = Date.now() + 5000;
    while ((await count()).events > 0 && Date.now() < end) await pause(OUTBOX_COALESCE_MS);
    expect((await count()).events).toBe(0);
    const alarm = await runInDurableObject(stub, (_o, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    // The backstop finds nothing left to send: the alarm runs clean and the table stays empty.
    await runInDurableObject(stub, async (o) => {
      await (o as unknown as { alarm(): Promise<void> }).alarm();
    });
    expect((await count()).events).toBe(0);
  });
});
