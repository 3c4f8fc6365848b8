import type { NotificationRow } from "../../db/tenant/notifications";

/** A notification as clients see it (HTTP and the realtime `notification` frame). */
export interface NotificationView {
  id: string;
  type: string;
  title: string;
  body: string;
  actorId: string | null;
  /** How many events this entry stands for (a collapsed burst). */
  count: number;
  data: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
  readAt: string | null;
}

/** Renders a row: a collapsed burst shows its collapsed title with the count (and the others) filled in. */
export function notificationView(r: NotificationRow): NotificationView {
  const { collapsedTitle, ...data } = JSON.parse(r.data) as Record<string, unknown> & { collapsedTitle?: string };
  const title =
    r.count > 1 && typeof collapsedTitle === "string"
      ? collapsedTitle.replaceAll("{count}", String(r.count)).replaceAll("{others}", String(r.count - 1))
      : r.title;
  return {
    id: r.id,
    type: r.type,
    title,
    body: r.body,
    actorId: r.actorId,
    count: r.count,
    data,
    createdAt: new Date(r.createdAt).toISOString(),
    updatedAt: new Date(r.updatedAt).toISOString(),
    readAt: r.readAt === null ? null : new Date(r.readAt).toISOString(),
  };
}
