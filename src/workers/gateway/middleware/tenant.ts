import type { MiddlewareHandler } from "hono";
import { platformDb } from "../../../db/client";
import { AppError } from "../../../lib/errors";
import type { AppEnv } from "../../context";
import { resolveTenant } from "../../tenant-cache";

const LABEL = /^[a-z][a-z0-9-]{1,38}[a-z0-9]$/;

/**
 * The slug a request addresses: the first label of `<slug>.<BASE_DOMAIN>`, else the X-Tenant
 * header. (Authenticated routes additionally require the token's tenant claim to match.)
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

/** Resolves the tenant of a tenant-scoped route: 404 tenant_not_found, 403 tenant_suspended. */
export function tenant(): MiddlewareHandler<AppEnv> {
  return async function tenant(c, next) {
    // The URL carries the host the client addressed (workerd fills it from the Host header).
    const slug = tenantSlugOf(new URL(c.req.url).host, c.req.header("x-tenant"), c.env.BASE_DOMAIN);
    if (!slug) throw new AppError(404, "tenant_not_found", "No tenant in the request: use <tenant>.<base domain> or the X-Tenant header.");
    const resolved = await resolveTenant(c.env, () => platformDb(c.env), slug);
    if (!resolved) throw new AppError(404, "tenant_not_found", `No tenant '${slug}'.`);
    c.set("tenant", resolved);
    if (resolved.status === "suspended") throw new AppError(403, "tenant_suspended", `The tenant '${slug}' is suspended.`);
    await next();
  };
}
