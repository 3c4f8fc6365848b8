/**
 * No AI call ran without being charged, and no quota granted more than it had (load/ai.ts),
 * across database restarts, blackholes and lost answers:
 * - per buyer, through `GET /v1/ai/quota` once the load has stopped: the period's `used` never
 *   exceeds its `limit` (the Quota object's allowance);
 * - in the tenant database: no pack (`order_grants` of kind `ai_quota`) has more used and
 *   revoked than its quantity; pack units still held by calls are set apart;
 * - every call answered 200 was charged: answered 200 ≤ allowance used + pack units spent. The
 *   charge may exceed the 200s only by calls whose answer never came (503, none), or by a lease
 *   charged in full when its isolate did not give the rest back (reported as a note).
 */
import { z } from "zod";
import { callWithRetry, type Api } from "../http";
import type { AiLoad } from "../load/ai";
import type { Sqlite } from "../storage";
import type { Buyer, World } from "../world";
import { check, countBy, describeCounts, fail, type Check } from "./check";

const Quota = z
  .object({ limit: z.number(), used: z.number(), reserved: z.number(), packs: z.number(), status: z.string() })
  .loose();
export type QuotaView = z.infer<typeof Quota>;

/** Every buyer's quota as the API shows it after the load (read while workerd still runs). */
export async function aiQuotas(api: Api, world: World): Promise<Map<string, QuotaView>> {
  const out = new Map<string, QuotaView>();
  for (const b of world.buyers) {
    const { last } = await callWithRetry(
      api,
      "verify.ai-quota",
      "GET",
      "/v1/ai/quota",
      { token: b.accessToken },
      Date.now() + 30_000,
    );
    if (last.status !== 200)
      throw new Error(`/v1/ai/quota for ${b.username}: ${last.status ?? last.error} ${last.body}`);
    out.set(b.userId, Quota.parse(last.json));
  }
  return out;
}

const Pack = z.object({ orderId: z.string(), quantity: z.number(), used: z.number(), revoked: z.number() });

function packsOf(tenant: Sqlite, b: Buyer) {
  const packs = tenant.rows(
    Pack,
    `SELECT order_id AS orderId, quantity, used, revoked FROM order_grants WHERE user_id = ? AND kind = 'ai_quota'`,
    b.userId,
  );
  const held =
    tenant.rows(
      z.object({ units: z.number().nullable() }),
      `SELECT sum(h.units) AS units FROM ai_pack_holds h JOIN order_grants g ON g.order_id = h.grant_id
      AND g.kind = 'ai_quota' AND h.source = 'order' WHERE g.user_id = ?`,
      b.userId,
    )[0]!.units ?? 0;
  const recorded = tenant.rows(
    z.object({ n: z.number() }),
    `SELECT count(*) AS n FROM ai_calls WHERE user_id = ? AND feature = 'moderation' AND status = 'ok'`,
    b.userId,
  )[0]!.n;
  return { packs, held, recorded };
}

export function verifyAi(tenant: Sqlite, world: World, load: AiLoad, quotas: Map<string, QuotaView>): Check {
  const c = check("AI quota: no call answered without its charge, no allowance or pack over-spent");
  c.attempted = load.calls.length;
  for (const b of world.buyers) {
    const mine = load.calls.filter((x) => x.buyer === b);
    const ok = mine.filter((x) => x.status === 200).length;
    const unknown = mine.filter((x) => x.status === null || x.status >= 500).length;
    c.acknowledged += ok;
    for (const x of mine)
      if (
        x.status !== null &&
        x.status < 500 &&
        x.status !== 200 &&
        !(x.status === 429 && x.code === "quota_exhausted")
      )
        fail(c, `${b.username}: a moderation answered ${x.status} ${x.code ?? ""}`);
    const q = quotas.get(b.userId);
    if (!q) {
      fail(c, `${b.username}: no quota read`);
      continue;
    }
    if (q.used > q.limit) fail(c, `${b.username}: the allowance used ${q.used} of ${q.limit}`);
    const { packs, held, recorded } = packsOf(tenant, b);
    for (const p of packs)
      if (p.used + p.revoked > p.quantity)
        fail(c, `${b.username}: pack of order ${p.orderId}: used ${p.used} + revoked ${p.revoked} > ${p.quantity}`);
    const packSpent = packs.reduce((n, p) => n + p.used, 0) - held;
    const charged = q.used + packSpent;
    if (ok > charged)
      fail(
        c,
        `${b.username}: ${ok} calls answered 200, but only ${charged} units charged (allowance ${q.used}, packs ${packSpent})`,
      );
    else c.found += ok;
    c.notes.push(
      `${b.username}: ${describeCounts(countBy(mine, (x) => `${x.status ?? "none"}${x.code ? ` ${x.code}` : ""}`))}; charged ${charged} (allowance ${q.used}/${q.limit}, packs ${packSpent} of ${packs.reduce((n, p) => n + p.quantity, 0)} bought, ${held} still held), ${recorded} calls recorded ok; beyond the 200s ${charged - ok} (answers lost: ${unknown}); reserved now ${q.reserved}`,
    );
  }
  return c;
}
