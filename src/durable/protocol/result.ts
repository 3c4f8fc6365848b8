import type { ErrorCode } from "../../lib/error-codes";

/**
 * The one result shape of Durable Object calls that may be refused: the value, or a registered
 * error code with a human detail. The Worker turns a refusal into a problem (`valueOf` in
 * src/workers/do-results.ts), a socket into an `error` frame with the same code: one code, one
 * status (src/lib/error-codes.ts), whichever way the call came.
 */
export type Result<T> = { ok: true; value: T } | Refusal;
export type Refusal = { readonly ok: false; readonly code: ErrorCode; readonly detail: string };

export const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });
export const refuse = (code: ErrorCode, detail: string): Refusal => ({ ok: false, code, detail });
