import { sql } from "drizzle-orm";
import type { SearchQuery } from "../../lib/search-query";
import type { TenantDb } from "../client";

/** A conversation log entry as the archive stores it. */
export interface ArchivedEntry {
  conversationId: string;
  seq: number;
  id: string;
  senderId: string;
  kind: string;
  body: unknown;
  sentAt: number;
}

const ORIGINAL_KINDS = new Set(["text", "custom", "file"]);

/** What search indexes of a body: a text's text, a file's caption. */
function searchable(kind: string, body: unknown): string | null {
  if (!body || typeof body !== "object") return null;
  const v =
    kind === "text"
      ? (body as { text?: unknown }).text
      : kind === "file"
        ? (body as { caption?: unknown }).caption
        : undefined;
  return typeof v === "string" && v ? v : null;
}

/**
 * Copies one log entry (idempotent: the row is keyed by conversation and seq), then brings the
 * message it concerns up to date from every edit and recall archived so far, so an edit that
 * arrives before its original (a retried delivery) is still applied.
 */
export async function archiveEntry(db: TenantDb, e: ArchivedEntry, blankErasedSender = false): Promise<void> {
  const isChange = e.kind === "edit" || e.kind === "recall";
  const refId =
    isChange && e.body && typeof e.body === "object"
      ? String((e.body as { messageId?: unknown }).messageId ?? "") || null
      : null;
  const text = ORIGINAL_KINDS.has(e.kind) ? searchable(e.kind, e.body) : null;
  const target = refId ?? (ORIGINAL_KINDS.has(e.kind) ? e.id : null);
  // An entry that reaches the archive after its sender's erasure (it was queued before) is
  // stored without its words when the tenant anonymises erased users' messages.
  const erased = blankErasedSender
    ? sql`EXISTS (SELECT 1 FROM users WHERE id = ${e.senderId} AND status = 'deleted')`
    : sql`0`;
  const body = e.body === null ? null : JSON.stringify(e.body);
  const statements = [
    db.run(sql`INSERT INTO archived_messages (conversation_id, seq, id, sender_id, kind, ref_id, body, text, sent_at)
      VALUES (${e.conversationId}, ${e.seq}, ${e.id}, ${e.senderId}, ${e.kind}, ${refId},
        CASE WHEN ${erased} THEN NULL ELSE ${body} END, CASE WHEN ${erased} THEN NULL ELSE ${text} END, ${e.sentAt})
      ON CONFLICT DO NOTHING`),
  ];
  if (target) {
    statements.push(
      db.run(sql`
      UPDATE archived_messages SET
        edited_at = coalesce((SELECT max(x.sent_at) FROM archived_messages x WHERE x.ref_id = ${target} AND x.kind = 'edit'), edited_at),
        recalled_at = (SELECT min(x.sent_at) FROM archived_messages x WHERE x.ref_id = ${target} AND x.kind = 'recall'),
        body = CASE
          WHEN EXISTS (SELECT 1 FROM archived_messages x WHERE x.ref_id = ${target} AND x.kind = 'recall') THEN NULL
          ELSE coalesce((SELECT json_extract(x.body, '$.body') FROM archived_messages x WHERE x.ref_id = ${target} AND x.kind = 'edit' ORDER BY x.seq DESC LIMIT 1), body)
        END
      WHERE id = ${target} AND kind IN ('text', 'custom', 'file')`),
    );
    statements.push(
      db.run(sql`
      UPDATE archived_messages SET text = CASE
          WHEN body IS NULL THEN NULL
          WHEN kind = 'text' THEN json_extract(body, '$.text')
          WHEN kind = 'file' THEN json_extract(body, '$.caption')
          ELSE NULL END
      WHERE id = ${target}`),
    );
  }
  const [first, ...rest] = statements;
  await db.batch([first!, ...rest]);
}

export interface ArchivedRow {
  conversation_id: string;
  seq: number;
  id: string;
  sender_id: string;
  kind: string;
  body: string | null;
  sent_at: number;
  edited_at: number | null;
  recalled_at: number | null;
}

/**
 * Messages matching `q` in the conversations `userId` is a member of, newest first. Three or
 * more characters use the trigram index; shorter queries scan with LIKE (bounded by membership).
 */
export async function searchMessages(
  db: TenantDb,
  userId: string,
  q: { text: SearchQuery; conversationId?: string | undefined; before?: [number, string] | undefined; limit: number },
): Promise<ArchivedRow[]> {
  const conv = q.conversationId ? sql`AND m.conversation_id = ${q.conversationId}` : sql``;
  const page = q.before
    ? sql`AND (m.sent_at < ${q.before[0]} OR (m.sent_at = ${q.before[0]} AND m.id < ${q.before[1]}))`
    : sql``;
  const member = sql`JOIN conversation_members cm ON cm.conversation_id = m.conversation_id AND cm.user_id = ${userId}`;
  const cols = sql`m.conversation_id, m.seq, m.id, m.sender_id, m.kind, m.body, m.sent_at, m.edited_at, m.recalled_at`;
  const phrase = q.text.phrase;
  if (phrase) {
    return db.all<ArchivedRow>(sql`
      SELECT ${cols} FROM archived_messages_fts f JOIN archived_messages m ON m.rowid = f.rowid ${member}
      WHERE archived_messages_fts MATCH ${phrase} AND m.recalled_at IS NULL ${conv} ${page}
      ORDER BY m.sent_at DESC, m.id DESC LIMIT ${q.limit}`);
  }
  const like = q.text.like;
  return db.all<ArchivedRow>(sql`
    SELECT ${cols} FROM archived_messages m ${member}
    WHERE m.text LIKE ${like} ESCAPE '\\' AND m.recalled_at IS NULL ${conv} ${page}
    ORDER BY m.sent_at DESC, m.id DESC LIMIT ${q.limit}`);
}

/**
 * Whether the conversation exists in this tenant: its index row (written when it is created) or
 * its archived log (copied from the tenant's own events) names it.
 */
export async function conversationExists(db: TenantDb, conversationId: string): Promise<boolean> {
  const rows = await db.all<{ one: number }>(sql`
    SELECT 1 AS one WHERE EXISTS (SELECT 1 FROM conversations WHERE id = ${conversationId})
      OR EXISTS (SELECT 1 FROM archived_messages WHERE conversation_id = ${conversationId})`);
  return rows.length > 0;
}

/** A conversation's archived log in seq order, a page at a time (export). */
export async function exportPage(
  db: TenantDb,
  conversationId: string,
  afterSeq: number,
  limit: number,
): Promise<ArchivedRow[]> {
  return db.all<ArchivedRow>(sql`
    SELECT conversation_id, seq, id, sender_id, kind, body, sent_at, edited_at, recalled_at FROM archived_messages
    WHERE conversation_id = ${conversationId} AND seq > ${afterSeq} ORDER BY seq LIMIT ${limit}`);
}
