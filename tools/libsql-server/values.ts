/**
 * Conversion between Hrana JSON values and the values the `libsql` package binds and returns.
 *
 * Integers travel as decimal strings and are bound as bigint, and statements run with
 * `safeIntegers(true)`, so 64-bit values stay exact in both directions. Every JS `number` handed
 * to `libsql` binds as REAL, which is exactly what a Hrana `float` means.
 */
import { protocolError } from "./errors.js";
import type { HranaValue } from "./hrana.js";

/** A value the `libsql` package accepts as a bound parameter. */
export type BindValue = null | bigint | number | string | Buffer;

const MIN_I64 = -(2n ** 63n);
const MAX_I64 = 2n ** 63n - 1n;
const INTEGER = /^-?\d{1,20}$/;
// Standard base64, padding optional (clients differ on whether they pad).
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decode a Hrana value into a bind value; malformed values are protocol errors (HTTP 400). */
export function decodeValue(v: HranaValue): BindValue {
  switch (v.type) {
    case "null":
      return null;
    case "integer": {
      const text = typeof v.value === "number" ? String(v.value) : v.value;
      if (!INTEGER.test(text)) throw protocolError(`Invalid integer value: ${JSON.stringify(text)}`);
      const n = BigInt(text);
      if (n < MIN_I64 || n > MAX_I64) throw protocolError(`Integer out of 64-bit range: ${text}`);
      return n;
    }
    case "float":
      if (!Number.isFinite(v.value)) throw protocolError("Float values must be finite");
      return v.value;
    case "text":
      return v.value;
    case "blob": {
      const b64 = v.base64.replace(/\s+/g, "");
      if (!BASE64.test(b64)) throw protocolError("Invalid base64 in blob value");
      return Buffer.from(b64, "base64");
    }
  }
}

/** Encode a value read from `libsql` (with safe integers on) as a Hrana value. */
export function encodeValue(v: unknown): HranaValue {
  if (v === null || v === undefined) return { type: "null" };
  if (typeof v === "bigint") return { type: "integer", value: v.toString() };
  if (typeof v === "number") {
    // SQLite can produce ±Inf (e.g. 1e999); JSON cannot carry it, so it degrades to NULL.
    return Number.isFinite(v) ? { type: "float", value: v } : { type: "null" };
  }
  if (typeof v === "string") return { type: "text", value: v };
  if (v instanceof Uint8Array) {
    // sqld sends base64 without padding; the client decodes either form.
    const b64 = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64");
    return { type: "blob", base64: b64.replace(/=+$/, "") };
  }
  if (v instanceof ArrayBuffer) return encodeValue(new Uint8Array(v));
  return { type: "text", value: String(v) };
}
