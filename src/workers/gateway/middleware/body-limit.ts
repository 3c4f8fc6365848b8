import type { MiddlewareHandler } from "hono";
import { bodyLimit as honoBodyLimit } from "hono/body-limit";
import { AppError } from "../../../lib/errors";
import type { AppEnv } from "../../context";

/**
 * Rejects bodies larger than the tenant's limit (or MAX_BODY_BYTES before a tenant is known)
 * with a 413 problem. Hono's limiter checks Content-Length and also counts streamed bytes, so a
 * lying or absent Content-Length does not get around it.
 */
export function bodyLimit(): MiddlewareHandler<AppEnv> {
  return async function bodyLimit(c, next) {
    const maxSize = c.get("tenant")?.config.limits.maxBodyBytes ?? (Number(c.env.MAX_BODY_BYTES) || 1024 * 1024);
    const limiter = honoBodyLimit({
      maxSize,
      onError: () => {
        throw new AppError(413, "body_too_large", `The request body exceeds the limit of ${maxSize} bytes.`);
      },
    });
    return limiter(c, next);
  };
}
