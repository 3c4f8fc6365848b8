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

// The routes whose body is file bytes: `POST /v1/files` (multipart form) and the parts of a
// multipart upload. They get the tenant's upload limit instead of the JSON body limit; the files
// service then checks each file's exact size against its purpose.
const UPLOAD_ROUTE = /^\/v1\/files(\/uploads\/[^/]+\/parts\/[^/]+)?\/?$/;
// Room for the multipart/form-data framing around the file: boundaries, part headers, purpose.
const UPLOAD_FRAMING_BYTES = 16 * 1024;

function isUpload(method: string, path: string): boolean {
  return (method === "POST" || method === "PUT") && UPLOAD_ROUTE.test(path);
}

/**
 * Rejects bodies larger than the tenant's limit (`maxUploadBytes` on upload routes, else
 * `maxBodyBytes`; MAX_BODY_BYTES before a tenant is known) with a 413 problem. Hono's limiter
 * checks Content-Length and also counts streamed bytes, so a lying or absent Content-Length does
 * not get around it. GET and HEAD carry no body.
 */
export async function limitBody(c: Context<AppEnv>, next: Next): Promise<void> {
  if (c.req.method === "GET" || c.req.method === "HEAD") return next();
  const limits = c.get("tenant")?.config.limits;
  const maxSize = limits
    ? isUpload(c.req.method, c.req.path) ? limits.maxUploadBytes + UPLOAD_FRAMING_BYTES : limits.maxBodyBytes
    : Number(c.env.MAX_BODY_BYTES) || 1024 * 1024;
  // Over the limit, the limiter's onError throws the 413; otherwise it calls next().
  await limiterFor(maxSize)(c, next);
}

/** The body limit as a middleware, for routes outside a tenant (the platform admin API). */
export function bodyLimit(): MiddlewareHandler<AppEnv> {
  return async function bodyLimit(c, next) {
    await limitBody(c, next);
  };
}
