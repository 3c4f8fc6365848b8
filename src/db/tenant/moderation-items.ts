import { sql, type SQL } from "drizzle-orm";
import type { TenantDb } from "../client";
import { type DomainEvent, outboxInsertIf } from "./outbox";

/** Moderation items (migrations/tenant/0028, docs/ai.md Moderation): the review queue. */
export type TargetType = "post" | "comment" | "message" | "nickname" | "bio";

export interface NewItem {
  id: string;
  targetType: TargetType;
  targetId: string;
  conversationId?: string | null;
  authorId: string;
  excerpt: string;
  autoDecision: "review" | "block";
  categories: string[];
  scores: Record<string, number>;
  provider: string;
  degraded: boolean;
  /** `open` (held for review) or `blocked` (the pipeline refused and the target is gone). */
  status: "open" | "blocked";
  now: number;
}

export interface ItemRow {
  id: string;
  targetType: TargetType;
  targetId: string;
  conversationId: string | null;
  authorId: string;
  excerpt: string;
  autoDecision: "review" | "block";
  categories: string;
  scores: string;
  provider: string;
  degraded: number;
  status: "open" | "allowed" | "blocked";
  decidedBy: string | null;
  decidedAt: number | null;
  note: string | null;
  appealStatus: "open" | "upheld" | "overturned" | null;
  appealText: string | null;
  appealedAt: number | null;
  version: number;
  createdAt: number;
  updatedAt: number;
}

const COLUMNS = sql`id, target_type AS targetType, target_id AS targetId, conversation_id AS conversationId,
  author_id AS authorId, excerpt, auto_decision AS autoDecision, categories, scores, provider, degraded, status,
  decided_by AS decidedBy, decided_at AS decidedAt, note, appeal_status AS appealStatus, appeal_text AS appealText,
  appealed_at AS appealedAt, version, created_at AS createdAt, updated_at AS updatedAt`;

/**
 * The statement that files an item, unless the target has a live one already (a held post edited
 * while held keeps its item; the partial unique index is the guard).
 */
export function itemInsertSql(i: NewItem): SQL {
  // A block by the pipeline itself is decided at once, by `moderation`.
  const decided = i.status === "blocked";
  return sql`INSERT INTO moderation_items (id, target_type, target_id, conversation_id, author_id, excerpt,
      auto_decision, categories, scores, provider, degraded, status, decided_by, decided_at, created_at, updated_at)
    VALUES (${i.id}, ${i.targetType}, ${i.targetId}, ${i.conversationId ?? null}, ${i.authorId}, ${i.excerpt},
      ${i.autoDecision}, ${JSON.stringify(i.categories)}, ${JSON.stringify(i.scores)}, ${i.provider},
      ${i.degraded ? 1 : 0}, ${i.status}, ${decided ? "moderation" : null}, ${decided ? i.now : null}, ${i.now}, ${i.now})
    ON CONFLICT DO NOTHING`;
}

/** Closes a target's open item as a moderator's action elsewhere decided it (approve, remove). */
export function closeItemsSql(
  targetType: TargetType,
  targetId: string,
  status: "allowed" | "blocked",
  by: string,
  at: number,
): SQL {
  return sql`UPDATE moderation_items SET status = ${status}, decided_by = ${by}, decided_at = ${at},
      version = version + 1, updated_at = ${at}
    WHERE target_type = ${targetType} AND target_id = ${targetId} AND status = 'open'`;
}

export async function findItem(db: TenantDb, id: string): Promise<ItemRow | undefined> {
  const [row] = await db.all<ItemRow>(sql`SELECT ${COLUMNS} FROM moderation_items WHERE id = ${id}`);
  return row;
}

/** The live item of a target, if any. */
export async function liveItemOf(db: TenantDb, targetType: TargetType, targetId: string): Promise<ItemRow | undefined> {
  const [row] = await db.all<ItemRow>(sql`SELECT ${COLUMNS} FROM moderation_items
    WHERE target_type = ${targetType} AND target_id = ${targetId} AND (status = 'open' OR appeal_status = 'open')`);
  return row;
}

/** A page of the queue: open items and open appeals oldest first, or decided ones newest first. */
export function queuePage(
  db: TenantDb,
  q: { status: "open" | "decided"; type?: TargetType | undefined; limit: number; after?: [number, string] | undefined },
) {
  const type = q.type ? sql`AND target_type = ${q.type}` : sql``;
  if (q.status === "open") {
    const after = q.after ? sql`AND (updated_at, id) > (${q.after[0]}, ${q.after[1]})` : sql``;
    return db.all<ItemRow>(sql`SELECT ${COLUMNS} FROM moderation_items
      WHERE (status = 'open' OR appeal_status = 'open') ${type} ${after} ORDER BY updated_at, id LIMIT ${q.limit}`);
  }
  const after = q.after ? sql`AND (decided_at, id) < (${q.after[0]}, ${q.after[1]})` : sql``;
  return db.all<ItemRow>(sql`SELECT ${COLUMNS} FROM moderation_items
    WHERE decided_at IS NOT NULL AND status <> 'open' AND (appeal_status IS NULL OR appeal_status <> 'open')
      ${type} ${after} ORDER BY decided_at DESC, id DESC LIMIT ${q.limit}`);
}

/**
 * Claims the decision of an item as read (its `version`): a first decision sets the status, an
 * open appeal's decision sets the appeal's outcome. False when another decision came first.
 */
export async function claimDecision(
  db: TenantDb,
  item: ItemRow,
  d: { decision: "allow" | "block"; by: string; note: string | null; at: number },
  event: DomainEvent,
): Promise<boolean> {
  const appeal = item.appealStatus === "open";
  const set = appeal
    ? sql`appeal_status = ${d.decision === "allow" ? "overturned" : "upheld"},
        status = ${d.decision === "allow" ? "allowed" : "blocked"}`
    : sql`status = ${d.decision === "allow" ? "allowed" : "blocked"}`;
  const [res] = await db.batch([
    db.run(sql`UPDATE moderation_items SET ${set}, decided_by = ${d.by}, decided_at = ${d.at},
      note = ${d.note}, version = version + 1, updated_at = ${d.at}
    WHERE id = ${item.id} AND version = ${item.version}`),
    outboxInsertIf(db, event, sql`changes() = 1`, d.at),
  ]);
  return res.rowsAffected === 1;
}

/** Puts a claimed decision back as it was (its effect on the target failed). */
export async function unclaimDecision(db: TenantDb, item: ItemRow): Promise<void> {
  await db.run(sql`UPDATE moderation_items SET status = ${item.status}, appeal_status = ${item.appealStatus},
      decided_by = ${item.decidedBy}, decided_at = ${item.decidedAt}, note = ${item.note},
      version = version + 1, updated_at = ${item.updatedAt}
    WHERE id = ${item.id} AND version = ${item.version + 1}`);
}

/** The author's appeal of a blocked item, once: false when it is not blocked or was appealed. */
export async function appealItem(
  db: TenantDb,
  item: ItemRow,
  text: string,
  at: number,
  event: DomainEvent,
): Promise<boolean> {
  const [res] = await db.batch([
    db.run(sql`UPDATE moderation_items SET appeal_status = 'open', appeal_text = ${text},
      appealed_at = ${at}, version = version + 1, updated_at = ${at}
    WHERE id = ${item.id} AND status = 'blocked' AND appeal_status IS NULL AND version = ${item.version}`),
    outboxInsertIf(db, event, sql`changes() = 1`, at),
  ]);
  return res.rowsAffected === 1;
}
