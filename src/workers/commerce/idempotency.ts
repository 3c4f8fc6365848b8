import { z } from "@hono/zod-openapi";
import type { BatchItem } from "drizzle-orm/batch";
import type { Context } from "hono";
import type { TenantDb } from "../../db/client";
import {
  type ClaimOutcome,
  claimOps,
  claimOutcome,
  type MoneyKey,
  type MoneyKeyRow,
  readMoneyKey,
  releaseMoneyKey,
} from "../../db/tenant/money-keys";
import { sha256Hex } from "../../lib/crypto";
import { AppError } from "../../lib/errors";
import { newId } from "../../lib/ids";
import type { AppEnv, Principal } from "../gateway/context";

/**
 * Idempotency of money-moving POSTs (docs/commerce.md, Idempotency): the `Idempotency-Key`
 * header is required; the same key and body within 24 h replays the first answer (status and
 * body, `Idempotent-Replayed: true`); while the first request runs, 409
 * `idempotency_in_progress`; another body, 422 `idempotency_mismatch`. Keys are per tenant (its
 * database), route and caller.
 */
export const MoneyKeyHeaderSchema = z.object({
  "idempotency-key": z
    .string()
    .min(8)
    .max(128)
    .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces")
    .optional()
    .openapi({
      description:
        "Required (400 `idempotency_key_required` without it). The same key and body within 24 h replays the first answer.",
    }),
});

/** JSON with object keys sorted at every depth, so equal bodies hash equally. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

/** Who a key belongs to: the user, or the API key acting. */
export const callerOf = (p: Principal): string => (p.kind === "user" ? p.userId : `api_key:${p.keyId}`);

/** This request's key for `route` (a fixed name of the operation and its target, e.g. `order`, `refund:<id>`). */
export async function moneyKeyOf(c: Context<AppEnv>, route: string, body: unknown): Promise<MoneyKey> {
  const key = c.req.header("idempotency-key");
  if (!key) throw new AppError("idempotency_key_required", "Send an Idempotency-Key header with this request.");
  const parsed = MoneyKeyHeaderSchema.shape["idempotency-key"].safeParse(key);
  if (!parsed.success)
    throw new AppError(
      "validation_failed",
      "Invalid header: idempotency-key must be 8–128 printable ASCII characters.",
    );
  return {
    scope: `${route}:${callerOf(c.get("principal"))}`,
    key,
    hash: await sha256Hex(canonical(body)),
    owner: newId(),
  };
}

/**
 * Claims the key in one batch with the operation's reads (so the claim costs no round trip of
 * its own) and returns the outcome and the reads' results, in order.
 */
export async function claimWith(
  db: TenantDb,
  k: MoneyKey,
  reads: BatchItem<"sqlite">[],
  now: number,
): Promise<{ outcome: ClaimOutcome; reads: unknown[] }> {
  const ops = claimOps(db, k, now);
  const res = (await db.batch([...ops, ...reads] as unknown as [
    BatchItem<"sqlite">,
    ...BatchItem<"sqlite">[],
  ])) as unknown[];
  const row = (res[ops.length - 1] as MoneyKeyRow[])[0];
  return { outcome: claimOutcome(row, k), reads: res.slice(ops.length) };
}

/** The answer of a key this run does not own: a replay, or the refusal that says why not. */
export function notMine(c: Context<AppEnv>, outcome: Exclude<ClaimOutcome, { kind: "mine" }>): Response {
  if (outcome.kind === "mismatch") {
    throw new AppError("idempotency_mismatch", "This Idempotency-Key was used with a different request body.");
  }
  if (outcome.kind === "in_progress") {
    throw new AppError("idempotency_in_progress", "A request with this Idempotency-Key is still running.", {
      headers: { "retry-after": "1" },
    });
  }
  const type = outcome.status >= 400 ? "application/problem+json" : "application/json";
  return new Response(JSON.stringify(outcome.body), {
    status: outcome.status,
    headers: { "content-type": type, "idempotent-replayed": "true" },
  });
}

/** After an effect batch this run lost (its lease was taken over): what the key says now. */
export async function answerOfLostRun(c: Context<AppEnv>, db: TenantDb, k: MoneyKey): Promise<Response> {
  const outcome = claimOutcome(await readMoneyKey(db, k), k);
  return notMine(c, outcome.kind === "mine" ? { kind: "in_progress" } : outcome);
}

/**
 * Runs the keyed operation; if it throws, the key is let go (only if still running under this
 * run: a batch that committed completed it), so the client can retry with the same key.
 */
export async function releasingKey<T>(db: TenantDb, k: MoneyKey, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    await releaseMoneyKey(db, k).catch(() => undefined);
    throw err;
  }
}
