import type { GraphStore } from "./graph-store";

/**
 * What a user's hub holds about them once their account is erased (docs/privacy.md): nothing but
 * the status and the queue of `erased` messages still on their way to peers. The graph's peers
 * are told first (the caller enqueues one message per peer in the same transaction as the wipe),
 * so every friend, blocker and pending request on the other side goes too.
 */

/**
 * Tells every peer and wipes the hub in one transaction (sessions end before: setStatus): each
 * peer with an edge, block or request gets an `erased` message, delivered by the caller's flush
 * (the alarm retries what fails). A repeat finds nothing left to tell. Answers how many peers.
 */
export function eraseGraph(storage: DurableObjectStorage, graph: GraphStore, erasedAt: number): number {
  const sql = storage.sql;
  return storage.transactionSync(() => {
    const peers = peersToTell(sql);
    for (const peer of peers) graph.enqueue(peer, { op: "erased" }, erasedAt);
    wipeHub(sql);
    sql.exec(
      "INSERT INTO meta (key, value) VALUES ('erasedAt', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      String(erasedAt),
    );
    return peers.length;
  });
}

/** Everyone whose hub holds an edge with this user: friends, blocks either way, requests. */
export function peersToTell(sql: SqlStorage): string[] {
  return sql
    .exec<{ peer_id: string }>(
      `SELECT peer_id FROM friends UNION SELECT peer_id FROM blocks UNION SELECT peer_id FROM blocked_by
       UNION SELECT peer_id FROM friend_requests`,
    )
    .toArray()
    .map((r) => r.peer_id);
}

/** Deletes the graph, groups, sessions, tokens, connections and presence of an erased user. */
export function wipeHub(sql: SqlStorage): void {
  for (const table of [
    "friends",
    "friend_groups",
    "friend_requests",
    "blocks",
    "blocked_by",
    "sessions",
    "refresh_tokens",
    "open_conns",
    "used_tickets",
  ])
    sql.exec(`DELETE FROM ${table}`);
  sql.exec("DELETE FROM meta WHERE key LIKE 'presence.%'");
}

/** The peer's side of an erasure: every edge, block and request with the erased user goes. */
export function forgetPeer(sql: SqlStorage, peer: string): void {
  sql.exec("DELETE FROM friends WHERE peer_id = ?", peer);
  sql.exec("DELETE FROM blocks WHERE peer_id = ?", peer);
  sql.exec("DELETE FROM blocked_by WHERE peer_id = ?", peer);
  sql.exec("DELETE FROM friend_requests WHERE peer_id = ?", peer);
}
