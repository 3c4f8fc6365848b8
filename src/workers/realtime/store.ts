import type { TenantDbLocation } from "../../db/tenant-db";
import { tenantClient } from "../../db/tenant-db";

/**
 * The per-user conversation index in the tenant DB (migrations/tenant/0005). Raw SQL over the
 * tenant client: the rows are two small tables this service alone reads and writes.
 */
export async function indexConversation(
  loc: TenantDbLocation,
  c: { id: string; type: string; createdBy: string; memberIds: string[]; now: number },
): Promise<void> {
  await tenantClient(loc).batch(
    [
      {
        sql: "INSERT INTO conversations (id, type, created_by, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
        args: [c.id, c.type, c.createdBy, c.now],
      },
      ...c.memberIds.map((userId) => ({
        sql: "INSERT INTO conversation_members (user_id, conversation_id, joined_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        args: [userId, c.id, c.now],
      })),
    ],
    "write",
  );
}

/** A page of a user's conversations, newest joined first; `before` is the last row of the previous page. */
export async function conversationsOf(
  loc: TenantDbLocation,
  userId: string,
  limit: number,
  before?: [number, string],
): Promise<{ id: string; joinedAt: number }[]> {
  const rs = before
    ? await tenantClient(loc).execute({
        sql: `SELECT conversation_id, joined_at FROM conversation_members WHERE user_id = ? AND (joined_at, conversation_id) < (?, ?)
              ORDER BY joined_at DESC, conversation_id DESC LIMIT ?`,
        args: [userId, before[0], before[1], limit],
      })
    : await tenantClient(loc).execute({
        sql: "SELECT conversation_id, joined_at FROM conversation_members WHERE user_id = ? ORDER BY joined_at DESC, conversation_id DESC LIMIT ?",
        args: [userId, limit],
      });
  return rs.rows.map((r) => ({ id: String(r.conversation_id), joinedAt: Number(r.joined_at) }));
}

/** Index rows for members added to a conversation (idempotent). */
export async function indexMembers(
  loc: TenantDbLocation,
  conversationId: string,
  userIds: string[],
  now: number,
): Promise<void> {
  if (userIds.length === 0) return;
  await tenantClient(loc).batch(
    userIds.map((userId) => ({
      sql: "INSERT INTO conversation_members (user_id, conversation_id, joined_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
      args: [userId, conversationId, now],
    })),
    "write",
  );
}

/** Drops the index rows of members who left or were removed (the list skips them anyway). */
export async function unindexMembers(loc: TenantDbLocation, conversationId: string, userIds: string[]): Promise<void> {
  if (userIds.length === 0) return;
  await tenantClient(loc).batch(
    userIds.map((userId) => ({
      sql: "DELETE FROM conversation_members WHERE user_id = ? AND conversation_id = ?",
      args: [userId, conversationId],
    })),
    "write",
  );
}
