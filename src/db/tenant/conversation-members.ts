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
