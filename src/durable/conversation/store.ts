import type { DoMigration } from "../storage-migrations";
import type { MessageKind, MessageView } from "./frames";
import type { MemberRole, MemberView } from "./types";

/** Storage schema of a Conversation object (v1): facts, members with read cursors, the log. */
export const conversationMigrations: readonly DoMigration[] = [
  (sql) => {
    sql.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
    sql.exec(`CREATE TABLE members (user_id TEXT PRIMARY KEY, role TEXT NOT NULL, joined_at INTEGER NOT NULL,
      read_seq INTEGER NOT NULL DEFAULT 0)`);
    // seq is the rowid: appends are strictly increasing and, since the object is single-threaded
    // and every append is one synchronous statement, gap-free.
    sql.exec(`CREATE TABLE messages (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, sender_id TEXT NOT NULL,
      client_id TEXT NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL, sent_at INTEGER NOT NULL,
      UNIQUE (sender_id, client_id))`);
  },
];

interface MessageRow extends Record<string, SqlStorageValue> {
  seq: number; id: string; sender_id: string; client_id: string; kind: string; body: string; sent_at: number;
}

const view = (conversationId: string) => (r: MessageRow): MessageView => ({
  conversationId, seq: r.seq, messageId: r.id, senderId: r.sender_id, kind: r.kind as MessageKind,
  body: JSON.parse(r.body) as unknown, sentAt: new Date(r.sent_at).toISOString(),
});

export function readMeta(sql: SqlStorage): Map<string, string> {
  return new Map(sql.exec<{ key: string; value: string }>("SELECT key, value FROM meta").toArray().map((r) => [r.key, r.value]));
}

export function writeMeta(sql: SqlStorage, entries: Record<string, string>): void {
  for (const [k, v] of Object.entries(entries)) {
    sql.exec("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", k, v);
  }
}

export function loadMembers(sql: SqlStorage): Map<string, MemberView> {
  const rows = sql.exec<{ user_id: string; role: string; joined_at: number; read_seq: number }>("SELECT * FROM members").toArray();
  return new Map(rows.map((r) => [r.user_id, { userId: r.user_id, role: r.role as MemberRole, joinedAt: r.joined_at, readSeq: r.read_seq }]));
}

export function insertMember(sql: SqlStorage, m: MemberView): void {
  sql.exec("INSERT OR IGNORE INTO members (user_id, role, joined_at, read_seq) VALUES (?, ?, ?, ?)", m.userId, m.role, m.joinedAt, m.readSeq);
}

export function setReadSeq(sql: SqlStorage, userId: string, seq: number): void {
  sql.exec("UPDATE members SET read_seq = ? WHERE user_id = ?", seq, userId);
}

export function latestSeq(sql: SqlStorage): number {
  return sql.exec<{ s: number | null }>("SELECT MAX(seq) AS s FROM messages").one().s ?? 0;
}

/** The message a sender already stored under this client id (a retried send). */
export function findByClientId(sql: SqlStorage, conversationId: string, senderId: string, clientId: string): MessageView | undefined {
  const row = sql.exec<MessageRow>("SELECT * FROM messages WHERE sender_id = ? AND client_id = ?", senderId, clientId).toArray()[0];
  return row ? view(conversationId)(row) : undefined;
}

export function appendMessage(
  sql: SqlStorage, conversationId: string, m: { id: string; senderId: string; clientId: string; kind: MessageKind; body: unknown; sentAt: number },
): MessageView {
  const row = sql
    .exec<MessageRow>(
      "INSERT INTO messages (id, sender_id, client_id, kind, body, sent_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
      m.id, m.senderId, m.clientId, m.kind, JSON.stringify(m.body), m.sentAt,
    )
    .one();
  return view(conversationId)(row);
}

/** Messages with after < seq < before, ascending; `newest` takes the page next to `before`. */
export function messageRange(sql: SqlStorage, conversationId: string, q: { after: number; before: number; limit: number; newest: boolean }): MessageView[] {
  const order = q.newest ? "DESC" : "ASC";
  const rows = sql
    .exec<MessageRow>(`SELECT * FROM messages WHERE seq > ? AND seq < ? ORDER BY seq ${order} LIMIT ?`, q.after, q.before, q.limit)
    .toArray();
  if (q.newest) rows.reverse();
  return rows.map(view(conversationId));
}

export function unreadCount(sql: SqlStorage, userId: string, readSeq: number): number {
  return sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM messages WHERE seq > ? AND sender_id != ?", readSeq, userId).one().n;
}
