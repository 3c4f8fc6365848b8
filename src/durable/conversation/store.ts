import { OUTBOX_PUBLISHED_CLEANUP, OUTBOX_TABLE_SQL } from "../outbox";
import type { DoMigration } from "../storage-migrations";
import type { LogKind, MessageView } from "../protocol/frames";
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
  // v2: admins (a role value), per-member mute, edited and recalled messages.
  (sql) => {
    sql.exec("ALTER TABLE members ADD COLUMN muted INTEGER NOT NULL DEFAULT 0");
    sql.exec("ALTER TABLE messages ADD COLUMN edited_at INTEGER");
    sql.exec("ALTER TABLE messages ADD COLUMN recalled_at INTEGER");
  },
  // v3: the outbox of domain events (message.created for every log entry).
  (sql) => sql.exec(OUTBOX_TABLE_SQL),
  // v4: file messages by file id, for members' download access (hasFileMessage).
  (sql) => sql.exec("CREATE INDEX messages_by_file ON messages (json_extract(body, '$.fileId')) WHERE kind = 'file'"),
  // v5: published events are deleted on publish; drop those kept before.
  OUTBOX_PUBLISHED_CLEANUP,
  // v6: messages of an erased sender, anonymised (docs/privacy.md).
  (sql) => sql.exec("ALTER TABLE messages ADD COLUMN erased_at INTEGER"),
];

interface MessageRow extends Record<string, SqlStorageValue> {
  seq: number;
  id: string;
  sender_id: string;
  client_id: string;
  kind: string;
  body: string;
  sent_at: number;
  edited_at: number | null;
  recalled_at: number | null;
  erased_at: number | null;
}

const view =
  (conversationId: string) =>
  (r: MessageRow): MessageView => {
    const v: MessageView = {
      conversationId,
      seq: r.seq,
      messageId: r.id,
      senderId: r.sender_id,
      kind: r.kind as LogKind,
      body: r.recalled_at === null && r.erased_at === null ? (JSON.parse(r.body) as unknown) : null,
      sentAt: new Date(r.sent_at).toISOString(),
    };
    if (r.edited_at !== null) v.editedAt = new Date(r.edited_at).toISOString();
    if (r.recalled_at !== null) v.recalled = true;
    if (r.erased_at !== null) v.senderDeleted = true;
    return v;
  };

export function readMeta(sql: SqlStorage): Map<string, string> {
  return new Map(
    sql
      .exec<{ key: string; value: string }>("SELECT key, value FROM meta")
      .toArray()
      .map((r) => [r.key, r.value]),
  );
}

export function writeMeta(sql: SqlStorage, entries: Record<string, string>): void {
  for (const [k, v] of Object.entries(entries)) {
    sql.exec(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      k,
      v,
    );
  }
}

export function loadMembers(sql: SqlStorage): Map<string, MemberView> {
  const rows = sql
    .exec<{ user_id: string; role: string; joined_at: number; read_seq: number; muted: number }>(
      "SELECT * FROM members ORDER BY joined_at, user_id",
    )
    .toArray();
  return new Map(
    rows.map((r) => [
      r.user_id,
      {
        userId: r.user_id,
        role: r.role as MemberRole,
        joinedAt: r.joined_at,
        readSeq: r.read_seq,
        muted: r.muted === 1,
      },
    ]),
  );
}

export function insertMember(sql: SqlStorage, m: MemberView): void {
  sql.exec(
    "INSERT OR IGNORE INTO members (user_id, role, joined_at, read_seq, muted) VALUES (?, ?, ?, ?, ?)",
    m.userId,
    m.role,
    m.joinedAt,
    m.readSeq,
    m.muted ? 1 : 0,
  );
}

export function deleteMember(sql: SqlStorage, userId: string): void {
  sql.exec("DELETE FROM members WHERE user_id = ?", userId);
}

export function setRole(sql: SqlStorage, userId: string, role: MemberRole): void {
  sql.exec("UPDATE members SET role = ? WHERE user_id = ?", role, userId);
}

export function setMuted(sql: SqlStorage, userId: string, muted: boolean): void {
  sql.exec("UPDATE members SET muted = ? WHERE user_id = ?", muted ? 1 : 0, userId);
}

/** A stored message by id (raw: kind, sender, time, state), or undefined. */
export function findMessage(sql: SqlStorage, conversationId: string, id: string): MessageView | undefined {
  const row = sql.exec<MessageRow>("SELECT * FROM messages WHERE id = ?", id).toArray()[0];
  return row ? view(conversationId)(row) : undefined;
}

/** Replaces a message's body (the log keeps the `edit` event; history shows the latest body). */
export function markEdited(sql: SqlStorage, id: string, body: unknown, at: number): void {
  sql.exec("UPDATE messages SET body = ?, edited_at = ? WHERE id = ?", JSON.stringify(body), at, id);
}

/** Drops a message's body for good and marks it recalled. */
export function markRecalled(sql: SqlStorage, id: string, at: number): void {
  sql.exec("UPDATE messages SET body = 'null', recalled_at = ? WHERE id = ?", at, id);
}

/**
 * Removes the bodies of everything a sender wrote (messages and the bodies their edits carried);
 * the entries keep their seqs, so the log stays gap-free. Answers how many entries changed.
 */
export function anonymizeSender(sql: SqlStorage, senderId: string, at: number): number {
  return sql.exec(
    "UPDATE messages SET body = 'null', erased_at = ? WHERE sender_id = ? AND kind IN ('text', 'custom', 'file', 'edit') AND erased_at IS NULL",
    at,
    senderId,
  ).rowsWritten;
}

/**
 * Deletes up to `limit` entries sent before `before` (retention), never the latest one: seq is
 * the rowid, and keeping the highest row keeps every future seq above every past one.
 */
export function pruneBefore(sql: SqlStorage, before: number, limit: number): number {
  return sql.exec(
    `DELETE FROM messages WHERE seq IN (SELECT seq FROM messages WHERE sent_at < ?
       AND seq < (SELECT max(seq) FROM messages) ORDER BY seq LIMIT ?)`,
    before,
    limit,
  ).rowsWritten;
}

export function setReadSeq(sql: SqlStorage, userId: string, seq: number): void {
  sql.exec("UPDATE members SET read_seq = ? WHERE user_id = ?", seq, userId);
}

export function latestSeq(sql: SqlStorage): number {
  return sql.exec<{ s: number | null }>("SELECT MAX(seq) AS s FROM messages").one().s ?? 0;
}

/** The message a sender already stored under this client id (a retried send). */
export function findByClientId(
  sql: SqlStorage,
  conversationId: string,
  senderId: string,
  clientId: string,
): MessageView | undefined {
  const row = sql
    .exec<MessageRow>("SELECT * FROM messages WHERE sender_id = ? AND client_id = ?", senderId, clientId)
    .toArray()[0];
  return row ? view(conversationId)(row) : undefined;
}

export function appendMessage(
  sql: SqlStorage,
  conversationId: string,
  m: { id: string; senderId: string; clientId: string; kind: LogKind; body: unknown; sentAt: number },
): MessageView {
  const row = sql
    .exec<MessageRow>(
      "INSERT INTO messages (id, sender_id, client_id, kind, body, sent_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
      m.id,
      m.senderId,
      m.clientId,
      m.kind,
      JSON.stringify(m.body),
      m.sentAt,
    )
    .one();
  return view(conversationId)(row);
}

/** Messages with after < seq < before, ascending; `newest` takes the page next to `before`. */
export function messageRange(
  sql: SqlStorage,
  conversationId: string,
  q: { after: number; before: number; limit: number; newest: boolean },
): MessageView[] {
  const order = q.newest ? "DESC" : "ASC";
  const rows = sql
    .exec<MessageRow>(
      `SELECT * FROM messages WHERE seq > ? AND seq < ? ORDER BY seq ${order} LIMIT ?`,
      q.after,
      q.before,
      q.limit,
    )
    .toArray();
  if (q.newest) rows.reverse();
  return rows.map(view(conversationId));
}

/** Whether a file message, not recalled, references this file (recalling it withdraws members' access). */
export function hasFileMessage(sql: SqlStorage, fileId: string): boolean {
  return (
    sql
      .exec(
        "SELECT 1 FROM messages WHERE kind = 'file' AND json_extract(body, '$.fileId') = ? AND recalled_at IS NULL LIMIT 1",
        fileId,
      )
      .toArray().length > 0
  );
}

/** Messages (text, custom and file, not recalled) after the read cursor that others sent; events do not count. */
export function unreadCount(sql: SqlStorage, userId: string, readSeq: number): number {
  return sql
    .exec<{ n: number }>(
      "SELECT COUNT(*) AS n FROM messages WHERE seq > ? AND sender_id != ? AND kind IN ('text', 'custom', 'file') AND recalled_at IS NULL",
      readSeq,
      userId,
    )
    .one().n;
}
