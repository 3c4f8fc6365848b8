/**
 * Lua scripts for Redis 7.0. @upstash/ratelimit's scripts start with
 * `#!lua flags=allow-key-locking`, a flag only Upstash knows: Redis 7.0 refuses the whole script
 * ("Unexpected flag in script shebang"). So the adapter drops flags Redis 7.0 does not know
 * before the script reaches Redis, keeping the line (and so Lua error line numbers) in place.
 *
 * The client addresses scripts by the SHA1 of the text it has (the ratelimit package even ships
 * them precomputed), while Redis stores the rewritten text under another SHA1. The adapter
 * remembers original → rewritten for every script it rewrote, so a later EVALSHA finds it; an
 * unknown SHA still gets Redis's NOSCRIPT, which makes the client fall back to EVAL.
 */
import { createHash } from "node:crypto";

/** Shebang flags Redis 7.0 accepts for EVAL scripts. */
const REDIS_FLAGS = new Set(["no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys"]);

export function sha1(text: string): string {
  return createHash("sha1").update(text, "utf8").digest("hex");
}

/** The script with unknown shebang flags removed (unchanged when it has none). */
export function rewriteScript(script: string): string {
  if (!script.startsWith("#!")) return script;
  const eol = script.indexOf("\n");
  const shebang = eol < 0 ? script : script.slice(0, eol);
  const rest = eol < 0 ? "" : script.slice(eol);
  const [engine = "#!lua", ...options] = shebang.trim().split(/\s+/);
  const kept = options.flatMap((option) => {
    if (!option.startsWith("flags=")) return [option];
    const flags = option
      .slice("flags=".length)
      .split(",")
      .filter((flag) => REDIS_FLAGS.has(flag));
    return flags.length > 0 ? [`flags=${flags.join(",")}`] : [];
  });
  const fixed = [engine, ...kept].join(" ");
  return fixed === shebang ? script : fixed + rest;
}

/** Original-script SHA1 → SHA1 of the text Redis actually holds. */
export class ScriptShas {
  private readonly rewritten = new Map<string, string>();

  /** Rewrite `script` for Redis and remember the SHA mapping when the text changed. */
  prepare(script: string): string {
    const fixed = rewriteScript(script);
    if (fixed !== script) this.rewritten.set(sha1(script), sha1(fixed));
    return fixed;
  }

  /** The SHA to send to Redis for a SHA the client computed. */
  resolve(sha: string): string {
    return this.rewritten.get(sha.toLowerCase()) ?? sha;
  }
}
