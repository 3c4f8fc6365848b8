import { sql, type SQL } from "drizzle-orm";
import type { TenantDb } from "../client";

/**
 * The tenant DB's records of one user, by kind, as a data export writes them (docs/privacy.md,
 * "Export"): one JSON file per kind. Each kind is read in pages by rowid, so a user with 100,000
 * messages is read a page at a time and never held whole.
 */
const KINDS = {
  follows: (
    u: string,
  ) => sql`SELECT rowid AS _r, follower_id AS followerId, followee_id AS followeeId, created_at AS createdAt
    FROM follows WHERE follower_id = ${u} OR followee_id = ${u}`,
  conversations: (u: string) => sql`SELECT rowid AS _r, conversation_id AS conversationId, joined_at AS joinedAt
    FROM conversation_members WHERE user_id = ${u}`,
  messages: (
    u: string,
  ) => sql`SELECT rowid AS _r, conversation_id AS conversationId, seq, id, kind, body, sent_at AS sentAt,
    edited_at AS editedAt, recalled_at AS recalledAt FROM archived_messages WHERE sender_id = ${u}`,
  files: (
    u: string,
  ) => sql`SELECT rowid AS _r, id, purpose, name, content_type AS contentType, size, sha256, created_at AS createdAt,
    r2_key AS r2Key FROM files WHERE owner_id = ${u} AND status = 'ready'`,
  notifications: (u: string) => sql`SELECT rowid AS _r, id, type, title, body, data, count, created_at AS createdAt,
    read_at AS readAt FROM notifications WHERE user_id = ${u}`,
  posts: (
    u: string,
  ) => sql`SELECT rowid AS _r, id, title, body, tags, media, visibility, status, created_at AS createdAt,
    published_at AS publishedAt, edited_at AS editedAt, deleted_at AS deletedAt FROM posts
    WHERE author_id = ${u}`,
  comments: (u: string) => sql`SELECT rowid AS _r, id, post_id AS postId, parent_id AS parentId, body, status,
    created_at AS createdAt, deleted_at AS deletedAt FROM comments WHERE author_id = ${u}`,
  likes: (u: string) => sql`SELECT rowid AS _r, post_id AS postId, created_at AS createdAt FROM post_likes
    WHERE user_id = ${u}`,
  bookmarks: (u: string) => sql`SELECT rowid AS _r, post_id AS postId, created_at AS createdAt FROM post_bookmarks
    WHERE user_id = ${u}`,
  wallet: (
    u: string,
  ) => sql`SELECT rowid AS _r, id, transaction_id AS transactionId, currency, amount, balance_after AS balanceAfter,
    kind, order_id AS orderId, created_at AS createdAt FROM ledger_entries WHERE user_id = ${u}`,
  orders: (
    u: string,
  ) => sql`SELECT rowid AS _r, id, status, currency, total, items, created_at AS createdAt, paid_at AS paidAt,
    refunded_at AS refundedAt, refund_reason AS refundReason FROM orders WHERE user_id = ${u}`,
} satisfies Record<string, (u: string) => SQL>;

export type ExportKind = keyof typeof KINDS;
export const EXPORT_KINDS = Object.keys(KINDS) as ExportKind[];

/** One page of a kind's records after rowid `after`; `last` is the rowid to go on from. */
export async function exportPage(
  db: TenantDb,
  kind: ExportKind,
  userId: string,
  after: number,
  limit: number,
): Promise<{ rows: Record<string, unknown>[]; last: number }> {
  const rows = await db.all<Record<string, unknown> & { _r: number }>(
    sql`SELECT * FROM (${KINDS[kind](userId)}) WHERE _r > ${after} ORDER BY _r LIMIT ${limit}`,
  );
  return { rows: rows.map(({ _r, ...r }) => r), last: rows.at(-1)?._r ?? after };
}
