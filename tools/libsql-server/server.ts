/**
 * Local libSQL server: Hrana over HTTP (JSON) on the native `libsql` engine, one SQLite file per
 * namespace, addressed like sqld with namespaces.
 *
 * Routes (all but /health need `Authorization: Bearer <token>`):
 *   GET  /health                                  liveness, no auth
 *   GET  /dev/<ns>/{,v2,v3}                       version probes
 *   POST /dev/<ns>/v2/pipeline, …/v3/pipeline     Hrana pipeline
 *   POST /dev/<ns>/v3/cursor                      Hrana cursor (newline-delimited JSON)
 *   the same without `/dev/<ns>` for namespace `default` (auto-created)
 *   /v1/namespaces…                               admin API (admin.ts), master secret only
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { handleAdmin, type AdminContext } from "./admin.js";
import { Authenticator, bearerToken } from "./auth.js";
import { NAMESPACE_RE, NamespaceStore } from "./database.js";
import { HttpError } from "./errors.js";
import { cursorReqSchema, pipelineReqSchema } from "./hrana.js";
import { readJson, sendError, sendJson, sendLines, sendText } from "./http.js";
import { runCursor, runPipeline } from "./pipeline.js";
import { StreamManager } from "./streams.js";

/** Options of {@link startServer}. */
export interface ServerOptions {
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** Port (default 8080; 0 picks a free port). */
  port?: number;
  /** Directory holding `<namespace>.db` files (created if missing). */
  dataDir: string;
  /** Master secret: admin credential and key of the per-namespace tokens. */
  secret: string;
  /** Idle time after which a stream expires and its open transaction is rolled back (default 10 s, as sqld). */
  streamIdleTimeoutMs?: number;
}

/** A running server. */
export interface LibsqlServer {
  /** The port actually bound. */
  port: number;
  /** `http://127.0.0.1:PORT` (or the configured host). */
  origin: string;
  /** Base URL of a namespace for `createClient({ url })`: `origin + '/dev/' + ns + '/'`. */
  dbUrl(ns: string): string;
  /** Database token of a namespace (accepted only for that namespace). */
  tokenFor(ns: string): string;
  /** Stop accepting, roll back open transactions, close all connections and databases. */
  close(): Promise<void>;
}

const DEFAULT_NAMESPACE = "default";
const HRANA_PATH = /^(?:\/dev\/([^/]*))?(\/.*)?$/;
const HOST_HEADER = /^[A-Za-z0-9.\-[\]:]+$/;

interface Context extends AdminContext {
  origin: string;
}

function methodNotAllowed(method: string): HttpError {
  return new HttpError(405, "METHOD_NOT_ALLOWED", `${method} is not allowed here`);
}

function unauthorized(): HttpError {
  return new HttpError(401, "UNAUTHORIZED", "Unauthorized: missing or invalid bearer token");
}

async function handleHrana(
  ctx: Context,
  req: IncomingMessage,
  res: ServerResponse,
  ns: string,
  rest: string,
): Promise<void> {
  const method = req.method ?? "GET";
  const route = rest.replace(/\/+$/, "") || "/";
  const known = ["/", "/v2", "/v3", "/v2/pipeline", "/v3/pipeline", "/v3/cursor"];
  if (!known.includes(route)) throw new HttpError(404, "NOT_FOUND", `No route for ${method} ${rest}`);
  if (!NAMESPACE_RE.test(ns)) throw new HttpError(400, "INVALID_NAMESPACE", `Invalid namespace name \`${ns}\``);
  // Authenticate before revealing whether the namespace exists.
  if (!ctx.auth.allows(bearerToken(req), ns)) throw unauthorized();
  const db = ns === DEFAULT_NAMESPACE ? ctx.store.getOrCreate(ns) : ctx.store.get(ns);
  if (db === undefined) throw new HttpError(404, "NAMESPACE_NOT_FOUND", `Namespace \`${ns}\` doesn't exist`);

  if (route === "/" || route === "/v2" || route === "/v3") {
    if (method !== "GET" && method !== "HEAD") throw methodNotAllowed(method);
    const version = route === "/v3" ? "v3" : "v2";
    sendText(res, 200, `Hello, this is HTTP API ${version} (Hrana over HTTP)`);
    return;
  }
  if (method !== "POST") throw methodNotAllowed(method);
  if (route === "/v3/cursor") {
    const body = await readJson(req, cursorReqSchema);
    sendLines(res, await runCursor(ctx.streams, db, body));
    return;
  }
  const body = await readJson(req, pipelineReqSchema);
  sendJson(res, 200, await runPipeline(ctx.streams, db, body));
}

async function route(ctx: Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? "/", "http://localhost").pathname;
  if (path === "/health") {
    sendJson(res, 200, { status: "ok" });
    return;
  }
  if (path === "/v1/namespaces" || path.startsWith("/v1/namespaces/")) {
    if (!ctx.auth.isMaster(bearerToken(req))) throw unauthorized();
    if (await handleAdmin(ctx, req, res, path)) return;
    throw new HttpError(404, "NOT_FOUND", `No route for ${req.method ?? "GET"} ${path}`);
  }
  const m = HRANA_PATH.exec(path);
  if (m === null) throw new HttpError(404, "NOT_FOUND", `No route for ${path}`);
  const ns = m[1] === undefined ? DEFAULT_NAMESPACE : decodeURIComponent(m[1]);
  await handleHrana(ctx, req, res, ns, m[2] ?? "/");
}

function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof URIError) return new HttpError(400, "BAD_REQUEST", "Malformed URL encoding");
  // A bug, not a client error: log it and answer 500 rather than crash.
  console.error("libsql server: internal error", err);
  const message = err instanceof Error ? err.message : String(err);
  return new HttpError(500, "INTERNAL_ERROR", `Internal server error: ${message}`);
}

/** Start the server; resolves once it listens. */
export async function startServer(opts: ServerOptions): Promise<LibsqlServer> {
  const host = opts.host ?? "127.0.0.1";
  const auth = new Authenticator(opts.secret);
  const store = new NamespaceStore(opts.dataDir);
  const streams = new StreamManager(opts.streamIdleTimeoutMs ?? 10_000);
  const ctx: Context = {
    store,
    streams,
    auth,
    origin: "",
    // Admin answers use the Host the caller used, so URLs work through port mappings too.
    dbUrl: (ns, req) => {
      const hostHeader = req.headers.host;
      const base = hostHeader !== undefined && HOST_HEADER.test(hostHeader) ? `http://${hostHeader}` : ctx.origin;
      return `${base}/dev/${ns}/`;
    },
  };

  const server = createServer((req, res) => {
    route(ctx, req, res).catch((err: unknown) => {
      const httpErr = toHttpError(err);
      if (res.headersSent) res.destroy();
      else sendError(res, httpErr);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 8080, host, () => {
      server.off("error", reject);
      resolve();
    });
  });

  const { port } = server.address() as AddressInfo;
  const shownHost =
    host === "0.0.0.0" || host === "::" || host === "" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  ctx.origin = `http://${shownHost}:${port}`;
  let closing: Promise<void> | undefined;

  return {
    port,
    origin: ctx.origin,
    dbUrl: (ns) => `${ctx.origin}/dev/${ns}/`,
    tokenFor: (ns) => auth.tokenFor(ns),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        streams.closeAll();
        store.closeAll(new HttpError(503, "SERVER_SHUTTING_DOWN", "The server is shutting down"));
        // Keep-alive sockets would keep server.close() (and a test runner) waiting.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
