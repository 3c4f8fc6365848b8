import { metrics } from "../../lib/metrics/recorder";
import type { DoMigration } from "../storage-migrations";
import type { RecordEvent } from "./sessions";

/** Storage of the connection log: the hub's open sockets by connection id. */
export const connectionMigrations: readonly DoMigration[] = [
  (sql) => {
    sql.exec(
      "CREATE TABLE open_conns (conn_id TEXT PRIMARY KEY, session_id TEXT NOT NULL, opened_at INTEGER NOT NULL)",
    );
  },
];

/** v2 (appended after the hub's other parts): the tenant of each open socket, for the gauge. */
export const connectionTenantMigration: DoMigration = (sql) =>
  sql.exec("ALTER TABLE open_conns ADD COLUMN tenant_id TEXT NOT NULL DEFAULT ''");

/**
 * `connection.opened` / `connection.closed` events, exactly one of each per socket: the open
 * socket is a row, and only the call that deletes it records the close, however many close
 * paths (client close, server drop, reconciliation) run. Sockets that vanished without a close
 * handler (a runtime restart) are found by `reconcile` when the hub next starts, so neither the
 * statistics' active-connection gauge nor `canopy_ws_connections` (counted here, +1 with the
 * row, −1 with its deletion) drifts upwards forever.
 */
export class ConnectionLog {
  constructor(
    private readonly sql: SqlStorage,
    private readonly record: RecordEvent,
    private readonly userId: () => string,
  ) {}

  opened(connId: string, sessionId: string, tenantId: string, now = Date.now()): void {
    const added = this.sql.exec(
      "INSERT INTO open_conns (conn_id, session_id, opened_at, tenant_id) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
      connId,
      sessionId,
      now,
      tenantId,
    );
    if (added.rowsWritten > 0) metrics.add("canopy_ws_connections", {}, 1, tenantId);
    this.record(
      { type: "connection.opened", subject: this.userId(), data: { userId: this.userId(), connId, sessionId } },
      now,
    );
  }

  closed(connId: string, now = Date.now()): void {
    const row = this.sql
      .exec<{ session_id: string; opened_at: number; tenant_id: string }>(
        "DELETE FROM open_conns WHERE conn_id = ? RETURNING session_id, opened_at, tenant_id",
        connId,
      )
      .toArray()[0];
    if (!row) return;
    metrics.add("canopy_ws_connections", {}, -1, row.tenant_id);
    this.record(
      {
        type: "connection.closed",
        subject: this.userId(),
        data: {
          userId: this.userId(),
          connId,
          sessionId: row.session_id,
          durationMs: Math.max(0, now - row.opened_at),
        },
      },
      now,
    );
  }

  /** Closes the rows of sockets the runtime no longer holds. */
  reconcile(live: Set<string>, now = Date.now()): void {
    const rows = this.sql.exec<{ conn_id: string }>("SELECT conn_id FROM open_conns").toArray();
    for (const r of rows) if (!live.has(r.conn_id)) this.closed(r.conn_id, now);
  }
}
