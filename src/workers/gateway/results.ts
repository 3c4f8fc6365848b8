import type { Result } from "../../durable/protocol/result";
import { AppError } from "../../lib/errors";

/**
 * The value of a Durable Object call, or its refusal as the API's problem: the registry code
 * the object chose, the same one a socket's error frame carries (src/durable/protocol/result.ts).
 */
export function valueOf<T>(r: Result<T>): T {
  if (r.ok) return r.value;
  throw new AppError(r.code, r.detail);
}
