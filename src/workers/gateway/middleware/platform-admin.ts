import type { MiddlewareHandler } from "hono";
import { constantTimeEqual } from "../../../lib/crypto";
import { AppError } from "../../../lib/errors";
import type { AppEnv } from "../context";

/**
 * Platform admin authentication: `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant
 * time. Tenant user tokens never match, so the admin API is unreachable with them.
 */
export function requireAdmin(): MiddlewareHandler<AppEnv> {
  return async function requireAdmin(c, next) {
    const header = c.req.header("authorization") ?? "";
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    const configured = c.env.ADMIN_TOKEN;
    // An unset or short ADMIN_TOKEN must never open the API.
    if (!m || !configured || configured.length < 16 || !(await constantTimeEqual(m[1]!, configured))) {
      throw new AppError("admin_unauthorized", "A valid platform admin token is required (Authorization: Bearer …).", {
        headers: { "www-authenticate": 'Bearer realm="canopy-admin"' },
      });
    }
    c.set("logFields", { ...c.get("logFields"), actor: "platform-admin" });
    await next();
  };
}
