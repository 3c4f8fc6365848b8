/**
 * Read-only access to what only storage can tell, after every server has stopped: the tenant's
 * libSQL database file (outbox rows, consumer markers, users and their rows, follows, webhook
 * deliveries and attempts, TOTP steps) and the Durable Objects' SQLite files that workerd keeps
 * on its disk directory (a UserHub's sessions and refresh tokens, objects' unsent outbox rows,
 * alarms). Rows are validated with zod, never cast.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import Database from "libsql";
import { z } from "zod";

/** One SQLite file, opened read-only. */
export class Sqlite {
  private readonly db: Database.Database;

  constructor(readonly path: string) {
    this.db = new Database(path, { readonly: true });
  }

  rows<T>(schema: z.ZodType<T>, sql: string, ...params: (string | number | null)[]): T[] {
    return z.array(schema).parse(this.db.prepare(sql).all(...params));
  }

  hasTable(name: string): boolean {
    return (
      this.rows(
        z.object({ n: z.number() }),
        "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ?",
        name,
      )[0]!.n > 0
    );
  }

  close(): void {
    this.db.close();
  }
}

/** The tenant database file of the local server (`<data dir>/<db name>.db`). */
export function tenantFile(dataDir: string, dbName: string): Sqlite {
  const path = join(dataDir, `${dbName}.db`);
  if (!existsSync(path)) throw new Error(`no tenant database at ${path}`);
  return new Sqlite(path);
}

export interface ObjectFile {
  /** The Durable Object id (the file's name). */
  actorId: string;
  db: Sqlite;
}

/** The SQLite files of one Durable Object class (`<do dir>/<uniqueKey>/<id>.sqlite`, bench's unique keys). */
export function objectFiles(doDir: string, className: string): ObjectFile[] {
  const dir = join(doDir, `canopy-bench-${className}`);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite")
    .map((f) => ({ actorId: f.slice(0, -".sqlite".length), db: new Sqlite(join(dir, f)) }));
}

/** Alarms workerd has scheduled for a class's objects: actor id → time (ms). */
export function alarms(doDir: string, className: string): Map<string, number> {
  const path = join(doDir, `canopy-bench-${className}`, "metadata.sqlite");
  if (!existsSync(path)) return new Map();
  const db = new Sqlite(path);
  try {
    if (!db.hasTable("_cf_ALARM")) return new Map();
    const rows = db.rows(
      z.object({ actor_id: z.string(), scheduled_time: z.number().nullable() }),
      "SELECT actor_id, scheduled_time FROM _cf_ALARM",
    );
    // workerd stores nanoseconds.
    return new Map(
      rows.filter((r) => r.scheduled_time !== null).map((r) => [r.actor_id, Math.round(r.scheduled_time! / 1e6)]),
    );
  } finally {
    db.close();
  }
}

const Unsent = z.object({ id: z.string(), type: z.string(), created_at: z.number() });

/** Outbox rows an object still holds (unsent, or sent and not yet deleted: docs/events.md). */
export function objectOutbox(f: ObjectFile): z.infer<typeof Unsent>[] {
  return f.db.hasTable("events")
    ? f.db.rows(Unsent, "SELECT id, type, created_at FROM events WHERE published_at IS NULL")
    : [];
}

/** A hub's user id (meta), or null for an object that never learned it. */
export function hubUser(f: ObjectFile): string | null {
  if (!f.db.hasTable("meta")) return null;
  return f.db.rows(z.object({ value: z.string() }), "SELECT value FROM meta WHERE key = 'userId'")[0]?.value ?? null;
}
