/**
 * The content benchmark's floor: a plain Node HTTP server that answers `GET /<tenant>/<workload>`
 * by running the route's own SQL (bench/content/queries.ts) in-process with the `libsql` engine
 * against the same tenant database file the local libSQL server serves, and returns the rows as
 * JSON. No auth, no tenant resolution, no Hrana, no visibility or view assembly: HTTP + SQLite.
 *
 * `tsx bench/content/floor.ts --plan <json file>`: the file holds `[{ db, statements: { key:
 * { sql, params } } }]`, one entry per tenant. Prints `content floor listening on http://…`.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import Database from "libsql";
import { serveFloor } from "../floor-server";
import type { Statement } from "./queries";

export interface FloorPlan {
  db: string;
  statements: Record<string, Statement>;
}

function main(): void {
  const { values } = parseArgs({ options: { plan: { type: "string" } }, strict: true });
  if (!values.plan) throw new Error("--plan is required");
  const plan = JSON.parse(readFileSync(values.plan, "utf8")) as FloorPlan[];
  const dbs = plan.map((p) => {
    // The same connection settings as the libSQL server's (tools/libsql-server/database.ts).
    const db = new Database(p.db);
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA busy_timeout = 2000");
    return db;
  });
  const run = new Map<string, () => unknown[]>();
  plan.forEach((p, t) => {
    for (const [key, st] of Object.entries(p.statements)) {
      const prepared = dbs[t]!.prepare(st.sql);
      prepared.raw(true);
      run.set(`/${t}/${key}`, () => prepared.all(...(st.params as never[])) as unknown[]);
    }
  });

  serveFloor(
    "content",
    (req, res) => {
      const go = run.get(req.url ?? "");
      if (!go) {
        res.writeHead(404).end();
        return;
      }
      try {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ rows: go() }));
      } catch (err) {
        res.writeHead(500, { "content-type": "text/plain" }).end(String(err));
      }
    },
    () => {
      for (const db of dbs) db.close();
    },
  );
}

main();
