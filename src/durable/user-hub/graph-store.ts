import type { DoMigration } from "../storage-migrations";

/** Storage schema of the friend graph part of a UserHub (v2). */
export const graphMigrations: readonly DoMigration[] = [
  (sql) => {
    sql.exec(`CREATE TABLE friend_requests (
      id TEXT PRIMARY KEY, direction TEXT NOT NULL CHECK (direction IN ('in', 'out')), peer_id TEXT NOT NULL,
      message TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected', 'cancelled', 'refused')))`);
    sql.exec(`CREATE INDEX friend_requests_peer ON friend_requests (peer_id, status)`);
    sql.exec(
      `CREATE TABLE friends (peer_id TEXT PRIMARY KEY, remark TEXT NOT NULL DEFAULT '', group_id TEXT, created_at INTEGER NOT NULL)`,
    );
    sql.exec(`CREATE TABLE friend_groups (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at INTEGER NOT NULL)`);
    sql.exec(`CREATE TABLE blocks (peer_id TEXT PRIMARY KEY, created_at INTEGER NOT NULL)`);
    // Reverse edges: who blocked this user (kept so checks are local).
    sql.exec(`CREATE TABLE blocked_by (peer_id TEXT PRIMARY KEY, created_at INTEGER NOT NULL)`);
    // Messages to other users' hubs not yet acknowledged; the alarm redelivers them, so a crash
    // between this object's write and the peer's converges.
    sql.exec(`CREATE TABLE peer_outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, peer_id TEXT NOT NULL, message TEXT NOT NULL,
      created_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0)`);
  },
];

export interface RequestRow extends Record<string, SqlStorageValue> {
  id: string;
  direction: "in" | "out";
  peer_id: string;
  message: string;
  created_at: number;
  expires_at: number;
  status: string;
}

export interface FriendRow extends Record<string, SqlStorageValue> {
  peer_id: string;
  remark: string;
  group_id: string | null;
  created_at: number;
}

/** Thin typed queries over the graph tables. */
export class GraphStore {
  constructor(private readonly sql: SqlStorage) {}

  request(id: string): RequestRow | undefined {
    return this.sql.exec<RequestRow>("SELECT * FROM friend_requests WHERE id = ?", id).toArray()[0];
  }
  pendingWith(peer: string, direction: "in" | "out", now: number): RequestRow | undefined {
    return this.sql
      .exec<RequestRow>(
        "SELECT * FROM friend_requests WHERE peer_id = ? AND direction = ? AND status = 'pending' AND expires_at > ?",
        peer,
        direction,
        now,
      )
      .toArray()[0];
  }
  pendingCount(direction: "in" | "out", now: number): number {
    return this.sql
      .exec<{ n: number }>(
        "SELECT count(*) AS n FROM friend_requests WHERE direction = ? AND status = 'pending' AND expires_at > ?",
        direction,
        now,
      )
      .one().n;
  }
  insertRequest(r: RequestRow): void {
    this.sql.exec(
      "INSERT INTO friend_requests (id, direction, peer_id, message, created_at, expires_at, status) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
      r.id,
      r.direction,
      r.peer_id,
      r.message,
      r.created_at,
      r.expires_at,
      r.status,
    );
  }
  setStatus(id: string, status: string): void {
    this.sql.exec("UPDATE friend_requests SET status = ? WHERE id = ?", status, id);
  }
  closePendingWith(peer: string, status: string): void {
    this.sql.exec("UPDATE friend_requests SET status = ? WHERE peer_id = ? AND status = 'pending'", status, peer);
  }
  isFriend(peer: string): boolean {
    return this.sql.exec("SELECT 1 FROM friends WHERE peer_id = ?", peer).toArray().length > 0;
  }
  friend(peer: string): FriendRow | undefined {
    return this.sql.exec<FriendRow>("SELECT * FROM friends WHERE peer_id = ?", peer).toArray()[0];
  }
  friendCount(): number {
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM friends").one().n;
  }
  addFriend(peer: string, now: number): void {
    this.sql.exec(
      "INSERT INTO friends (peer_id, created_at) VALUES (?, ?) ON CONFLICT (peer_id) DO NOTHING",
      peer,
      now,
    );
  }
  removeFriend(peer: string): boolean {
    return this.sql.exec("DELETE FROM friends WHERE peer_id = ?", peer).rowsWritten > 0;
  }
  blocks(peer: string): boolean {
    return this.sql.exec("SELECT 1 FROM blocks WHERE peer_id = ?", peer).toArray().length > 0;
  }
  blockedBy(peer: string): boolean {
    return this.sql.exec("SELECT 1 FROM blocked_by WHERE peer_id = ?", peer).toArray().length > 0;
  }
  /** Every friend's id. */
  friendIds(): string[] {
    return this.sql
      .exec<{ peer_id: string }>("SELECT peer_id FROM friends")
      .toArray()
      .map((r) => r.peer_id);
  }
  /** Every user blocked either way. */
  blockedIds(): string[] {
    return this.sql
      .exec<{ peer_id: string }>("SELECT peer_id FROM blocks UNION SELECT peer_id FROM blocked_by")
      .toArray()
      .map((r) => r.peer_id);
  }
  enqueue(peer: string, message: unknown, now: number): void {
    this.sql.exec(
      "INSERT INTO peer_outbox (peer_id, message, created_at) VALUES (?, ?, ?)",
      peer,
      JSON.stringify(message),
      now,
    );
  }
}
