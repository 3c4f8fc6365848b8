import { z } from "zod";
import { activeAdminIds } from "../../db/tenant/users";
import type { TenantDb } from "../../db/client";
import { PoisonError, type CloudEvent } from "../events/queues";
import type { Draft } from "./drafts";

const id = z.string().min(1).max(64);
const QuotaWarning = z.object({
  scope: z.enum(["user", "pool"]),
  level: z.enum(["warning", "critical"]),
  userId: id.nullish(),
  period: z.object({ start: z.string(), end: z.string() }),
  remaining: z.number().int().min(0),
  limit: z.number().int().min(0),
});
const QuotaGranted = z.object({ grantId: id, userId: id, units: z.number().int().min(1), reason: z.string().max(500) });
const ModerationDecided = z.object({
  itemId: id,
  targetType: z.string().max(16),
  targetId: id,
  authorId: id,
  decision: z.enum(["allow", "block"]),
  appeal: z.boolean(),
});

/** The AI service's events that notify someone (docs/ai.md). */
export const AI_EVENTS = new Set(["ai.quota.warning", "ai.quota.granted", "moderation.decided"]);

function parse<T>(schema: z.ZodType<T>, event: CloudEvent): T {
  const r = schema.safeParse(event.data);
  if (!r.success) throw new PoisonError(`bad data for ${event.type}: ${r.error.issues[0]?.message ?? "invalid"}`);
  return r.data;
}

const warningText = (level: "warning" | "critical", remaining: number, whose: string) =>
  level === "critical"
    ? `${whose} AI quota is almost used up: ${remaining} units left`
    : `${whose} AI quota is running low: ${remaining} units left`;

/**
 * Notices of the AI service: a user's quota warnings and grants to the user, a moderation
 * decision to the author; the pool's warnings to the tenant's active owners and admins (at most
 * 50), as webhook.disabled does. One entry per period and level (the group key).
 */
export async function aiDrafts(db: TenantDb, event: CloudEvent): Promise<Draft[]> {
  switch (event.type) {
    case "ai.quota.warning": {
      const d = parse(QuotaWarning, event);
      const data = { scope: d.scope, level: d.level, remaining: d.remaining, limit: d.limit, period: d.period };
      const groupKey = `ai-quota:${d.scope}:${d.period.start}:${d.level}`;
      if (d.scope === "user") {
        if (!d.userId) throw new PoisonError("a user's ai.quota.warning without userId");
        const title = warningText(d.level, d.remaining, "Your");
        return [
          {
            userId: d.userId,
            type: "ai_quota_warning",
            groupKey,
            actorId: null,
            title,
            body: `Resets ${d.period.end}.`,
            data,
          },
        ];
      }
      const title = warningText(d.level, d.remaining, "This app's");
      return (await activeAdminIds(db, 50)).map((userId) => ({
        userId,
        type: "ai_quota_warning" as const,
        groupKey,
        actorId: null,
        title,
        body: `The tenant's pool resets ${d.period.end}.`,
        data,
      }));
    }
    case "ai.quota.granted": {
      const d = parse(QuotaGranted, event);
      return [
        {
          userId: d.userId,
          type: "ai_quota_granted",
          groupKey: null,
          actorId: null,
          title: `You received ${d.units} AI units`,
          body: d.reason,
          data: { grantId: d.grantId, units: d.units },
        },
      ];
    }
    case "moderation.decided": {
      const d = parse(ModerationDecided, event);
      const what = d.targetType === "comment" ? "comment" : d.targetType === "post" ? "post" : d.targetType;
      const title = d.decision === "allow" ? `Your ${what} was approved` : `Your ${what} was removed by a moderator`;
      const body = d.decision === "block" && !d.appeal ? "You can appeal this decision once." : "";
      return [
        {
          userId: d.authorId,
          type: "moderation_decided",
          groupKey: null,
          actorId: null,
          title,
          body,
          data: {
            itemId: d.itemId,
            targetType: d.targetType,
            targetId: d.targetId,
            decision: d.decision,
            appeal: d.appeal,
          },
        },
      ];
    }
    default:
      return [];
  }
}
