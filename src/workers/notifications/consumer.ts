import { displayNames } from "../../db/tenant/users";
import { inArray } from "drizzle-orm";
import type { TenantDb } from "../../db/client";
import {
  fromRaw,
  mutedTypesOf,
  notifications,
  unreadCount,
  upsertNotification,
  type NotificationRow,
  type RawRow,
} from "../../db/tenant/notifications";
import { applyOnceReturning } from "../../db/tenant/processed";
import { newId } from "../../lib/ids";

import type { ResolvedTenant } from "../gateway/context";
import type { CloudEvent, Consumer } from "../events/queues";
import { announcementConsumer, adminNoticeDrafts } from "./announce";
import { draftsFor, type Draft } from "./compose";
import { AI_EVENTS, aiDrafts } from "./compose-ai";
import { mailNotifications } from "./email";
import { pushProvider } from "./push";
import { notificationView } from "./view";
import { hubStub } from "../../durable/protocol/stubs";
import { deliverToUser } from "../../durable/protocol/gateways";

export const CONSUMER = "notifications";

/** Drops drafts for muted types and, for messages, for users with a device online (they saw it live). */
async function keep(env: Env, tenant: ResolvedTenant, db: TenantDb, drafts: Draft[]): Promise<Draft[]> {
  const muted = await mutedTypesOf(db, [...new Set(drafts.map((d) => d.userId))]);
  const wanted = drafts.filter((d) => !muted.get(d.userId)?.includes(d.type));
  const online = await Promise.all(
    wanted.map((d) => (d.onlyIfOffline ? hubStub(env, tenant.id, d.userId).connectedDevices() : Promise.resolve(0))),
  );
  return wanted.filter((_, i) => online[i] === 0);
}

/**
 * Tells each user of new rows: a `notification` frame to their online devices, else the push
 * provider. At most once: a redelivered event was already applied and reaches none of this.
 */
export async function announce(env: Env, tenant: ResolvedTenant, db: TenantDb, rows: NotificationRow[]): Promise<void> {
  const via: Record<"realtime" | "push", string[]> = { realtime: [], push: [] };
  const push = pushProvider(env);
  await Promise.all(
    rows.map(async (row) => {
      const view = notificationView(row);
      const unread = await unreadCount(db, row.userId);
      const live = await deliverToUser(
        env,
        tenant,
        row.userId,
        JSON.stringify({ type: "notification", notification: view, unreadCount: unread }),
      );
      if (live > 0) return void via.realtime.push(row.id);
      await push.send({
        tenantId: tenant.id,
        userId: row.userId,
        notificationId: row.id,
        type: row.type,
        title: view.title,
        body: view.body,
        badge: unread,
        data: view.data,
      });
      via.push.push(row.id);
    }),
  );
  for (const [how, ids] of Object.entries(via)) {
    if (ids.length) await db.update(notifications).set({ deliveredVia: how }).where(inArray(notifications.id, ids));
  }
}

async function applyDrafts(
  env: Env,
  event: CloudEvent,
  tenant: ResolvedTenant,
  db: TenantDb,
  all: Draft[],
): Promise<void> {
  const drafts = await keep(env, tenant, db, all);
  if (!drafts.length) return;
  const names = await displayNames(db, [...new Set(drafts.map((d) => d.actorId).filter((x): x is string => !!x))]);
  const now = Date.now();
  const statements = drafts.map((d) => {
    const actor = (d.actorId && names.get(d.actorId)) || "Someone";
    const data = d.collapsedTitle
      ? { ...d.data, collapsedTitle: d.collapsedTitle.replaceAll("{actor}", actor) }
      : d.data;
    return upsertNotification(db, {
      id: newId(now),
      userId: d.userId,
      type: d.type,
      groupKey: d.groupKey,
      actorId: d.actorId,
      title: d.title.replaceAll("{actor}", actor),
      body: d.body,
      data,
      now,
    });
  });
  const results = await applyOnceReturning(db, CONSUMER, event.id, statements, now);
  // A repeat: the first delivery stored the rows and told (and mailed) their users.
  if (!results) return;
  const rows = results.flatMap((r) => (r as RawRow[]).map(fromRaw));
  await announce(env, tenant, db, rows);
  await mailNotifications({ env, tenant, db }, event.id, rows);
}

/** The notification queue's inbox consumer (tenant webhooks are another consumer on the same queue). */
export const notificationConsumer: Consumer = async (event, { env, tenant, db }) => {
  if (event.type === "announcement.created")
    return announcementConsumer(event, tenant, env, db, async (env, tenant, db, rows) => {
      await announce(env, tenant, db, rows);
      await mailNotifications({ env, tenant, db }, event.id, rows);
    });
  const drafts =
    event.type === "webhook.disabled"
      ? await adminNoticeDrafts(db, event)
      : AI_EVENTS.has(event.type)
        ? await aiDrafts(db, event)
        : draftsFor(event, tenant.config);
  if (drafts.length) await applyDrafts(env, event, tenant, db, drafts);
};
