/**
 * Redis replies as Upstash's REST API renders them: `{ result }` or `{ error }`.
 * With `Upstash-Encoding: base64` (what @upstash/redis sends by default) every string in the
 * result is base64 of its raw bytes, except a top-level "OK", which the client expects verbatim.
 * Without it, strings are UTF-8 with invalid bytes replaced by U+FFFD, as Upstash does.
 * Integers are JSON numbers (exact up to 2^53), nil is null, arrays stay arrays.
 */
import { RespError, type RespValue } from "./resp.js";

export type Json = string | number | null | Json[];
export type Reply = { result: Json } | { error: string };

function text(value: string | Buffer, base64: boolean): string {
  if (!base64) return typeof value === "string" ? value : value.toString("utf8");
  return (typeof value === "string" ? Buffer.from(value, "utf8") : value).toString("base64");
}

function toJson(value: RespValue, base64: boolean): Json {
  if (value === null || typeof value === "number") return value;
  if (Array.isArray(value)) return value.map((item) => toJson(item, base64));
  // An error nested in an array (e.g. a Lua table holding an error reply) becomes its message.
  if (value instanceof RespError) return text(value.message, base64);
  return text(value, base64);
}

/** The REST reply for one command's Redis reply. */
export function toReply(value: RespValue, base64: boolean): Reply {
  if (value instanceof RespError) return { error: value.message };
  if (value === "OK") return { result: "OK" }; // the status reply, never encoded
  return { result: toJson(value, base64) };
}
