/**
 * The commerce benchmark's floor: a plain Node HTTP server that answers `POST /order/<user
 * index>` by running the route's two round trips (queries.ts: the claim batch with the products'
 * and VIP reads, then placeOrderOps' batch) with the `libsql` engine in-process, each as
 * `BEGIN … COMMIT`, on a copy of the tenant's database file, with fresh ids, key and times per
 * order. No auth, no tenant resolution, no validation, no Hrana, no outbox publish: HTTP + SQLite.
 * `GET /ping` answers 200 at once: the floor's HTTP alone, without SQL.
 *
 * `tsx bench/commerce/floor.ts --plan <json file>` ({@link FloorPlan}). Prints
 * `commerce floor listening on http://…`.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { ProductRow } from "../../src/db/tenant/schema";
import { readBody, serveFloor } from "../floor-server";
import { Engine, openTenantFile } from "./engine";
import { orderTemplate } from "./queries";

export interface FloorPlan {
  /** The floor's copy of the tenant file. */
  db: string;
  /** User ids by index (the same indices as the route's users). */
  users: string[];
  product: ProductRow;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { plan: { type: "string" } }, strict: true });
  if (!values.plan) throw new Error("--plan is required");
  const plan = JSON.parse(readFileSync(values.plan, "utf8")) as FloorPlan;
  const db = openTenantFile(plan.db);
  const engine = new Engine(db);
  const { template, claimLength } = await orderTemplate(plan.users[0]!, plan.product);

  /** One order: 201 with the stored answer, 402 where the gate refused, 500 on anything else. */
  const order = (userId: string): { status: number; body: string } => {
    const now = Date.now();
    const statements = template.instantiate({ now, userId });
    const claimed = engine.batch(statements.slice(0, claimLength));
    // claimOps' third statement reads the key: [request_hash, owner, state, status, response].
    const key = claimed[2]!.rows[0];
    if (!key || key[2] !== "running") return { status: 500, body: `claim failed: ${JSON.stringify(key)}` };
    if (claimed[3]!.rows.length !== 1) return { status: 500, body: "product not read" };
    const placed = statements.slice(claimLength);
    const res = engine.batch(placed);
    if (res[0]!.changes === 1)
      return { status: 201, body: String(placed[1]!.params.find((p) => typeof p === "string" && p.startsWith("{"))) };
    return { status: res[res.length - 1]!.changes === 1 ? 402 : 500, body: "not placed" };
  };

  serveFloor(
    "commerce",
    (req, res) => {
      if (req.method === "GET" && req.url === "/ping") {
        res.writeHead(200, { "content-type": "text/plain" }).end("ok");
        return;
      }
      const m = /^\/order\/(\d+)$/.exec(req.url ?? "");
      const userId = m ? plan.users[Number(m[1])] : undefined;
      if (req.method !== "POST" || !userId) {
        res.writeHead(404).end();
        return;
      }
      readBody(req)
        .then((text) => {
          JSON.parse(text);
          const out = order(userId);
          res.writeHead(out.status, { "content-type": "application/json" }).end(out.body);
        })
        .catch((err: unknown) => {
          res.writeHead(500, { "content-type": "text/plain" }).end(String(err));
        });
    },
    () => db.close(),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`commerce floor failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
