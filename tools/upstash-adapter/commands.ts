/**
 * Turning the REST API's JSON commands into Redis commands and back: script rewriting on the
 * way in (scripts.ts), refusal of commands that would break the shared connection, and the
 * three execution modes (single command, pipeline, MULTI/EXEC transaction).
 */
import type { RedisClient } from "./redis-client.js";
import { RespError, type RespValue } from "./resp.js";
import { sha1, type ScriptShas } from "./scripts.js";

/** A command ready for Redis, plus how to turn Redis's reply into what Upstash would answer. */
interface Prepared {
  args: string[];
  finish(reply: RespValue): RespValue;
}

/**
 * Commands that change the state of the one shared connection, block it, or stop the server.
 * Transactions go through /multi-exec instead.
 */
const REFUSED = new Set([
  "MULTI",
  "EXEC",
  "DISCARD",
  "WATCH",
  "UNWATCH",
  "SELECT",
  "SWAPDB",
  "HELLO",
  "AUTH",
  "RESET",
  "QUIT",
  "CLIENT",
  "MONITOR",
  "SUBSCRIBE",
  "PSUBSCRIBE",
  "SSUBSCRIBE",
  "UNSUBSCRIBE",
  "PUNSUBSCRIBE",
  "SUNSUBSCRIBE",
  "BLPOP",
  "BRPOP",
  "BRPOPLPUSH",
  "BLMOVE",
  "BLMPOP",
  "BZPOPMIN",
  "BZPOPMAX",
  "BZMPOP",
  "WAIT",
  "WAITAOF",
  "SHUTDOWN",
  "DEBUG",
  "REPLICAOF",
  "SLAVEOF",
  "SYNC",
  "PSYNC",
]);

const same = (reply: RespValue): RespValue => reply;

/** Prepare one command, or return the error Upstash would answer without running it. */
export function prepare(command: readonly string[], shas: ScriptShas): Prepared | RespError {
  const args = [...command];
  const name = (args[0] ?? "").toUpperCase();
  const blocksOnRead = (name === "XREAD" || name === "XREADGROUP") && args.some((a) => a.toUpperCase() === "BLOCK");
  if (REFUSED.has(name) || blocksOnRead) {
    return new RespError(`ERR Command is not available in the local Upstash adapter: '${args[0] ?? ""}'`);
  }
  if ((name === "EVAL" || name === "EVAL_RO") && args[1] !== undefined) {
    args[1] = shas.prepare(args[1]);
  } else if ((name === "EVALSHA" || name === "EVALSHA_RO") && args[1] !== undefined) {
    args[1] = shas.resolve(args[1]);
  } else if (name === "SCRIPT") {
    const sub = (args[1] ?? "").toUpperCase();
    const original = args[2];
    if (sub === "LOAD" && original !== undefined) {
      args[2] = shas.prepare(original);
      // Upstash answers with the SHA1 of the script it was given: that is what the client uses.
      return { args, finish: (reply) => (reply instanceof RespError ? reply : Buffer.from(sha1(original))) };
    }
    if (sub === "EXISTS") for (let i = 2; i < args.length; i++) args[i] = shas.resolve(args[i] ?? "");
  }
  return { args, finish: same };
}

/** One command. */
export async function runSingle(redis: RedisClient, shas: ScriptShas, command: readonly string[]): Promise<RespValue> {
  const prepared = prepare(command, shas);
  if (prepared instanceof RespError) return prepared;
  const [reply = null] = await redis.send([prepared.args]);
  return prepared.finish(reply);
}

/** Commands in order, not atomic; refused commands answer an error in their own slot. */
export async function runPipeline(
  redis: RedisClient,
  shas: ScriptShas,
  commands: readonly (readonly string[])[],
): Promise<RespValue[]> {
  const prepared = commands.map((command) => prepare(command, shas));
  const runnable = prepared.filter((p): p is Prepared => !(p instanceof RespError));
  const replies = runnable.length > 0 ? await redis.send(runnable.map((p) => p.args)) : [];
  let next = 0;
  return prepared.map((p) => (p instanceof RespError ? p : p.finish(replies[next++] ?? null)));
}

/**
 * Commands as one MULTI/EXEC transaction. Like Upstash, a transaction with a command that is
 * refused or rejected while queueing (unknown command, wrong arity) is discarded as a whole:
 * the result is a single error. Errors while executing stay per command, as in Redis.
 */
export async function runTransaction(
  redis: RedisClient,
  shas: ScriptShas,
  commands: readonly (readonly string[])[],
): Promise<RespValue[] | RespError> {
  const prepared: Prepared[] = [];
  for (const command of commands) {
    const p = prepare(command, shas);
    if (p instanceof RespError) return p;
    prepared.push(p);
  }
  const replies = await redis.send([["MULTI"], ...prepared.map((p) => p.args), ["EXEC"]]);
  const queueError = replies.slice(1, -1).find((r) => r instanceof RespError);
  if (queueError instanceof RespError) return queueError;
  const exec = replies[replies.length - 1] ?? null;
  if (exec instanceof RespError) return exec;
  if (!Array.isArray(exec)) return new RespError("ERR transaction aborted");
  return prepared.map((p, i) => p.finish(exec[i] ?? null));
}
