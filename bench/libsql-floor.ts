/**
 * The floor for the local libSQL server: a plain Node HTTP server that answers each POST (the same
 * Hrana pipeline body the server gets) by running the same prepared point select with the `libsql`
 * package in-process, and returns the row as JSON in a Hrana-like shape of similar size.
 * No auth, no validation, no locking, no streams: what is left is HTTP + JSON + SQLite.
 *
 * `tsx bench/libsql-floor.ts --db <file> [--rows N]`: creates and fills the table if it is empty
 * (same schema, same rows, WAL + synchronous=NORMAL like the server), listens on a free loopback
 * port and prints `libsql floor listening on http://127.0.0.1:PORT`. SIGTERM stops it.
 */
import { parseArgs } from "node:util";
import Database from "libsql";
import { readBody, serveFloor } from "./floor-server";
import { ITEM_ROWS, ITEMS_SCHEMA, itemsFill, POINT_SELECT } from "./items";

type Cell = number | string | null;

interface PipelineBody {
  requests?: { stmt?: { args?: { value?: unknown }[] } }[];
}

function hranaValue(v: Cell): { type: string; value?: string | number } {
  if (v === null) return { type: "null" };
  if (typeof v === "number")
    return Number.isInteger(v) ? { type: "integer", value: String(v) } : { type: "float", value: v };
  return { type: "text", value: v };
}

function main(): void {
  const { values } = parseArgs({
    options: { db: { type: "string" }, rows: { type: "string", default: String(ITEM_ROWS) } },
  });
  if (!values.db) throw new Error("--db is required");
  const db = new Database(values.db);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec(ITEMS_SCHEMA);
  const count = db.prepare("SELECT count(*) FROM items").raw(true).get() as [number];
  if (count[0] === 0) db.exec(itemsFill(Number(values.rows)));

  const select = db.prepare(POINT_SELECT);
  select.raw(true);
  const cols = select.columns().map((c) => ({ name: c.name, decltype: c.type }));

  serveFloor(
    "libsql",
    (req, res) => {
      readBody(req)
        .then((text) => {
          const body = JSON.parse(text) as PipelineBody;
          const id = Number(body.requests?.[0]?.stmt?.args?.[0]?.value);
          const row = select.get(id) as Cell[] | undefined;
          const rows = row ? [row.map(hranaValue)] : [];
          const out = JSON.stringify({
            baton: null,
            base_url: null,
            results: [
              {
                type: "ok",
                response: { type: "execute", result: { cols, rows, affected_row_count: 0, last_insert_rowid: null } },
              },
              { type: "ok", response: { type: "close" } },
            ],
          });
          res.writeHead(200, { "content-type": "application/json" }).end(out);
        })
        .catch((err: unknown) => {
          res.writeHead(400, { "content-type": "text/plain" }).end(String(err));
        });
    },
    () => db.close(),
  );
}

main();
