const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

function hex(bytes: Uint8Array, from: number, to: number): string {
  let out = "";
  for (let i = from; i < to; i++) out += HEX[bytes[i]!];
  return out;
}

export interface Trace {
  traceId: string;
  spanId: string;
  /** The traceparent to return: this request's span in the (continued) trace. */
  header: string;
}

/**
 * W3C Trace Context: continues the caller's trace from `traceparent` (version 00, non-zero ids)
 * or starts one. This request gets its own span id.
 */
export function continueTrace(traceparent: string | undefined): Trace {
  const m = traceparent ? TRACEPARENT.exec(traceparent) : null;
  const valid = m !== null && !/^0+$/.test(m[1]!) && !/^0+$/.test(m[2]!);
  // One call into the RNG for both ids: each call crosses into the runtime.
  const random = crypto.getRandomValues(new Uint8Array(24));
  const traceId = valid ? m[1]! : hex(random, 0, 16);
  const spanId = hex(random, 16, 24);
  return { traceId, spanId, header: `00-${traceId}-${spanId}-${valid ? m[3] : "01"}` };
}
