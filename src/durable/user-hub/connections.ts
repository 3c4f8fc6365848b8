import { metrics } from "../../lib/metrics/recorder";
import type { DoMigration } from "../storage-migrations";
import type { RecordEvent } from "./sessions";

/** Storage of the connection log: the user's open sockets by connection id. */
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
 * v3: sockets live in the tenant's gateways; each row names the one holding it (reached for
 * deliveries, revocation and reconciliation) and whether the client said it is away (presence).
 * Rows from before (no gateway) name sockets the hub held itself: reconciliation closes them.
 */
export const connectionGatewayMigration: DoMigration = (sql) => {
  sql.exec("ALTER TABLE open_conns ADD COLUMN gateway INTEGER");
  sql.exec("ALTER TABLE open_conns ADD COLUMN away INTEGER NOT NULL DEFAULT 0");
};

/** Storage of one-time WebSocket tickets already used (spent when the hub admits an upgrade). */
export const ticketMigrations: readonly DoMigration[] = [
  (sql) => {
    sql.exec(`CREATE TABLE used_tickets (jti TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)`);
  },
];

/** Spends a ticket's id; false if it was spent before (one-time use). */
export function spendTicket(sql: SqlStorage, jti: string, expiresAt: number, now: number): boolean {
  sql.exec("DELETE FROM used_tickets WHERE expires_at < ?", now);
  const spent = sql.exec(
    "INSERT INTO used_tickets (jti, expires_at) VALUES (?, ?) ON CONFLICT (jti) DO NOTHING",
    jti,
    expiresAt,
  );
  return spent.rowsWritten > 0;
}

/**
 * `connection.opened` / `connection.closed` events, exactly one of each per socket: the open
 * socket is a row (with the gateway holding it), and only the call that deletes it records the
 * close, however many close paths (client close, server drop, reconciliation) run. Sockets that
 * vanished without a close handler (a runtime restart) are found by `reconcile` when the hub
 * next starts, so neither the statistics' active-connection gauge nor `canopy_ws_connections`
 * (counted here, +1 with the row, −1 with its deletion) drifts upwards forever.
 */
export class ConnectionLog {
  constructor(
    private readonly sql: SqlStorage,
    private readonly record: RecordEvent,
    private readonly userId: () => string,
  ) {}

  opened(connId: string, sessionId: string, tenantId: string, gateway: number, now = Date.now()): void {
    const added = this.sql.exec(
      "INSERT INTO open_conns (conn_id, session_id, opened_at, tenant_id, gateway) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
      connId,
      sessionId,
      now,
      tenantId,
      gateway,
    );
    if (added.rowsWritten === 0) return; // told twice
    metrics.add("canopy_ws_connections", {}, 1, tenantId);
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

  /** Records the client's away flag of a socket; false if the socket is not open. */
  setAway(connId: string, away: boolean): boolean {
    return this.sql.exec("UPDATE open_conns SET away = ? WHERE conn_id = ?", away ? 1 : 0, connId).rowsWritten > 0;
  }

  /** online if any open socket is not away; away if all are; offline with none. */
  status(): "online" | "away" | "offline" {
    const r = this.sql
      .exec<{ n: number; active: number | null }>("SELECT count(*) AS n, sum(away = 0) AS active FROM open_conns")
      .one();
    return r.active ? "online" : r.n > 0 ? "away" : "offline";
  }

  /** How many sockets are open. */
  count(): number {
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM open_conns").one().n;
  }

  /** The gateways holding open sockets (of one session, if named). */
  gateways(sessionId?: string): number[] {
    const rows =
      sessionId === undefined
        ? this.sql.exec<{ g: number | null }>("SELECT DISTINCT gateway AS g FROM open_conns")
        : this.sql.exec<{ g: number | null }>(
            "SELECT DISTINCT gateway AS g FROM open_conns WHERE session_id = ?",
            sessionId,
          );
    return rows.toArray().flatMap((r) => (r.g === null ? [] : [r.g]));
  }

  /** The open sockets' connection ids, per gateway (null: a socket of the hub's old code). */
  byGateway(): Map<number | null, string[]> {
    const m = new Map<number | null, string[]>();
    for (const r of this.sql.exec<{ conn_id: string; gateway: number | null }>(
      "SELECT conn_id, gateway FROM open_conns",
    )) {
      const rows = m.get(r.gateway);
      if (rows) rows.push(r.conn_id);
      else m.set(r.gateway, [r.conn_id]);
    }
    return m;
  }

  /** Closes the rows of sockets that `live` does not list (what their gateways hold). */
  reconcile(rows: string[], live: Set<string>, now = Date.now()): void {
    for (const connId of rows) if (!live.has(connId)) this.closed(connId, now);
  }
}
