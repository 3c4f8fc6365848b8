import { activeAdminIds } from "../../db/tenant/users";
import { and, eq, inArray, isNull } from "drizzle-orm";
import { z } from "zod";
import type { TenantDb } from "../../db/client";
import {
  announcementRecipients,
  announcements,
  fanOutAnnouncement,
  notifications,
  type NotificationRow,
} from "../../db/tenant/notifications";
import { applyOnce } from "../../db/tenant/processed";
import type { ResolvedTenant } from "../gateway/context";
import { PoisonError, type CloudEvent } from "../events/queues";
import type { Draft } from "./compose";

const PAGE = 100;

type Announce = (env: Env, tenant: ResolvedTenant, db: TenantDb, rows: NotificationRow[]) => Promise<void>;

/**
 * `announcement.created`: one inbox row per recipient in a single INSERT … SELECT (exactly once,
 * with the event's marker), then the recipients are told a page at a time. A redelivery after
 * a crash in the telling pages only re-tells rows that were never delivered.
 */
export async function announcementConsumer(
  event: CloudEvent,
  tenant: ResolvedTenant,
  env: Env,
  db: TenantDb,
  tell: Announce,
): Promise<void> {
  const parsed = z.object({ announcementId: z.string().min(1) }).safeParse(event.data);
  if (!parsed.success) throw new PoisonError("bad data for announcement.created: announcementId missing");
  const a = await db.select().from(announcements).where(eq(announcements.id, parsed.data.announcementId)).get();
  if (!a) throw new PoisonError(`announcement ${parsed.data.announcementId} does not exist`);
  const now = Date.now();
  await applyOnce(db, "notifications", event.id, [fanOutAnnouncement(db, a, { announcementId: a.id }, now)], now);
  for (let after = ""; ; ) {
    const userIds = await announcementRecipients(db, a.id, after, PAGE);
    if (!userIds.length) break;
    const rows = await db
      .select()
      .from(notifications)
      .where(
        and(
          inArray(
            notifications.id,
            userIds.map((u) => `${a.id}.${u}`),
          ),
          isNull(notifications.deliveredVia),
        ),
      )
      .all();
    if (rows.length) await tell(env, tenant, db, rows);
    after = userIds[userIds.length - 1]!;
    if (userIds.length < PAGE) break;
  }
}

const WebhookDisabled = z.object({ endpointId: z.string(), url: z.string(), reason: z.string().optional() });

/** `webhook.disabled`: a notice to the tenant's owners and admins (at most 50 of them). */
export async function adminNoticeDrafts(db: TenantDb, event: CloudEvent): Promise<Draft[]> {
  const d = WebhookDisabled.safeParse(event.data);
  if (!d.success) throw new PoisonError("bad data for webhook.disabled");
  const admins = await activeAdminIds(db, 50);
  return admins.map((userId) => ({
    userId,
    type: "webhook_disabled" as const,
    groupKey: `webhook:${d.data.endpointId}`,
    actorId: null,
    title: "A webhook endpoint was disabled",
    body: `${d.data.url}${d.data.reason ? `: ${d.data.reason}` : ""}`,
    data: d.data,
  }));
}
