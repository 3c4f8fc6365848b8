/**
 * The local Upstash REST adapter (tools/upstash-adapter) in front of a real redis-server,
 * driven by the real @upstash/redis client: what works here works against Upstash.
 */
import { createHash } from "node:crypto";
import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalUpstash, type LocalUpstash } from "../../tools/upstash-adapter/index.js";

let upstash: LocalUpstash;
const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");

beforeAll(async () => {
  upstash = await startLocalUpstash();
});
afterAll(async () => {
  await upstash?.close();
});

/** The three ways a client may talk: auto-pipelined (the default), one command per request, plain JSON. */
const clients = {
  "auto-pipelining, base64": () => new Redis({ url: upstash.url, token: upstash.token, enableTelemetry: false }),
  "single commands, base64": () =>
    new Redis({ url: upstash.url, token: upstash.token, enableTelemetry: false, enableAutoPipelining: false }),
  "single commands, plain JSON": () =>
    new Redis({
      url: upstash.url,
      token: upstash.token,
      enableTelemetry: false,
      enableAutoPipelining: false,
      responseEncoding: false,
    }),
};

const post = (path: string, body: unknown, token = upstash.token) =>
  fetch(`${upstash.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });

describe.each(Object.entries(clients))("@upstash/redis through the adapter (%s)", (_, make) => {
  it("set / get / incr, with unicode and JSON values", async () => {
    const redis = make();
    const key = `k:${crypto.randomUUID()}`;
    expect(await redis.set(key, "héllo ✓ 你好")).toBe("OK");
    expect(await redis.get(key)).toBe("héllo ✓ 你好");
    await redis.set(`${key}:obj`, { a: 1, b: ["x"] });
    expect(await redis.get(`${key}:obj`)).toEqual({ a: 1, b: ["x"] });
    expect(await redis.incr(`${key}:n`)).toBe(1);
    expect(await redis.incrby(`${key}:n`, 41)).toBe(42);
    expect(await redis.get(`${key}:missing`)).toBeNull();
    expect(await redis.mget(key, `${key}:missing`)).toEqual(["héllo ✓ 你好", null]);
  });

  it("pipeline: results in order, a failing command fails the pipeline", async () => {
    const redis = make();
    const key = `p:${crypto.randomUUID()}`;
    const results = await redis.pipeline().set(key, "v").incr(`${key}:n`).get(key).exec();
    expect(results).toEqual(["OK", 1, "v"]);
    const kept = await redis.pipeline().incr(key).incr(`${key}:n`).exec({ keepErrors: true });
    expect(kept[0]?.error).toMatch(/not an integer/);
    expect(kept[1]?.result).toBe(2);
  });

  it("multi-exec is atomic and returns every result", async () => {
    const redis = make();
    const key = `m:${crypto.randomUUID()}`;
    const results = await Promise.all([1, 2, 3].map(() => redis.multi().incr(key).incr(key).exec()));
    // Each transaction's two increments are adjacent: no other transaction interleaves.
    expect(results.map(([a, b]) => (b as number) - (a as number))).toEqual([1, 1, 1]);
    expect(results.flat().sort()).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("eval / scriptLoad / evalsha, including Upstash's allow-key-locking shebang", async () => {
    const redis = make();
    const key = `e:${crypto.randomUUID()}`;
    const plain = "return redis.call('INCRBY', KEYS[1], ARGV[1])";
    expect(await redis.eval(plain, [key], [5])).toBe(5);
    const sha = await redis.scriptLoad(plain);
    expect(sha).toBe(sha1(plain));
    expect(await redis.evalsha(sha, [key], [2])).toBe(7);

    const flagged = `#!lua flags=allow-key-locking\nreturn {redis.call('INCR', KEYS[1]), ARGV[1]}`;
    expect(await redis.eval(flagged, [key], ["x"])).toEqual([8, "x"]);
    // The client addresses the script by the SHA1 of the text it sent, not of the rewritten one.
    expect(await redis.evalsha(sha1(flagged), [key], ["y"])).toEqual([9, "y"]);
    expect(await redis.scriptLoad(flagged)).toBe(sha1(flagged));
    expect(await redis.scriptExists(sha1(flagged), sha1("never loaded"))).toEqual([1, 0]);
    await expect(redis.evalsha(sha1("never loaded"), [], [])).rejects.toThrow(/NOSCRIPT/);
  });

  it("surfaces an unknown command as an error", async () => {
    const redis = make();
    await expect(redis.exec(["NOSUCHCOMMAND", "x"])).rejects.toThrow(/unknown command/i);
  });

  it("a wrong token is refused", async () => {
    const redis = new Redis({ url: upstash.url, token: "wrong-token", enableTelemetry: false, retry: false });
    await expect(redis.get("anything")).rejects.toThrow(/Unauthorized/);
  });
});

describe("REST surface", () => {
  it("401 without or with a wrong token, on every route", async () => {
    for (const path of ["/", "/pipeline", "/multi-exec"]) {
      expect((await post(path, [["PING"]], "nope")).status).toBe(401);
      expect((await fetch(`${upstash.url}${path}`, { method: "POST", body: '["PING"]' })).status).toBe(401);
    }
    expect((await fetch(`${upstash.url}/?_token=${upstash.token}`, { method: "POST", body: '["PING"]' })).status).toBe(
      200,
    );
  });

  it("400 with { error } for a failing single command; 200 with per-command errors for a pipeline", async () => {
    const res = await post("/", ["NOSUCHCOMMAND"]);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: expect.stringMatching(/^ERR unknown command/) });
    const pipe = await post("/pipeline", [["SET", "rest:a", "1"], ["NOSUCHCOMMAND"], ["INCR", "rest:a"]]);
    expect(pipe.status).toBe(200);
    expect(await pipe.json()).toEqual([
      { result: "OK" },
      { error: expect.stringMatching(/unknown command/) },
      { result: 2 },
    ]);
  });

  it("discards a transaction with an unknown command as a whole (400), runs none of it", async () => {
    const key = `tx:${crypto.randomUUID()}`;
    const res = await post("/multi-exec", [["INCR", key], ["NOSUCHCOMMAND"]]);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: expect.stringMatching(/unknown command/) });
    expect(await (await post("/", ["GET", key])).json()).toEqual({ result: null });
  });

  it("base64-encodes every string but a top-level OK when asked to", async () => {
    const headers = { authorization: `Bearer ${upstash.token}`, "upstash-encoding": "base64" };
    const call = async (body: unknown) =>
      (await fetch(upstash.url, { method: "POST", headers, body: JSON.stringify(body) })).json();
    expect(await call(["SET", "b64", "é"])).toEqual({ result: "OK" });
    expect(await call(["GET", "b64"])).toEqual({ result: Buffer.from("é").toString("base64") });
    expect(await call(["EVAL", "return {1, 'OK'}", "0"])).toEqual({
      result: [1, Buffer.from("OK").toString("base64")],
    });
  });

  it("refuses commands that would break the shared connection", async () => {
    for (const command of [["MULTI"], ["SELECT", "1"], ["BLPOP", "q", "0"], ["SUBSCRIBE", "c"]]) {
      const res = await post("/", command);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: expect.stringMatching(/not available/) });
    }
  });

  it("405 for other methods, 404 for other paths, 400 for bad bodies", async () => {
    const auth = { authorization: `Bearer ${upstash.token}` };
    expect((await fetch(upstash.url, { headers: auth })).status).toBe(405);
    expect((await post("/get/foo", [])).status).toBe(404);
    expect((await fetch(upstash.url, { method: "POST", headers: auth, body: "not json" })).status).toBe(400);
    expect((await post("/", [])).status).toBe(400);
    expect((await post("/", [{ nested: true }])).status).toBe(400);
  });
});
