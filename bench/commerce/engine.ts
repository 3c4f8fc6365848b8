/**
 * Runs recorded batches (queries.ts) on the `libsql` engine in-process, as the libSQL server
 * runs a Hrana batch from the Worker's client: `BEGIN` (deferred, the client's default mode),
 * the statements in order, `COMMIT`; any error rolls the whole batch back. Statements are
 * prepared once per text and reused.
 */
import Database from "libsql";
import type { Statement } from "./queries";

export type Db = InstanceType<typeof Database>;

/** One statement's outcome: its raw rows (`all`) or the rows it changed (`run`). */
export interface Outcome {
  rows: unknown[][];
  changes: number;
}

/** Opens a tenant file with the local libSQL server's pragmas (tools/libsql-server/database.ts). */
export function openTenantFile(file: string): Db {
  const db = new Database(file);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec("PRAGMA busy_timeout = 10000");
  db.exec("PRAGMA foreign_keys = ON");
  return db;
}

/** A prepared statement, as far as batches use it. */
interface Prepared {
  readonly reader: boolean;
  raw(on: boolean): Prepared;
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): { changes: number };
}

export class Engine {
  private readonly prepared = new Map<string, Prepared>();

  constructor(readonly db: Db) {}

  private statement(text: string): Prepared {
    let st = this.prepared.get(text);
    if (!st) {
      st = this.db.prepare(text) as unknown as Prepared;
      this.prepared.set(text, st);
    }
    return st;
  }

  /** The statements as one transaction; their outcomes in order. */
  batch(statements: Statement[]): Outcome[] {
    this.db.exec("BEGIN");
    try {
      const out = statements.map((s): Outcome => {
        const st = this.statement(s.sql);
        const params = s.params;
        if (st.reader) return { rows: st.raw(true).all(...params) as unknown[][], changes: 0 };
        return { rows: [], changes: st.run(...params).changes };
      });
      this.db.exec("COMMIT");
      return out;
    } catch (err) {
      this.db.exec("ROLLBACK");
      throw err;
    }
  }
}
