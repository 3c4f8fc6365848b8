import { AppError } from "./errors";
import { base64url, fromBase64url } from "./ids";

/**
 * Opaque pagination cursors: base64url of a small JSON array of sort keys. Clients must treat
 * them as opaque; a cursor that does not decode is a 400, never a 500.
 */
export function encodeCursor(keys: (string | number)[]): string {
  return base64url(new TextEncoder().encode(JSON.stringify(keys)));
}

export function decodeCursor(cursor: string, arity: number): (string | number)[] {
  try {
    const keys: unknown = JSON.parse(new TextDecoder().decode(fromBase64url(cursor)));
    if (
      Array.isArray(keys) &&
      keys.length === arity &&
      keys.every((k) => typeof k === "string" || typeof k === "number")
    ) {
      return keys as (string | number)[];
    }
  } catch {
    // fall through to the 400 below
  }
  throw new AppError(400, "invalid_cursor", "The cursor is not one this API issued.");
}
