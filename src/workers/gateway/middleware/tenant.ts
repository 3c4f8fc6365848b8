import type { Context, MiddlewareHandler } from "hono";
import { platformDb } from "../../../db/client";
import { AppError } from "../../../lib/errors";
import type { AppEnv } from "../context";
import { publishInBackground } from "../../events/outbox-publisher";
import { sharedTenantDb } from "../../../db/tenant-db";
import { resolveTenant } from "../../tenancy/tenant-cache";
import { limitBody } from "./body-limit";
import { corsFor } from "./cors";

const LABEL = /^[a-z][a-z0-9-]{1,38}[a-z0-9]$/;

/**
 * The slug a request addresses: the first label of `<slug>.<BASE_DOMAIN>`, else the X-Tenant
 * header (or a socket upgrade's `?tenant=`). Authenticated routes additionally require the
 * token's tenant claim to match.
 */
export function tenantSlugOf(host: string | undefined, header: string | undefined, baseDomain: string): string | null {
  const hostname = (host ?? "").toLowerCase().replace(/:\d+$/, "");
  const suffix = `.${baseDomain.toLowerCase()}`;
  if (baseDomain && hostname.endsWith(suffix)) {
    const label = hostname.slice(0, -suffix.length);
    if (LABEL.test(label)) return label;
  }
  const fromHeader = header?.trim().toLowerCase();
  return fromHeader && LABEL.test(fromHeader) ? fromHeader : null;
}

/** The host of a request URL without allocating a URL object (hot path). */
function hostOf(url: string): string {
  const start = url.indexOf("//") + 2;
  const end = url.indexOf("/", start);
  return url.slice(start, end === -1 ? undefined : end);
}

/**
 * A browser's WebSocket cannot set X-Tenant: an upgrade may name its tenant as `?tenant=<slug>`
 * instead (the ticket it carries is the tenant's own, so the name only picks where to look).
 */
function socketTenant(c: Context<AppEnv>): string | undefined {
  return c.req.header("upgrade")?.toLowerCase() === "websocket" ? c.req.query("tenant") : undefined;
}

function afterResponse(c: Context<AppEnv>, work: Promise<void>): void {
  try {
    c.executionCtx.waitUntil(work);
  } catch {
    // No execution context (app.request in a unit test): the promise still runs to completion.
  }
}

/**
 * Everything a tenant-scoped route needs before its handler, as one middleware: resolve the
 * tenant (404 tenant_not_found, 403 tenant_suspended), apply its CORS policy, then its body
 * limit. One async frame instead of three (docs/performance.md).
 */
export function tenantScope(): MiddlewareHandler<AppEnv> {
  return async function tenantScope(c, next) {
    // The URL carries the host the client addressed (workerd fills it from the Host header).
    const slug = tenantSlugOf(hostOf(c.req.url), c.req.header("x-tenant") ?? socketTenant(c), c.env.BASE_DOMAIN);
    if (!slug)
      throw new AppError(
        "tenant_not_found",
        "No tenant in the request: use <tenant>.<base domain> or the X-Tenant header.",
      );
    const resolved = await resolveTenant(c.env, () => platformDb(c.env), slug);
    if (!resolved) throw new AppError("tenant_not_found", `No tenant '${slug}'.`);
    c.set("tenant", resolved);
    c.set("db", sharedTenantDb(resolved.db));
    if (resolved.status === "suspended") throw new AppError("tenant_suspended", `The tenant '${slug}' is suspended.`);
    const cors = corsFor(c);
    if (cors?.preflight) return cors.preflight;
    await limitBody(c, next);
    if (cors) for (const [k, v] of Object.entries(cors.headers)) c.res.headers.set(k, v);
    // A successful write may have committed outbox rows: publish them once the response is out.
    if (c.req.method !== "GET" && c.req.method !== "HEAD" && c.res.status < 400)
      afterResponse(c, publishInBackground(c.env, resolved, c.get("db")));
  };
}
