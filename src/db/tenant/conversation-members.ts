import { sql } from "drizzle-orm";
import type { TenantDb } from "../client";

/**
 * Which of `conversationIds` the per-user index (migrations/tenant/0005) lists for `userId`.
 * Client-named conversations are checked here before their Durable Object is addressed: the
 * object would be created (a SQLite file per id) by the mere call, even to say "no such
 * conversation". One indexed read for up to a sync frame's 100 ids.
 */
export async function listedConversations(
  db: TenantDb,
  userId: string,
  conversationIds: string[],
): Promise<Set<string>> {
  if (conversationIds.length === 0) return new Set();
  const rows = await db.all<{ id: string }>(sql`
    SELECT conversation_id AS id FROM conversation_members WHERE user_id = ${userId} AND conversation_id IN ${conversationIds}`);
  return new Set(rows.map((r) => r.id));
}

/**
 * Writes the per-user conversation index in the tenant DB (migrations/tenant/0005): the
 * conversation's row and its members' rows, in one batch.
 */
export async function indexConversation(
  db: TenantDb,
  c: { id: string; type: string; createdBy: string; memberIds: string[]; now: number },
): Promise<void> {
  await db.$client.batch(
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
  db: TenantDb,
  userId: string,
  limit: number,
  before?: [number, string],
): Promise<{ id: string; joinedAt: number }[]> {
  const rs = before
    ? await db.$client.execute({
        sql: `SELECT conversation_id, joined_at FROM conversation_members WHERE user_id = ? AND (joined_at, conversation_id) < (?, ?)
              ORDER BY joined_at DESC, conversation_id DESC LIMIT ?`,
        args: [userId, before[0], before[1], limit],
      })
    : await db.$client.execute({
        sql: "SELECT conversation_id, joined_at FROM conversation_members WHERE user_id = ? ORDER BY joined_at DESC, conversation_id DESC LIMIT ?",
        args: [userId, limit],
      });
  return rs.rows.map((r) => ({ id: String(r.conversation_id), joinedAt: Number(r.joined_at) }));
}

/** Index rows for members added to a conversation (idempotent). */
export async function indexMembers(
  db: TenantDb,
  conversationId: string,
  userIds: string[],
  now: number,
): Promise<void> {
  if (userIds.length === 0) return;
  await db.$client.batch(
    userIds.map((userId) => ({
      sql: "INSERT INTO conversation_members (user_id, conversation_id, joined_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
      args: [userId, conversationId, now],
    })),
    "write",
  );
}

/** Drops the index rows of members who left or were removed (the list skips them anyway). */
export async function unindexMembers(db: TenantDb, conversationId: string, userIds: string[]): Promise<void> {
  if (userIds.length === 0) return;
  await db.$client.batch(
    userIds.map((userId) => ({
      sql: "DELETE FROM conversation_members WHERE user_id = ? AND conversation_id = ?",
      args: [userId, conversationId],
    })),
    "write",
  );
}
