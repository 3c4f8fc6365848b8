import type { Context, MiddlewareHandler } from "hono";
import { type AuditDb, auditInsert, closeAuditEntry, type AuditEntry } from "../../../db/audit-log";
import { newId } from "../../../lib/ids";
import { log } from "../../../lib/log";
import type { AppEnv } from "../context";
import { handlerRoute } from "../http";
import { clientAddress } from "./rate-limit";

/** What only a handler knows about its action: what it created, an edit's before and after. */
export interface AuditNote {
  targetId?: string;
  changes?: { before: unknown; after: unknown };
}

declare module "hono" {
  interface ContextVariableMap {
    /** The open audit entry's note (docs/privacy.md, "Audit log"); set by {@link audited}. */
    audit: AuditNote;
  }
}

/**
 * Operation ids by `METHOD /path/{param}`, from the routers as the app mounts them (the action an
 * entry records is the operation's id: `suspendUser`, `createRole`).
 */
const operations = new Map<string, string>();

/** Records a mounted router's operations (called once per mount when the app is assembled). */
export function registerOperations(
  base: string,
  defs: readonly { method: string; path: string; operationId?: string }[],
) {
  for (const d of defs)
    if (d.operationId) operations.set(`${d.method.toUpperCase()} ${joinPath(base, d.path)}`, d.operationId);
}

const joinPath = (base: string, path: string) => (base === "/" ? path : `${base}${path}`);
/** Hono's `/v1/admin/users/:id` as OpenAPI writes it: `/v1/admin/users/{id}`. */
const openApiPath = (routePath: string) => routePath.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, "{$1}");

/**
 * The target an action names in its path: the first parameter, its type the segment before it.
 * The value is read from the request's path at the pattern's position (a middleware mounted with
 * `app.use` sees no parameters of the route it precedes).
 */
function targetOf(pattern: string, requestPath: string): { type: string | null; id: string | null } {
  const segs = pattern.split("/").filter(Boolean);
  const i = segs.findIndex((s) => s.startsWith("{"));
  if (i < 0) return { type: singular(segs[segs.length - 1] ?? null), id: null };
  const raw = requestPath.split("/").filter(Boolean)[i];
  let id: string | null = null;
  try {
    id = raw === undefined ? null : decodeURIComponent(raw);
  } catch {
    id = raw ?? null;
  }
  // Bounded: the parameter is not validated yet (validation runs after this middleware).
  return { type: singular(segs[i - 1] ?? null), id: id === null ? null : id.slice(0, 128) };
}
const singular = (s: string | null) => (s === null ? null : s.endsWith("s") ? s.slice(0, -1) : s);

const CHANGES = new Set(["POST", "PUT", "PATCH", "DELETE"]);
/** Whether a request is an action to record: every change, and exports (by permission or path). */
const isAction = (method: string, permission: string, path: () => string) =>
  CHANGES.has(method) || permission.endsWith(":export") || (method === "GET" && path().endsWith("/export"));

/**
 * Audits an action (docs/privacy.md, "Audit log"): the entry is written before the handler runs,
 * so no action happens without one (a failed write refuses the request), and closed with the
 * outcome when it ends; the handler may note what it created and an edit's before and after
 * (`c.get("audit")`). Reads pass through unrecorded, exports excepted.
 */
export function audited(permission: string, db: (c: Context<AppEnv>) => AuditDb): MiddlewareHandler<AppEnv> {
  return async function audited(c, next) {
    // The handler's route (the last one matched for the method; middleware of `app.use` is ALL),
    // worked out only for requests that may be actions: reads are the hot path.
    let route: string | undefined;
    const routeOf = () => (route ??= openApiPath(handlerRoute(c) ?? c.req.routePath));
    if (!isAction(c.req.method, permission, routeOf)) return next();
    const path = routeOf();
    const p = c.get("principal");
    const now = Date.now();
    const entry: AuditEntry = {
      id: newId(now),
      at: now,
      actor:
        p === undefined
          ? { type: "platform", id: null }
          : p.kind === "user"
            ? { type: "user", id: p.userId }
            : { type: "apiKey", id: p.keyId },
      action: operations.get(`${c.req.method} ${path}`) ?? `${c.req.method} ${path}`,
      target: targetOf(path, c.req.path),
      ip: clientAddress(c.req, c.env),
      userAgent: c.req.header("user-agent")?.slice(0, 256) ?? null,
      requestId: c.get("requestId") ?? null,
      outcome: "pending",
    };
    const handle = db(c);
    await auditInsert(handle, entry);
    const note: AuditNote = {};
    c.set("audit", note);
    await next();
    const ok = c.res.status < 400 && c.error === undefined;
    const targetId = note.targetId ?? (ok && entry.target.id === null ? await createdId(c.res) : undefined);
    try {
      await closeAuditEntry(handle, entry.id, {
        outcome: ok ? "succeeded" : "failed",
        targetId,
        changes: note.changes,
      });
    } catch (err) {
      // The entry stays open ('pending'): the action is recorded, its outcome is not.
      log("error", "audit entry not closed", { entryId: entry.id, error: String(err) });
    }
  };
}

/** The `id` of the JSON object a create answered with, if any (small JSON answers only: never a stream). */
async function createdId(res: Response): Promise<string | undefined> {
  const type = res.headers.get("content-type")?.split(";")[0]?.trim();
  const length = Number(res.headers.get("content-length") ?? 0);
  if (type !== "application/json" || length > 65_536) return undefined;
  try {
    const body = (await res.clone().json()) as { id?: unknown };
    return typeof body?.id === "string" ? body.id : undefined;
  } catch {
    return undefined;
  }
}

/** Where a security event came from. */
export interface SecurityClient {
  ip: string;
  userAgent: string;
  requestId?: string | undefined;
}

/** The request's client, as a security event records it. */
export const securityClient = (c: Context<AppEnv>): SecurityClient => ({
  ip: clientAddress(c.req, c.env),
  userAgent: c.req.header("user-agent") ?? "",
  requestId: c.get("requestId"),
});

/**
 * Records one of an account's security events (docs/privacy.md): a password change or reset, MFA
 * on or off, recovery codes regenerated, a sign-in from a new device, an email change, a deletion
 * requested or cancelled. Written when the change is done (the change is the user's own, already
 * committed); a failure to write is logged, not turned into a failed request.
 */
export async function recordSecurityEvent(
  db: AuditDb,
  userId: string,
  action: string,
  client: SecurityClient,
  details?: Record<string, unknown>,
): Promise<void> {
  const now = Date.now();
  try {
    await auditInsert(db, {
      id: newId(now),
      at: now,
      actor: { type: "user", id: userId },
      action,
      target: { type: "user", id: userId },
      ip: client.ip,
      userAgent: client.userAgent.slice(0, 256) || null,
      requestId: client.requestId ?? null,
      outcome: "succeeded",
      security: true,
      ...(details ? { changes: { before: null, after: details } } : {}),
    });
  } catch (err) {
    log("error", "security event not recorded", { userId, action, error: String(err) });
  }
}
