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

/**
 * A list page from a query that asked for `limit + 1` rows: the first `limit` rows, and the
 * cursor of the last one when there is more (null at the end).
 */
export function pageOf<T>(rows: T[], limit: number, keyOf: (last: T) => (string | number)[]): { page: T[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { page, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null };
}
