import { AppError } from "./errors";
import { base64url, fromBase64url } from "./ids";
import { SettledCache } from "./settled-cache";

/**
 * Opaque, tamper-evident pagination cursors: `<payload>.<mac>`, where the payload is base64url
 * of a JSON array of the last row's sort keys and the mac is an HMAC-SHA256 (truncated to 128
 * bits) over the list's scope and the payload. The scope names the tenant and the route, so a
 * cursor only ever works on the list that issued it; the keys are also checked against the
 * list's shape. Anything else is 400 `invalid_cursor`, never a 500 and never a 200.
 */

/**
 * The sort keys of a list: one id-like string; a time and an id; or a sequence number and the
 * direction the list pages in (a conversation's history pages back or forward).
 */
export type CursorShape = "id" | "time-id" | "seq";
export type CursorKeys<S extends CursorShape> = S extends "id"
  ? [string]
  : S extends "seq"
    ? [number, "before" | "after"]
    : [number, string];

const MAC_BYTES = 16;
const MAX_KEY_CHARS = 128;
const encoder = new TextEncoder();
const invalid = () => new AppError("invalid_cursor", "The cursor is not one this list issued.");

// One HMAC key per isolate and secret, derived with HKDF so it is independent of every other
// use of the platform key.
const macKeys = new SettledCache<CryptoKey>(16);

function macKey(secret: string): Promise<CryptoKey> {
  return macKeys.get(
    secret,
    () => true,
    async () => {
      const base = await crypto.subtle.importKey("raw", encoder.encode(secret), "HKDF", false, ["deriveKey"]);
      return crypto.subtle.deriveKey(
        { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: encoder.encode("canopy cursor v1") },
        base,
        { name: "HMAC", hash: "SHA-256", length: 256 },
        false,
        ["sign", "verify"],
      );
    },
  );
}

async function mac(secret: string, scope: string, payload: string): Promise<Uint8Array> {
  const sig = await crypto.subtle.sign("HMAC", await macKey(secret), encoder.encode(`${scope}\n${payload}`));
  return new Uint8Array(sig, 0, MAC_BYTES);
}

function fits<S extends CursorShape>(shape: S, keys: unknown): keys is CursorKeys<S> {
  if (!Array.isArray(keys)) return false;
  const id = keys[keys.length - 1];
  const idOk = typeof id === "string" && id.length > 0 && id.length <= MAX_KEY_CHARS;
  if (shape === "id") return keys.length === 1 && idOk;
  if (shape === "seq") return keys.length === 2 && Number.isSafeInteger(keys[0]) && (id === "before" || id === "after");
  return keys.length === 2 && Number.isSafeInteger(keys[0]) && idOk;
}

/** Decodes and signs the cursors of one list. */
export interface Pager<S extends CursorShape> {
  /** The keys the request's cursor names (undefined on the first page); 400 when forged. */
  after(cursor: string | undefined): Promise<CursorKeys<S> | undefined>;
  /**
   * A list page from a query that asked for `limit + 1` rows: the first `limit` rows, and the
   * cursor of the last one when there is more (null at the end).
   */
  page<T>(
    rows: T[],
    limit: number,
    keyOf: (last: T) => CursorKeys<S>,
  ): Promise<{ page: T[]; nextCursor: string | null }>;
  /** The signed cursor of these keys (for lists that page by something other than their rows). */
  cursor(keys: CursorKeys<S>): Promise<string>;
}

/** The pager of the list named by `scope` (tenant and route), with the platform's secret. */
export function pager<S extends CursorShape>(secret: string, scope: string, shape: S): Pager<S> {
  return {
    async after(cursor) {
      if (cursor === undefined) return undefined;
      const [payload, sig, extra] = cursor.split(".");
      if (!payload || !sig || extra !== undefined) throw invalid();
      let given: Uint8Array;
      let keys: unknown;
      try {
        given = fromBase64url(sig);
        keys = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(fromBase64url(payload)));
      } catch {
        throw invalid();
      }
      const expected = await mac(secret, scope, payload);
      let diff = given.length ^ expected.length;
      for (let i = 0; i < expected.length; i++) diff |= expected[i]! ^ (given[i] ?? 0);
      if (diff !== 0 || !fits(shape, keys)) throw invalid();
      return keys;
    },
    async page(rows, limit, keyOf) {
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      if (rows.length <= limit || last === undefined) return { page, nextCursor: null };
      return { page, nextCursor: await this.cursor(keyOf(last)) };
    },
    async cursor(keys) {
      const payload = base64url(encoder.encode(JSON.stringify(keys)));
      return `${payload}.${base64url(await mac(secret, scope, payload))}`;
    },
  };
}
