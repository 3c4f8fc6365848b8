/**
 * Admin API, modelled on sqld's (`POST /v1/namespaces/<ns>/create`, `DELETE /v1/namespaces/<ns>`),
 * plus listing and lookup. Only the master secret is accepted (checked by the router).
 *
 * Extensions over sqld: `create` answers `{ namespace, url, token }`, so provisioning code gets the
 * database URL and a database-scoped token in one call (what Turso's platform API returns).
 * Creating an existing namespace is a 409 NAMESPACE_ALREADY_EXISTS (sqld answers 400; Turso's
 * platform API 409); callers that want idempotency treat 409 as success.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import type { Authenticator } from "./auth.js";
import { NAMESPACE_RE, type NamespaceStore } from "./database.js";
import { HttpError } from "./errors.js";
import { readJson, sendJson } from "./http.js";
import type { StreamManager } from "./streams.js";

/** What the admin routes need from the server. */
export interface AdminContext {
  store: NamespaceStore;
  streams: StreamManager;
  auth: Authenticator;
  /** Base URL of a namespace for clients, with trailing slash. */
  dbUrl(ns: string, req: IncomingMessage): string;
}

// sqld's create body carries options (dump_url, max_db_size, …); none apply locally, accept any.
const createBodySchema = z.looseObject({});

function checkName(ns: string): void {
  if (!NAMESPACE_RE.test(ns)) {
    throw new HttpError(400, "INVALID_NAMESPACE", `Invalid namespace name \`${ns}\`: expected ${NAMESPACE_RE.source}`);
  }
}

function notFound(ns: string): HttpError {
  return new HttpError(404, "NAMESPACE_NOT_FOUND", `Namespace \`${ns}\` doesn't exist`);
}

/** Handle `/v1/namespaces…`; returns false if the path is not an admin route. */
export async function handleAdmin(
  ctx: AdminContext,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<boolean> {
  const method = req.method ?? "GET";
  if (path === "/v1/namespaces" || path === "/v1/namespaces/") {
    if (method !== "GET") throw new HttpError(405, "METHOD_NOT_ALLOWED", `${method} is not allowed here`);
    const namespaces = ctx.store.list().map((name) => ({ name, url: ctx.dbUrl(name, req) }));
    sendJson(res, 200, { namespaces });
    return true;
  }
  const create = /^\/v1\/namespaces\/([^/]+)\/create\/?$/.exec(path);
  if (create?.[1] !== undefined) {
    if (method !== "POST") throw new HttpError(405, "METHOD_NOT_ALLOWED", `${method} is not allowed here`);
    const ns = decodeURIComponent(create[1]);
    checkName(ns);
    await readJson(req, createBodySchema, { optional: true });
    if (!ctx.store.create(ns)) {
      throw new HttpError(409, "NAMESPACE_ALREADY_EXISTS", `Namespace \`${ns}\` already exists`);
    }
    sendJson(res, 200, { namespace: ns, url: ctx.dbUrl(ns, req), token: ctx.auth.tokenFor(ns) });
    return true;
  }
  const one = /^\/v1\/namespaces\/([^/]+)\/?$/.exec(path);
  if (one?.[1] !== undefined) {
    const ns = decodeURIComponent(one[1]);
    checkName(ns);
    if (method === "GET") {
      if (!ctx.store.exists(ns)) throw notFound(ns);
      sendJson(res, 200, { namespace: ns, url: ctx.dbUrl(ns, req), token: ctx.auth.tokenFor(ns) });
      return true;
    }
    if (method !== "DELETE") throw new HttpError(405, "METHOD_NOT_ALLOWED", `${method} is not allowed here`);
    const db = ctx.store.opened(ns);
    if (db !== undefined) ctx.streams.dropDatabase(db);
    if (!ctx.store.delete(ns)) throw notFound(ns);
    sendJson(res, 200, { namespace: ns, deleted: true });
    return true;
  }
  return false;
}
