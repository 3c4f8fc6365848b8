/**
 * An HTTP server speaking the part of Upstash's Redis REST API that @upstash/redis uses, in
 * front of a real redis-server:
 *   POST /             `["CMD", …args]`       → `{ result }`, or 400 `{ error }`
 *   POST /pipeline     `[[…], […]]`           → 200 `[{ result } | { error }, …]`
 *   POST /multi-exec   `[[…], […]]` (atomic)  → 200 `[…]`, or 400 `{ error }` when discarded
 * Every route needs the token (`Authorization: Bearer …` or `?_token=`), else 401.
 * `Upstash-Encoding: base64` is honoured (encoding.ts). Path-style commands (`GET /get/key`),
 * SSE endpoints and read-only tokens are left out: the client library does not use them.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { runPipeline, runSingle, runTransaction } from "./commands.js";
import { toReply, type Reply } from "./encoding.js";
import { RedisClient } from "./redis-client.js";
import { authorized, readCommand, readCommands, RequestError } from "./request.js";
import { RespError } from "./resp.js";
import { ScriptShas } from "./scripts.js";

/** Options of {@link startUpstashAdapter}. */
export interface UpstashAdapterOptions {
  /** Port of the redis-server to forward to (on `redisHost`, default 127.0.0.1). */
  redisPort: number;
  redisHost?: string;
  /** The REST token clients must present. */
  token: string;
  /** Port to listen on (default 0: a free one). */
  port?: number;
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
}

/** A running adapter. */
export interface UpstashAdapter {
  /** Base URL for `new Redis({ url, token })`, e.g. `http://127.0.0.1:PORT`. */
  url: string;
  /** Stop listening, drop client connections and close the Redis connection. */
  close(): Promise<void>;
}

interface Context {
  redis: RedisClient;
  shas: ScriptShas;
  token: string;
}

function send(res: ServerResponse, status: number, body: Reply | Reply[]): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(data) });
  res.end(data);
}

async function handle(ctx: Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://adapter.invalid");
  if (!authorized(req, url, ctx.token)) throw new RequestError(401, "Unauthorized: invalid or missing auth token");
  const route = url.pathname.replace(/\/+$/, "") || "/";
  if (!["/", "/pipeline", "/multi-exec"].includes(route))
    throw new RequestError(404, `ERR no route for ${route} in the local Upstash adapter`);
  if (req.method !== "POST")
    throw new RequestError(405, `ERR method ${req.method ?? "?"} not allowed; the adapter takes POST only`);
  const base64 = (req.headers["upstash-encoding"] ?? "").toString().toLowerCase() === "base64";

  if (route === "/") {
    const reply = toReply(await runSingle(ctx.redis, ctx.shas, await readCommand(req)), base64);
    return send(res, "error" in reply ? 400 : 200, reply);
  }
  const commands = await readCommands(req);
  if (route === "/pipeline") {
    const replies = await runPipeline(ctx.redis, ctx.shas, commands);
    return send(
      res,
      200,
      replies.map((r) => toReply(r, base64)),
    );
  }
  const replies = await runTransaction(ctx.redis, ctx.shas, commands);
  if (replies instanceof RespError) return send(res, 400, { error: replies.message });
  send(
    res,
    200,
    replies.map((r) => toReply(r, base64)),
  );
}

/** Start the adapter; resolves once it listens. */
export async function startUpstashAdapter(options: UpstashAdapterOptions): Promise<UpstashAdapter> {
  const host = options.host ?? "127.0.0.1";
  const ctx: Context = {
    redis: new RedisClient(options.redisPort, options.redisHost),
    shas: new ScriptShas(),
    token: options.token,
  };
  const server = createServer((req, res) => {
    handle(ctx, req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      // Redis unreachable or the connection dropped: a server-side failure, not the client's.
      const status = err instanceof RequestError ? err.status : 500;
      send(res, status, { error: err instanceof Error ? err.message : String(err) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await ctx.redis.close();
    },
  };
}
