/**
 * Lock ownership over time: an abandoned interactive transaction is rolled back after the stream
 * idle timeout and the writers queued behind it proceed; closing the server never hangs.
 */
import { readdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  clientBuilds,
  createNamespace,
  rejectionCode,
  startTestServer,
  type TestServer,
} from "./libsql-server.helpers.js";

const IDLE_MS = 300;
let ts: TestServer;

beforeAll(async () => {
  ts = await startTestServer(IDLE_MS);
  await createNamespace(ts.server, "idle");
});
afterAll(async () => {
  await ts.stop();
});

const connect = () => clientBuilds[1].create({ url: ts.server.dbUrl("idle"), authToken: ts.server.tokenFor("idle") });

describe("abandoned transactions", () => {
  it("rolls back after the idle timeout and lets queued writers proceed", async () => {
    const setup = connect();
    await setup.execute("CREATE TABLE ledger (who TEXT)");

    const abandoned = connect();
    const tx = await abandoned.transaction("write");
    await tx.execute("INSERT INTO ledger VALUES ('abandoned')");
    const started = Date.now();

    // These queue behind the open transaction until it expires.
    const writers = Array.from({ length: 3 }, (_, i) =>
      connect().execute({ sql: "INSERT INTO ledger VALUES (?)", args: [`writer ${i}`] }),
    );
    await Promise.all(writers);
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(IDLE_MS - 50);
    expect(waited).toBeLessThan(IDLE_MS + 3000);

    const rows = await setup.execute("SELECT who FROM ledger ORDER BY who");
    expect(rows.rows.map((r) => r.who)).toEqual(["writer 0", "writer 1", "writer 2"]);
    // The stream is gone: its next request gets sqld's STREAM_EXPIRED.
    expect(await rejectionCode(tx.execute("SELECT 1"))).toBe("STREAM_EXPIRED");
    tx.close();
    abandoned.close();
    setup.close();
  });

  it("keeps a transaction that stays active beyond the idle timeout", async () => {
    const c = connect();
    await c.execute("CREATE TABLE slow (n INTEGER)");
    const tx = await c.transaction("write");
    // Each request restarts the idle timer, so the transaction outlives IDLE_MS as a whole.
    for (let n = 0; n < 5; n++) {
      await tx.execute({ sql: "INSERT INTO slow VALUES (?)", args: [n] });
      await new Promise((r) => setTimeout(r, IDLE_MS / 3));
    }
    await tx.commit();
    expect((await c.execute("SELECT count(*) AS n FROM slow")).rows[0]?.n).toBe(5);
    c.close();
  });
});

describe("shutdown", () => {
  it("closes promptly with an open transaction and queued requests, rolling back", async () => {
    const local = await startTestServer(60_000);
    const { server } = local;
    await createNamespace(server, "bye");
    const c = clientBuilds[0].create({ url: server.dbUrl("bye"), authToken: server.tokenFor("bye") });
    await c.execute("CREATE TABLE t (x)");
    const tx = await c.transaction("write");
    await tx.execute("INSERT INTO t VALUES (1)");
    const queued = c.execute("INSERT INTO t VALUES (2)").catch((e: unknown) => e);

    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await queued).toBeInstanceOf(Error);
    c.close();

    // Reopen the same data directory: the uncommitted row is not there.
    const { startServer } = await import("../../tools/libsql-server/server.js");
    const again = await startServer({ port: 0, dataDir: local.dataDir, secret: "other-secret" });
    const c2 = clientBuilds[0].create({ url: again.dbUrl("bye"), authToken: again.tokenFor("bye") });
    expect((await c2.execute("SELECT count(*) AS n FROM t")).rows[0]?.n).toBe(0);
    c2.close();
    await again.close();
    expect(readdirSync(local.dataDir)).toContain("bye.db");
    await local.stop();
  });
});
