import { sql } from "drizzle-orm";
import type { TenantDb } from "../client";

/**
 * Chat sessions, their messages and the audit of every answer (migrations/tenant/0029,
 * docs/ai.md, Chat). A session belongs to one user; every read here is scoped to that user.
 */

export interface ChatSession {
  id: string;
  userId: string;
  title: string;
  status: "open" | "handed_off";
  conversationId: string | null;
  createdAt: number;
  lastMessageAt: number;
}

export interface ChatMessage {
  id: string;
  sessionId: string;
  role: "user" | "assistant";
  content: string;
  status: "complete" | "partial" | "error";
  degraded: boolean;
  sources: { id: string; title: string }[];
  units: number;
  createdAt: number;
}

const SESSION = sql`id, user_id AS userId, title, status, conversation_id AS conversationId,
  created_at AS createdAt, last_message_at AS lastMessageAt`;

/** The user's own session (undefined for another user's or an unknown id). */
export async function findSession(db: TenantDb, id: string, userId: string): Promise<ChatSession | undefined> {
  // all(), not get(): drizzle's get() of raw SQL fails on no row.
  const [row] = await db.all<ChatSession>(
    sql`SELECT ${SESSION} FROM ai_chat_sessions WHERE id = ${id} AND user_id = ${userId}`,
  );
  return row;
}

/** The user's sessions, most recently active first, keyset-paged on (last_message_at, id). */
export function sessionsPage(db: TenantDb, userId: string, limit: number, before?: [number, string]) {
  const after = before
    ? sql`AND (last_message_at < ${before[0]} OR (last_message_at = ${before[0]} AND id < ${before[1]}))`
    : sql``;
  return db.all<ChatSession>(sql`SELECT ${SESSION} FROM ai_chat_sessions WHERE user_id = ${userId} ${after}
    ORDER BY last_message_at DESC, id DESC LIMIT ${limit}`);
}

interface MessageRow extends Omit<ChatMessage, "degraded" | "sources"> {
  degraded: number;
  sources: string;
}

const toMessage = (r: MessageRow): ChatMessage => ({
  ...r,
  degraded: r.degraded === 1,
  sources: JSON.parse(r.sources) as ChatMessage["sources"],
});

/** The last `limit` messages of a session, oldest first. */
export async function messagesOf(db: TenantDb, sessionId: string, limit = 200): Promise<ChatMessage[]> {
  const rows = await db.all<MessageRow>(sql`SELECT * FROM (
      SELECT id, session_id AS sessionId, role, content, status, degraded, sources, units, created_at AS createdAt
      FROM ai_chat_messages WHERE session_id = ${sessionId} ORDER BY created_at DESC, id DESC LIMIT ${limit}
    ) ORDER BY createdAt, id`);
  return rows.map(toMessage);
}

/**
 * Stores the user's message of a turn, creating the session first when it is new (one batch).
 * The session's last_message_at never goes back.
 */
export async function storeQuestion(
  db: TenantDb,
  q: {
    session: Pick<ChatSession, "id" | "userId" | "title">;
    isNew: boolean;
    messageId: string;
    content: string;
    now: number;
  },
): Promise<void> {
  const { session, now } = q;
  await db.batch([
    q.isNew
      ? db.run(sql`INSERT INTO ai_chat_sessions (id, user_id, title, created_at, last_message_at)
          VALUES (${session.id}, ${session.userId}, ${session.title}, ${now}, ${now})`)
      : db.run(
          sql`UPDATE ai_chat_sessions SET last_message_at = max(last_message_at, ${now}) WHERE id = ${session.id}`,
        ),
    db.run(sql`INSERT INTO ai_chat_messages (id, session_id, role, content, created_at)
      VALUES (${q.messageId}, ${session.id}, 'user', ${q.content}, ${now})`),
  ]);
}

/** An answer as it is stored, with what it was made from (the audit row). */
export interface StoredAnswer {
  id: string;
  sessionId: string;
  content: string;
  status: ChatMessage["status"];
  degraded: boolean;
  sources: ChatMessage["sources"];
  units: number;
  prompt: string;
  retrievedIds: string[];
  provider: string;
  model: string | null;
  now: number;
}

/** Stores an answer, its audit row and the session's activity, in one batch. */
export async function storeAnswer(db: TenantDb, a: StoredAnswer): Promise<void> {
  await db.batch([
    db.run(sql`INSERT INTO ai_chat_messages (id, session_id, role, content, status, degraded, sources, units, created_at)
      VALUES (${a.id}, ${a.sessionId}, 'assistant', ${a.content}, ${a.status}, ${a.degraded ? 1 : 0},
        ${JSON.stringify(a.sources)}, ${a.units}, ${a.now})`),
    db.run(sql`INSERT INTO ai_chat_audit (message_id, prompt, retrieved_ids, provider, model, created_at)
      VALUES (${a.id}, ${a.prompt}, ${JSON.stringify(a.retrievedIds)}, ${a.provider}, ${a.model}, ${a.now})`),
    db.run(sql`UPDATE ai_chat_sessions SET last_message_at = max(last_message_at, ${a.now}) WHERE id = ${a.sessionId}`),
  ]);
}

/** The audit row of an answer (for operators and tests). */
export async function auditOf(db: TenantDb, messageId: string) {
  const [row] = await db.all<{
    prompt: string;
    retrievedIds: string;
    provider: string;
    model: string | null;
    createdAt: number;
  }>(
    sql`SELECT prompt, retrieved_ids AS retrievedIds, provider, model, created_at AS createdAt
      FROM ai_chat_audit WHERE message_id = ${messageId}`,
  );
  return row;
}

/** Deletes audit rows created before `before`, a bounded number per call; answers how many. */
export async function sweepChatAudit(db: TenantDb, before: number, max = 1000): Promise<number> {
  const r = await db.run(sql`DELETE FROM ai_chat_audit WHERE message_id IN (
    SELECT message_id FROM ai_chat_audit WHERE created_at < ${before} ORDER BY created_at LIMIT ${max})`);
  return r.rowsAffected;
}

/** Records the support conversation a session was handed to (the first handoff's stays). */
export async function markHandedOff(db: TenantDb, sessionId: string, conversationId: string): Promise<void> {
  await db.run(sql`UPDATE ai_chat_sessions SET status = 'handed_off', conversation_id = coalesce(conversation_id, ${conversationId})
    WHERE id = ${sessionId}`);
}

/** Active users holding the role named `roleName`, at most `limit`, longest-standing first. */
export async function activeRoleHolders(db: TenantDb, roleName: string, limit: number): Promise<string[]> {
  const rows = await db.all<{ id: string }>(sql`SELECT u.id FROM user_roles ur
    JOIN roles r ON r.id = ur.role_id JOIN users u ON u.id = ur.user_id
    WHERE r.name = ${roleName} AND u.status = 'active' ORDER BY u.created_at, u.id LIMIT ${limit}`);
  return rows.map((r) => r.id);
}
