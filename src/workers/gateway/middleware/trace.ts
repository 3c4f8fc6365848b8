import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../../context";

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

function hex(bytes: number): string {
  let out = "";
  for (const b of crypto.getRandomValues(new Uint8Array(bytes))) out += HEX[b];
  return out;
}

/**
 * W3C Trace Context: continues the caller's trace from `traceparent` (version 00, non-zero ids)
 * or starts one. This request gets its own span id; the response carries the traceparent so
 * clients can quote it in bug reports.
 */
export function trace(): MiddlewareHandler<AppEnv> {
  return async function trace(c, next) {
    const m = TRACEPARENT.exec(c.req.header("traceparent") ?? "");
    const valid = m && !/^0+$/.test(m[1]!) && !/^0+$/.test(m[2]!);
    const traceId = valid ? m[1]! : hex(16);
    const spanId = hex(8);
    c.set("traceId", traceId);
    c.set("spanId", spanId);
    await next();
    c.res.headers.set("traceparent", `00-${traceId}-${spanId}-${valid ? m[3] : "01"}`);
  };
}
