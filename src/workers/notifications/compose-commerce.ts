import { z } from "zod";
import type { TenantConfig } from "../../lib/tenant-config";
import { PoisonError, type CloudEvent } from "../events/queues";
import type { Draft, NotificationType } from "./drafts";
import { mailTime } from "./email";
import { formatMoney } from "./money-format";

const id = z.string().min(1).max(64);
/** Minor units (zod's int() is a safe integer: a larger number has already lost digits). */
const minor = z.number().int();
const currency = z.string().min(1).max(16);
const level = z.number().int().min(0).max(100);
const PaymentSucceeded = z.object({ topUpId: id, userId: id, amount: minor, currency, transactionId: id.optional() });
const PaymentFailed = z.object({
  topUpId: id,
  userId: id,
  amount: minor,
  currency,
  reason: z.string().max(500).default("payment_failed"),
});
const OrderRefunded = z.object({
  orderId: id,
  userId: id,
  total: minor,
  currency,
  reason: z.string().max(500).default(""),
});
const VipChanged = z.object({
  userId: id,
  level,
  previousLevel: level,
  expiresAt: z.string().datetime().nullable(),
  reason: z.enum(["purchase", "refund", "expired", "started"]),
});
const VipExpiring = z.object({
  userId: id,
  level,
  name: z.string().max(40).nullish(),
  expiresAt: z.string().datetime(),
});

/** The commerce events that notify their user; `order.paid` is not one (the user just did it and saw the answer). */
export const COMMERCE_EVENTS = new Set([
  "payment.succeeded",
  "payment.failed",
  "order.refunded",
  "vip.changed",
  "vip.expiring",
]);

function parse<T>(schema: z.ZodType<T>, event: CloudEvent): T {
  const r = schema.safeParse(event.data);
  if (!r.success) throw new PoisonError(`bad data for ${event.type}: ${r.error.issues[0]?.message ?? "invalid"}`);
  return r.data;
}

/** A notice to one user from the shop: no actor, no collapsing (each event is its own entry). */
const notice = (
  userId: string,
  type: NotificationType,
  title: string,
  body: string,
  data: Record<string, unknown>,
): Draft[] => [{ userId, type, groupKey: null, actorId: null, title, body, data }];

/**
 * A level's display name from the tenant's config, as `vipStatus` names it: a level removed from
 * the config since it was bought counts as the highest configured level below it.
 */
function levelName(config: TenantConfig, n: number): string {
  const def = [...config.vip.levels].reverse().find((l) => l.level <= n);
  return capitalised(def?.name ?? (n > 0 ? `level ${n}` : "VIP"));
}

/** Level names are configured as identifiers ("silver"); a sentence starts them upper-case. */
const capitalised = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

const until = (expiresAt: string | null) => (expiresAt ? `Valid until ${mailTime(Date.parse(expiresAt))}.` : "");

/** What a vip.changed says, by direction and reason. */
function vipChangeText(d: z.infer<typeof VipChanged>, config: TenantConfig): { title: string; body: string } {
  const now = levelName(config, d.level);
  const before = levelName(config, d.previousLevel);
  if (d.level === 0) {
    return d.reason === "refund"
      ? { title: `Your ${before} membership ended after a refund`, body: "" }
      : { title: `Your ${before} membership has ended`, body: "Renew it to get its benefits back." };
  }
  if (d.level === d.previousLevel) {
    const how =
      d.reason === "purchase" ? "was extended" : d.reason === "refund" ? "was shortened after a refund" : "changed";
    return { title: `Your ${now} membership ${how}`, body: until(d.expiresAt) };
  }
  if (d.level > d.previousLevel) {
    const title = d.reason === "started" ? `Your ${now} membership has started` : `Your membership is now ${now}`;
    return { title, body: until(d.expiresAt) };
  }
  // Down to a lower level that is still running (a queued lower level, or what a refund left).
  return d.reason === "refund"
    ? { title: `After a refund your membership is now ${now}`, body: until(d.expiresAt) }
    : { title: `Your ${before} membership has ended`, body: `You keep ${now}. ${until(d.expiresAt)}` };
}

/**
 * What a commerce event means for its user's inbox (docs/notifications.md): money that arrived
 * or did not, a refund, a membership that changed or is about to end. Amounts are shown in the
 * currency's own decimals ("19.99 CNY", the tenant's exponent for its virtual currencies); data
 * carries the ids a client deep-links with.
 */
export function commerceDrafts(event: CloudEvent, config: TenantConfig): Draft[] {
  const money = (amount: number, code: string) => formatMoney(amount, code, config.commerce.virtualCurrencies);
  switch (event.type) {
    case "payment.succeeded": {
      const d = parse(PaymentSucceeded, event);
      const m = money(d.amount, d.currency);
      return notice(d.userId, "payment_succeeded", `Top-up of ${m} received`, `${m} was added to your wallet.`, {
        topUpId: d.topUpId,
        amount: d.amount,
        currency: d.currency,
        ...(d.transactionId ? { transactionId: d.transactionId } : {}),
      });
    }
    case "payment.failed": {
      const d = parse(PaymentFailed, event);
      const m = money(d.amount, d.currency);
      return notice(
        d.userId,
        "payment_failed",
        `Top-up of ${m} failed`,
        `The payment did not go through (${d.reason}), so nothing was added to your wallet. You can try again.`,
        { topUpId: d.topUpId, amount: d.amount, currency: d.currency, reason: d.reason },
      );
    }
    case "order.refunded": {
      const d = parse(OrderRefunded, event);
      const m = money(d.total, d.currency);
      const reason = d.reason ? ` Reason: ${d.reason}` : "";
      return notice(d.userId, "order_refunded", "Your order was refunded", `${m} is back in your wallet.${reason}`, {
        orderId: d.orderId,
        total: d.total,
        currency: d.currency,
      });
    }
    case "vip.changed": {
      const d = parse(VipChanged, event);
      const { title, body } = vipChangeText(d, config);
      return notice(d.userId, "vip_changed", title, body, {
        level: d.level,
        previousLevel: d.previousLevel,
        expiresAt: d.expiresAt,
        reason: d.reason,
      });
    }
    case "vip.expiring": {
      const d = parse(VipExpiring, event);
      const name = d.name ? capitalised(d.name) : levelName(config, d.level);
      return notice(
        d.userId,
        "vip_expiring",
        `Your ${name} membership expires soon`,
        `It ends on ${mailTime(Date.parse(d.expiresAt))}. Renew it to keep its benefits.`,
        { level: d.level, expiresAt: d.expiresAt },
      );
    }
    default:
      return [];
  }
}
