/** The local libSQL server at the HTTP level: admin API, auth, routing, batons and Hrana details. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  admin,
  createNamespace,
  postHrana,
  SECRET,
  startTestServer,
  type TestServer,
} from "./libsql-server.helpers.js";

let ts: TestServer;
const execute = (sql: string, extra: Record<string, unknown> = {}) => ({ type: "execute", stmt: { sql, ...extra } });

interface PipelineBody {
  baton: string | null;
  base_url: string | null;
  results: Array<{ type: string; response?: Record<string, unknown>; error?: { message: string; code: string } }>;
}

async function pipeline(ns: string, body: unknown): Promise<PipelineBody> {
  const res = await postHrana(ts.server, ns, "v2/pipeline", body);
  expect(res.status).toBe(200);
  return (await res.json()) as PipelineBody;
}

beforeAll(async () => {
  ts = await startTestServer();
  await createNamespace(ts.server, "proto");
  await createNamespace(ts.server, "other");
});
afterAll(async () => {
  await ts.stop();
});

describe("admin API", () => {
  it("creates, lists, looks up and deletes namespaces", async () => {
    const created = await createNamespace(ts.server, "acme");
    expect(created).toEqual({ namespace: "acme", url: ts.server.dbUrl("acme"), token: ts.server.tokenFor("acme") });
    expect(existsSync(join(ts.dataDir, "acme.db"))).toBe(true);

    const again = await admin(ts.server, "POST", "/v1/namespaces/acme/create");
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ code: "NAMESPACE_ALREADY_EXISTS" });

    const list = (await (await admin(ts.server, "GET", "/v1/namespaces")).json()) as {
      namespaces: Array<{ name: string }>;
    };
    expect(list.namespaces.map((n) => n.name)).toEqual(expect.arrayContaining(["acme", "proto", "other"]));
    expect((await admin(ts.server, "GET", "/v1/namespaces/acme")).status).toBe(200);

    await pipeline("acme", {
      requests: [execute("CREATE TABLE t (x)"), execute("INSERT INTO t VALUES (1)"), { type: "close" }],
    });
    const del = await admin(ts.server, "DELETE", "/v1/namespaces/acme");
    expect(del.status).toBe(200);
    for (const suffix of ["", "-wal", "-shm"]) expect(existsSync(join(ts.dataDir, `acme.db${suffix}`))).toBe(false);
    expect((await admin(ts.server, "DELETE", "/v1/namespaces/acme")).status).toBe(404);
    expect((await admin(ts.server, "GET", "/v1/namespaces/acme")).status).toBe(404);
    const gone = await postHrana(ts.server, "acme", "v2/pipeline", { requests: [execute("SELECT 1")] });
    expect(gone.status).toBe(404);
    expect(await gone.json()).toMatchObject({ code: "NAMESPACE_NOT_FOUND" });

    // A recreated namespace starts empty.
    await createNamespace(ts.server, "acme");
    const fresh = await pipeline("acme", {
      requests: [execute("SELECT count(*) FROM sqlite_master WHERE name = 't'")],
    });
    expect(fresh.results[0]?.response).toMatchObject({ result: { rows: [[{ type: "integer", value: "0" }]] } });
  });

  it("validates names and requires the master secret", async () => {
    expect((await admin(ts.server, "POST", "/v1/namespaces/Bad.Name/create")).status).toBe(400);
    expect((await admin(ts.server, "POST", "/v1/namespaces/x/create", ts.server.tokenFor("x"))).status).toBe(401);
    const noAuth = await fetch(`${ts.server.origin}/v1/namespaces`);
    expect(noAuth.status).toBe(401);
    expect(await noAuth.json()).toMatchObject({ code: "UNAUTHORIZED" });
  });
});

describe("routing and auth", () => {
  it("serves /health without auth and version probes with auth", async () => {
    expect((await fetch(`${ts.server.origin}/health`)).status).toBe(200);
    const auth = { authorization: `Bearer ${ts.server.tokenFor("proto")}` };
    for (const path of ["v2", "v3", ""]) {
      expect((await fetch(`${ts.server.dbUrl("proto")}${path}`, { headers: auth })).status).toBe(200);
    }
    // The client probes v3-protobuf when asked for protocol 3; a 404 makes it fall back to JSON v2.
    expect((await fetch(`${ts.server.dbUrl("proto")}v3-protobuf`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${ts.server.dbUrl("proto")}v2`)).status).toBe(401);
  });

  it("accepts the master secret and the namespace token only", async () => {
    const body = JSON.stringify({ requests: [execute("SELECT 1")] });
    const post = (ns: string, token: string | undefined) =>
      fetch(`${ts.server.dbUrl(ns)}v2/pipeline`, {
        method: "POST",
        body,
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      });
    expect((await post("proto", SECRET)).status).toBe(200);
    expect((await post("proto", ts.server.tokenFor("proto"))).status).toBe(200);
    expect((await post("proto", undefined)).status).toBe(401);
    expect((await post("proto", "nope")).status).toBe(401);
    expect((await post("proto", ts.server.tokenFor("other"))).status).toBe(401);
    // Unknown namespaces are revealed only to authenticated callers.
    expect((await post("ghost", ts.server.tokenFor("other"))).status).toBe(401);
    expect((await post("ghost", SECRET)).status).toBe(404);
  });

  it("serves the root routes from the auto-created default namespace", async () => {
    const res = await fetch(`${ts.server.origin}/v2/pipeline`, {
      method: "POST",
      headers: { authorization: `Bearer ${ts.server.tokenFor("default")}` },
      body: JSON.stringify({ requests: [execute("SELECT 7")] }),
    });
    expect(res.status).toBe(200);
    expect(existsSync(join(ts.dataDir, "default.db"))).toBe(true);
  });

  it("answers malformed bodies with 4xx JSON errors", async () => {
    const bad = await postHrana(ts.server, "proto", "v2/pipeline", '{"requests": [');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: "INVALID_JSON" });
    const shape = await postHrana(ts.server, "proto", "v2/pipeline", { requests: [{ type: "execute" }] });
    expect(shape.status).toBe(400);
    const value = await postHrana(ts.server, "proto", "v2/pipeline", {
      requests: [execute("SELECT ?", { args: [{ type: "integer", value: "99999999999999999999" }] })],
    });
    expect(value.status).toBe(400);
    const proto = await postHrana(ts.server, "proto", "v3/pipeline", "x", { "content-type": "application/x-protobuf" });
    expect(proto.status).toBe(415);
  });
});

describe("streams and batons", () => {
  it("rotates batons and rejects stale, unknown and foreign ones with STREAM_EXPIRED", async () => {
    const first = await pipeline("proto", { requests: [execute("SELECT 1")] });
    expect(first.baton).toEqual(expect.any(String));
    const second = await pipeline("proto", { baton: first.baton, requests: [execute("SELECT 2")] });
    expect(second.baton).not.toBe(first.baton);

    for (const [ns, baton] of [
      ["proto", first.baton],
      ["proto", "garbage"],
      ["other", second.baton],
    ] as const) {
      const res = await postHrana(ts.server, ns, "v2/pipeline", { baton, requests: [execute("SELECT 3")] });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: "STREAM_EXPIRED" });
    }
    const closed = await pipeline("proto", { baton: second.baton, requests: [{ type: "close" }] });
    expect(closed.baton).toBeNull();
  });

  it("tracks autocommit state and keeps the transaction on its stream", async () => {
    const open = await pipeline("proto", {
      requests: [
        { type: "get_autocommit" },
        execute("BEGIN IMMEDIATE"),
        { type: "get_autocommit" },
        execute("CREATE TABLE tx_t (x)"),
      ],
    });
    expect(open.results.map((r) => r.response?.is_autocommit)).toEqual([true, undefined, false, undefined]);
    const commit = await pipeline("proto", {
      baton: open.baton,
      requests: [execute("COMMIT"), { type: "get_autocommit" }, { type: "close" }],
    });
    expect(commit.results[1]?.response?.is_autocommit).toBe(true);
  });

  it("stores SQL texts per stream, with sqld limits", async () => {
    const res = await pipeline("proto", {
      requests: [
        { type: "store_sql", sql_id: 1, sql: "SELECT ? + 1" },
        { type: "execute", stmt: { sql_id: 1, args: [{ type: "integer", value: "41" }] } },
        { type: "close_sql", sql_id: 1 },
        { type: "store_sql", sql_id: 2, sql: `SELECT '${"x".repeat(5000)}'` },
      ],
    });
    expect(res.results[1]?.response).toMatchObject({ result: { rows: [[{ type: "integer", value: "42" }]] } });
    expect(res.results[3]?.error?.code).toBe("SQL_STORE_TOO_LARGE");
    // A reference to an unknown sql_id is a protocol error for the whole request.
    const missing = await postHrana(ts.server, "proto", "v2/pipeline", {
      baton: res.baton,
      requests: [{ type: "execute", stmt: { sql_id: 1 } }],
    });
    expect(missing.status).toBe(400);
  });
});

describe("Hrana requests", () => {
  it("never binds named arguments through libsql (a nameless ? would abort the process)", async () => {
    const res = await pipeline("proto", {
      requests: [
        execute("SELECT ?", { named_args: [{ name: "a", value: { type: "integer", value: "1" } }] }),
        execute("SELECT :a, ?1", { named_args: [{ name: ":a", value: { type: "text", value: "x" } }] }),
        execute("SELECT 1", { args: [{ type: "null" }], named_args: [{ name: "a", value: { type: "null" } }] }),
      ],
    });
    expect(res.results[0]?.error?.code).toBe("ARGS_INVALID");
    expect(res.results[1]?.response).toMatchObject({
      result: {
        rows: [
          [
            { type: "text", value: "x" },
            { type: "text", value: "x" },
          ],
        ],
      },
    });
    expect(res.results[2]?.error?.code).toBe("ARGS_BOTH_POSITIONAL_AND_NAMED");
  });

  it("evaluates batch conditions like sqld", async () => {
    const ok = (step: number) => ({ type: "ok", step });
    const res = await pipeline("proto", {
      requests: [
        {
          type: "batch",
          batch: {
            steps: [
              { stmt: { sql: "SELECT 1" } },
              { stmt: { sql: "SELECT no_such_column" } },
              { condition: ok(1), stmt: { sql: "SELECT 2" } },
              { condition: { type: "error", step: 1 }, stmt: { sql: "SELECT 3" } },
              { condition: { type: "and", conds: [ok(0), { type: "not", cond: ok(1) }] }, stmt: { sql: "SELECT 4" } },
              { condition: { type: "or", conds: [ok(1), ok(2)] }, stmt: { sql: "SELECT 5" } },
              { condition: { type: "is_autocommit" }, stmt: { sql: "SELECT 6" } },
              { condition: { type: "error", step: 2 }, stmt: { sql: "SELECT 7" } },
            ],
          },
        },
      ],
    });
    const result = res.results[0]?.response?.result as {
      step_results: unknown[];
      step_errors: Array<{ code: string } | null>;
    };
    expect(result.step_results.map((r) => r !== null)).toEqual([true, false, false, true, true, false, true, true]);
    expect(result.step_errors[1]?.code).toBe("SQL_INPUT_ERROR");
  });

  it("fails a whole batch on a syntax error before running any step", async () => {
    const res = await pipeline("proto", {
      requests: [
        {
          type: "batch",
          batch: { steps: [{ stmt: { sql: "CREATE TABLE never (x)" } }, { stmt: { sql: "SELEC 1" } }] },
        },
      ],
    });
    expect(res.results[0]?.error?.code).toBe("SQL_PARSE_ERROR");
    const check = await pipeline("proto", {
      requests: [execute("SELECT count(*) FROM sqlite_master WHERE name = 'never'")],
    });
    expect(check.results[0]?.response).toMatchObject({ result: { rows: [[{ type: "integer", value: "0" }]] } });
  });

  it("runs sequence and describe", async () => {
    const res = await pipeline("proto", {
      requests: [
        { type: "sequence", sql: "CREATE TABLE seq (a INTEGER, b TEXT); INSERT INTO seq VALUES (1, 'x');" },
        { type: "describe", sql: "SELECT a, b FROM seq WHERE a = :a AND b = ?" },
      ],
    });
    expect(res.results[0]?.type).toBe("ok");
    expect(res.results[1]?.response?.result).toEqual({
      params: [{ name: ":a" }, { name: null }],
      cols: [
        { name: "a", decltype: "INTEGER" },
        { name: "b", decltype: "TEXT" },
      ],
      is_explain: false,
      is_readonly: true,
    });
  });

  it("streams a v3 cursor as newline-delimited JSON", async () => {
    const res = await postHrana(ts.server, "proto", "v3/cursor", {
      batch: { steps: [{ stmt: { sql: "VALUES (1), (2)" } }, { stmt: { sql: "SELECT nope" } }] },
    });
    expect(res.status).toBe(200);
    const lines = (await res.text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type?: string });
    expect(lines[0]).toEqual({ baton: expect.any(String), base_url: null });
    expect(lines.slice(1).map((l) => l.type)).toEqual(["step_begin", "row", "row", "step_end", "step_error"]);
  });
});
