import { graphRefusals } from "./graph-refusals";
import type { FriendGroupView, FriendRequestView, FriendView, GraphResult } from "./graph-types";

/** Read-side queries of the friend graph, cursor-paginated. */
export function listFriends(sql: SqlStorage, limit: number, after?: string, groupId?: string): FriendView[] {
  return sql
    .exec<{ peer_id: string; remark: string; group_id: string | null; created_at: number }>(
      `SELECT peer_id, remark, group_id, created_at FROM friends WHERE peer_id > ? ${groupId ? "AND group_id = ?" : ""} ORDER BY peer_id LIMIT ?`,
      ...(groupId ? [after ?? "", groupId, limit] : [after ?? "", limit]),
    )
    .toArray()
    .map((r) => ({ userId: r.peer_id, remark: r.remark, groupId: r.group_id, since: r.created_at }));
}

export function listRequests(
  sql: SqlStorage,
  direction: "in" | "out",
  now: number,
  limit: number,
  before?: [number, string],
): FriendRequestView[] {
  const [t, id] = before ?? [Number.MAX_SAFE_INTEGER, ""];
  return sql
    .exec<{ id: string; peer_id: string; message: string; status: string; created_at: number; expires_at: number }>(
      `SELECT id, peer_id, message, status, created_at, expires_at FROM friend_requests
       WHERE direction = ? AND status = 'pending' AND expires_at > ? AND (created_at < ? OR (created_at = ? AND id < ?))
       ORDER BY created_at DESC, id DESC LIMIT ?`,
      direction,
      now,
      t,
      t,
      before ? id : "\uffff",
      limit,
    )
    .toArray()
    .map((r) => ({
      id: r.id,
      direction: direction === "in" ? "incoming" : "outgoing",
      userId: r.peer_id,
      message: r.message,
      status: r.status,
      createdAt: r.created_at,
      expiresAt: r.expires_at,
    }));
}

export function listGroups(sql: SqlStorage): FriendGroupView[] {
  return sql
    .exec<{ id: string; name: string; created_at: number }>(
      "SELECT id, name, created_at FROM friend_groups ORDER BY created_at, id",
    )
    .toArray()
    .map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at }));
}

export function listBlocks(sql: SqlStorage, limit: number, after?: string): { userId: string; since: number }[] {
  return sql
    .exec<{ peer_id: string; created_at: number }>(
      "SELECT peer_id, created_at FROM blocks WHERE peer_id > ? ORDER BY peer_id LIMIT ?",
      after ?? "",
      limit,
    )
    .toArray()
    .map((r) => ({ userId: r.peer_id, since: r.created_at }));
}

export type GroupEdit =
  | { kind: "create"; id: string; name: string }
  | { kind: "rename"; id: string; name: string }
  | { kind: "delete"; id: string };

/** Sets a friend's remark and/or group. */
export function updateFriend(
  storage: DurableObjectStorage,
  peer: string,
  patch: { remark?: string | undefined; groupId?: string | null | undefined },
): GraphResult<FriendView> {
  const sql = storage.sql;
  const row = () =>
    sql
      .exec<{ peer_id: string; remark: string; group_id: string | null; created_at: number }>(
        "SELECT * FROM friends WHERE peer_id = ?",
        peer,
      )
      .toArray()[0];
  if (!row()) return graphRefusals.not_friends;
  if (patch.groupId && !sql.exec("SELECT 1 FROM friend_groups WHERE id = ?", patch.groupId).toArray().length)
    return graphRefusals.group_not_found;
  if (patch.remark !== undefined) sql.exec("UPDATE friends SET remark = ? WHERE peer_id = ?", patch.remark, peer);
  if (patch.groupId !== undefined) sql.exec("UPDATE friends SET group_id = ? WHERE peer_id = ?", patch.groupId, peer);
  const f = row()!;
  return { ok: true, value: { userId: f.peer_id, remark: f.remark, groupId: f.group_id, since: f.created_at } };
}

/** Creates (at most 100), renames or deletes a friend group; deleting ungroups its friends. */
export function editGroup(
  storage: DurableObjectStorage,
  op: GroupEdit,
  now: number,
): GraphResult<FriendGroupView | null> {
  const sql = storage.sql;
  if (op.kind === "create") {
    if (listGroups(sql).length >= 100) return graphRefusals.group_limit;
    sql.exec("INSERT INTO friend_groups (id, name, created_at) VALUES (?, ?, ?)", op.id, op.name, now);
    return { ok: true, value: { id: op.id, name: op.name, createdAt: now } };
  }
  const exists = sql
    .exec<{ created_at: number }>("SELECT created_at FROM friend_groups WHERE id = ?", op.id)
    .toArray()[0];
  if (!exists) return graphRefusals.group_not_found;
  if (op.kind === "rename") {
    sql.exec("UPDATE friend_groups SET name = ? WHERE id = ?", op.name, op.id);
    return { ok: true, value: { id: op.id, name: op.name, createdAt: exists.created_at } };
  }
  storage.transactionSync(() => {
    sql.exec("UPDATE friends SET group_id = NULL WHERE group_id = ?", op.id);
    sql.exec("DELETE FROM friend_groups WHERE id = ?", op.id);
  });
  return { ok: true, value: null };
}

/** Users with a live pending request either way (friend suggestions leave them out). */
export function pendingPeers(sql: SqlStorage, now: number): string[] {
  return sql
    .exec<{ peer_id: string }>(
      "SELECT DISTINCT peer_id FROM friend_requests WHERE status = 'pending' AND expires_at > ?",
      now,
    )
    .toArray()
    .map((r) => r.peer_id);
}
