import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../../context";

// A client's X-Request-Id is kept only when it is short and plain, so logs cannot be forged
// or bloated through it; anything else is replaced by a fresh id.
const SANE = /^[A-Za-z0-9._:-]{8,128}$/;

/** Sets the request id (kept from X-Request-Id when sane) and echoes it on the response. */
export function requestId(): MiddlewareHandler<AppEnv> {
  return async function requestId(c, next) {
    const incoming = c.req.header("x-request-id");
    const id = incoming && SANE.test(incoming) ? incoming : crypto.randomUUID();
    c.set("requestId", id);
    c.set("logFields", {});
    await next();
    c.res.headers.set("x-request-id", id);
  };
}
