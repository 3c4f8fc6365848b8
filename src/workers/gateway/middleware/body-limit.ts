import type { Context, MiddlewareHandler, Next } from "hono";
import { bodyLimit as honoBodyLimit } from "hono/body-limit";
import { AppError } from "../../../lib/errors";
import type { AppEnv } from "../../context";

// One limiter per size, built once per isolate rather than per request.
const limiters = new Map<number, MiddlewareHandler>();

function limiterFor(maxSize: number): MiddlewareHandler {
  let limiter = limiters.get(maxSize);
  if (!limiter) {
    limiter = honoBodyLimit({
      maxSize,
      onError: () => {
        throw new AppError(413, "body_too_large", `The request body exceeds the limit of ${maxSize} bytes.`);
      },
    });
    limiters.set(maxSize, limiter);
  }
  return limiter;
}

/**
 * Rejects bodies larger than the tenant's limit (or MAX_BODY_BYTES before a tenant is known)
 * with a 413 problem. Hono's limiter checks Content-Length and also counts streamed bytes, so a
 * lying or absent Content-Length does not get around it. GET and HEAD carry no body.
 */
export async function limitBody(c: Context<AppEnv>, next: Next): Promise<void> {
  if (c.req.method === "GET" || c.req.method === "HEAD") return next();
  const maxSize = c.get("tenant")?.config.limits.maxBodyBytes ?? (Number(c.env.MAX_BODY_BYTES) || 1024 * 1024);
  // Over the limit, the limiter's onError throws the 413; otherwise it calls next().
  await limiterFor(maxSize)(c, next);
}

/** The body limit as a middleware, for routes outside a tenant (the platform admin API). */
export function bodyLimit(): MiddlewareHandler<AppEnv> {
  return async function bodyLimit(c, next) {
    await limitBody(c, next);
  };
}
