import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { getTableName, is } from "drizzle-orm";
import { SQLiteTable } from "drizzle-orm/sqlite-core";
import { describe, expect, it } from "vitest";

/** Every table a migration creates has its drizzle declaration (Structure v2: one way to the data). */
function createdTables(dir: string): string[] {
  const names = new Set<string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".sql"))) {
    const sql = readFileSync(join(dir, file), "utf8");
    for (const m of sql.matchAll(/CREATE (?:VIRTUAL )?TABLE (?:IF NOT EXISTS )?([a-z_]+)/gi)) names.add(m[1]!);
    for (const m of sql.matchAll(/DROP TABLE (?:IF EXISTS )?([a-z_]+)/gi)) names.delete(m[1]!);
  }
  return [...names].sort();
}

/** The tables the modules of a src/db folder declare (schema.ts and the query modules beside it). */
async function declared(dir: string): Promise<string[]> {
  const names: string[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
    const mod = (await import(join(dir, file))) as Record<string, unknown>;
    for (const v of Object.values(mod)) if (is(v, SQLiteTable)) names.push(getTableName(v));
  }
  return names.sort();
}

describe("drizzle schemas", () => {
  const root = join(import.meta.dirname, "..", "..");
  for (const kind of ["tenant", "platform"]) {
    it(`declare every ${kind} table the migrations create`, async () => {
      const tables = await declared(join(root, "src", "db", kind));
      expect(tables).toEqual(expect.arrayContaining(createdTables(join(root, "migrations", kind))));
    });
  }
});
