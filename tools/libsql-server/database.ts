/**
 * One SQLite file per namespace, one `libsql` connection per file, and the async lock that
 * serialises access to it.
 *
 * Why a single connection: the `libsql` engine is synchronous, so a second connection waiting on
 * SQLite's busy handler would block Node's event loop (and with it the request that holds the
 * lock). Instead every Hrana request takes the connection's FIFO lock; a stream that leaves a
 * transaction open keeps the lock until COMMIT/ROLLBACK, `close` or its idle timeout (streams.ts).
 * While nobody holds the lock the connection is always in autocommit mode.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import Database from "libsql";
import { HttpError } from "./errors.js";

type Connection = InstanceType<typeof Database>;
/** A prepared `libsql` statement. */
export type Statement = ReturnType<Connection["prepare"]>;

/** Namespace names: lowercase, safe as file names and URL segments. */
export const NAMESPACE_RE = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** A FIFO async mutex. `release()` hands the lock straight to the next waiter (no barging). */
export class FifoLock {
  private held = false;
  private waiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];

  /** Resolves once the caller owns the lock. */
  acquire(): Promise<void> {
    if (!this.held) {
      this.held = true;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Pass the lock to the next waiter, or free it. */
  release(): void {
    const next = this.waiters.shift();
    if (next === undefined) this.held = false;
    else next.resolve();
  }

  /** Reject every waiter (the database is going away). */
  failAll(err: Error): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(err);
  }
}

const STMT_CACHE_LIMIT = 128;

/** An open namespace database: its connection, statement cache and lock. */
export class NamespaceDb {
  readonly lock = new FifoLock();
  private readonly conn: Connection;
  private readonly cache = new Map<string, Statement>();
  private readonly probe: Statement;
  private open = true;
  // Set when a statement may have changed connection-level settings (PRAGMA, sequence).
  private sessionDirty = false;

  constructor(
    readonly name: string,
    readonly path: string,
  ) {
    this.conn = new Database(path);
    this.conn.defaultSafeIntegers(true);
    this.conn.exec("PRAGMA journal_mode = WAL");
    this.conn.exec("PRAGMA synchronous = NORMAL");
    this.conn.exec("PRAGMA foreign_keys = ON");
    // Only another process can make SQLite busy here (we hold the single connection); keep the
    // wait short because it blocks the event loop.
    this.conn.exec("PRAGMA busy_timeout = 2000");
    this.probe = this.conn.prepare("SELECT changes(), total_changes(), last_insert_rowid()");
    this.probe.raw(true).safeIntegers(true);
  }

  /** False once the namespace was deleted or the server closed. */
  get isOpen(): boolean {
    return this.open;
  }

  /** SQLite's autocommit flag: false inside BEGIN … COMMIT (or an open SAVEPOINT). */
  get isAutocommit(): boolean {
    return !this.conn.inTransaction;
  }

  /** Prepare (or reuse, if `cached`) a statement. Throws the `libsql` error on compile errors. */
  prepare(sql: string, cached = true): Statement {
    const hit = cached ? this.cache.get(sql) : undefined;
    if (hit !== undefined) {
      // Refresh LRU position.
      this.cache.delete(sql);
      this.cache.set(sql, hit);
      return hit;
    }
    const stmt = this.conn.prepare(sql);
    stmt.safeIntegers(true);
    if (stmt.reader) stmt.raw(true); // raw() throws on statements that return no data
    if (cached && sql.length <= 8192) {
      if (this.cache.size >= STMT_CACHE_LIMIT) {
        const oldest = this.cache.keys().next();
        if (oldest.done !== true) this.cache.delete(oldest.value);
      }
      this.cache.set(sql, stmt);
    }
    return stmt;
  }

  /** Drop a statement from the cache. */
  forget(sql: string): void {
    this.cache.delete(sql);
  }

  /** `[changes(), total_changes(), last_insert_rowid()]` of the connection. */
  counters(): { changes: bigint; total: bigint; lastRowid: bigint } {
    const row = this.probe.get([]);
    const [changes, total, lastRowid] = Array.isArray(row) ? row : [];
    return {
      changes: typeof changes === "bigint" ? changes : 0n,
      total: typeof total === "bigint" ? total : 0n,
      lastRowid: typeof lastRowid === "bigint" ? lastRowid : 0n,
    };
  }

  /** Run SQL text that may hold several statements (Hrana `sequence`). */
  exec(sql: string): void {
    this.sessionDirty = true;
    this.conn.exec(sql);
  }

  /** Note that a statement may have changed connection settings (see `resetSession`). */
  markSessionDirty(): void {
    this.sessionDirty = true;
  }

  /** Roll back an open transaction, if any (never throws). */
  rollbackIfNeeded(): void {
    if (!this.open || !this.conn.inTransaction) return;
    try {
      this.conn.exec("ROLLBACK");
    } catch {
      // A failed ROLLBACK leaves nothing better to do; the next BEGIN will report it.
    }
  }

  /**
   * Restore per-connection settings a finished stream may have changed. sqld gives every stream
   * its own connection; here streams share one, so e.g. the `PRAGMA foreign_keys=off` that
   * `client.migrate()` sends must not leak into the next stream.
   */
  resetSession(): void {
    if (!this.open || !this.sessionDirty || this.conn.inTransaction) return;
    this.sessionDirty = false;
    try {
      this.conn.exec("PRAGMA foreign_keys = ON");
    } catch {
      // ignore: best effort
    }
  }

  /** Roll back, fail queued requests (with `reason`, default: namespace gone) and close. */
  close(reason?: HttpError): void {
    if (!this.open) return;
    this.rollbackIfNeeded();
    this.open = false;
    this.lock.failAll(reason ?? new HttpError(404, "NAMESPACE_NOT_FOUND", `Namespace \`${this.name}\` doesn't exist`));
    this.cache.clear();
    this.conn.close();
  }
}

/** The namespaces on disk under `dataDir` and their open connections. */
export class NamespaceStore {
  private readonly dbs = new Map<string, NamespaceDb>();

  constructor(readonly dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
  }

  private fileOf(ns: string): string {
    return join(this.dataDir, `${ns}.db`);
  }

  /** True if the namespace's file exists. */
  exists(ns: string): boolean {
    return this.dbs.has(ns) || existsSync(this.fileOf(ns));
  }

  /** Names of all namespaces, sorted. */
  list(): string[] {
    const names = new Set(this.dbs.keys());
    for (const f of readdirSync(this.dataDir)) {
      const m = /^(.+)\.db$/.exec(f);
      if (m?.[1] !== undefined && NAMESPACE_RE.test(m[1])) names.add(m[1]);
    }
    return [...names].sort();
  }

  /** Create the namespace's database; returns false if it already existed. */
  create(ns: string): boolean {
    if (this.exists(ns)) return false;
    this.open(ns);
    return true;
  }

  /** The open database of an existing namespace (opened lazily), or undefined. */
  get(ns: string): NamespaceDb | undefined {
    const db = this.dbs.get(ns);
    if (db !== undefined) return db;
    return existsSync(this.fileOf(ns)) ? this.open(ns) : undefined;
  }

  /** The database of a namespace if its connection is open (never opens one). */
  opened(ns: string): NamespaceDb | undefined {
    return this.dbs.get(ns);
  }

  /** Like `get`, but creates the namespace when missing (used for `default`). */
  getOrCreate(ns: string): NamespaceDb {
    return this.get(ns) ?? this.open(ns);
  }

  /** Close the namespace's connection and delete its files; returns false if it did not exist. */
  delete(ns: string): boolean {
    if (!this.exists(ns)) return false;
    this.dbs.get(ns)?.close();
    this.dbs.delete(ns);
    const base = this.fileOf(ns);
    for (const suffix of ["", "-wal", "-shm", "-journal"]) rmSync(`${base}${suffix}`, { force: true });
    return true;
  }

  /** Close every open connection (rolling back open transactions); queued requests get `reason`. */
  closeAll(reason?: HttpError): void {
    for (const db of this.dbs.values()) db.close(reason);
    this.dbs.clear();
  }

  private open(ns: string): NamespaceDb {
    const db = new NamespaceDb(ns, this.fileOf(ns));
    this.dbs.set(ns, db);
    return db;
  }
}
