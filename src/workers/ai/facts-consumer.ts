import { z } from "zod";
import { quotaStub } from "../../durable/protocol/stubs";
import { quotaConfigs, userFacts } from "../ai-core/facts";
import { PoisonError, type Consumer } from "../events/queues";

/** Events after which a user's quota object should know its facts again. */
export const FACT_EVENT_TYPES = ["vip.changed", "order.paid", "order.refunded", "ai.quota.granted"];

const Subject = z.object({ userId: z.string().min(1).max(64) });

/**
 * Pushes a user's fresh facts (VIP bonus, packs left) to their quota object after a VIP change,
 * a paid or refunded order, or a grant: a VIP upgrade counts from the next call rather than when
 * the object's copy expires, and the warning ratio counts new packs. Idempotent by nature (the
 * object stores what the database says now), so a redelivery changes nothing.
 */
export const factsConsumer: Consumer = async (event, s) => {
  const d = Subject.safeParse(event.data);
  if (!d.success) throw new PoisonError(`${event.type}: no userId`);
  const now = Date.now();
  const { userId } = d.data;
  await quotaStub(s.env, s.tenant.id, userId).status({
    owner: { tenantId: s.tenant.id, scope: "user", userId },
    cfg: quotaConfigs(s).user,
    facts: await userFacts(s, userId, now),
    now,
  });
};
