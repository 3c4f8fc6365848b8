import { exports } from "cloudflare:workers";
import { assertDocumentedProblem } from "../documented-problems";
import fc from "fast-check";
import { planOf } from "./build";
import { caseArb, sweepArbs, type Case } from "./cases";
import { isActor, isKey, type IdentityName } from "./identities";
import { opKey, type Operation, type Resolve } from "./openapi";
import { codeOf, judge, type Answer } from "./oracle";
import { unknownId, type Kind } from "./pools";
import type { Failure, Observation } from "./report";
import { seedFor, type FuzzSettings } from "./settings";
import { renewKey, revive, type World } from "./world";

/** What one operation's cases found. */
export interface OpResult {
  requests: number;
  failures: Failure[];
  observations: Observation[];
  /** Answers by status class ("2xx", "4xx", …). */
  statuses: Record<string, number>;
  /** 2xx answers by identity: shows that the signed-in callers really get past authentication. */
  passed: Partial<Record<IdentityName, number>>;
}

/** Numbers requests across the whole run (one client address each). */
export const counter = { next: 1 };

// The answers that mean the identity's session is gone (signed out by a case, or expired in a
// long run): the identity signs in again, so later cases still test a live member, admin or
// owner. Likewise a refused identity key is replaced.
const DEAD = new Set(["session_revoked", "account_inactive", "invalid_token"]);
const DEAD_KEY = new Set(["invalid_api_key", "api_key_revoked"]);

/**
 * Generates the operation's cases with fast-check (seeds derived from the run's): one per
 * mutation class, then `settings.runs` random ones. Sends
 * each through the Worker's fetch one at a time, and judges every answer. Failures are collected,
 * not thrown, so one run reports every class it finds.
 */
export async function fuzzOperation(
  op: Operation,
  world: World,
  resolve: Resolve,
  settings: FuzzSettings,
): Promise<OpResult> {
  const ids = (kind: Kind | undefined) => {
    const pool = (kind ? world.local[kind] : Object.values(world.local).flat()) ?? [];
    return pool.length
      ? fc.constantFrom(...pool.map((i) => i.id))
      : fc.integer().map((s) => unknownId(world.local, kind, s));
  };
  const ctx = { resolve, ids, receiverUrl: world.receiverUrl };
  // First one case per mutation class (each with its own seed), then the random ones.
  const cases: Case[] = sweepArbs(op, world.local, ctx).flatMap((s) =>
    fc.sample(s.arbitrary, { seed: seedFor(settings.seed, `${opKey(op)}#${s.kind}`), numRuns: 1 }),
  );
  cases.push(
    ...fc.sample(caseArb(op, world.local, ctx), { seed: seedFor(settings.seed, opKey(op)), numRuns: settings.runs }),
  );
  const result: OpResult = { requests: 0, failures: [], observations: [], statuses: {}, passed: {} };

  for (const [index, c] of cases.entries()) {
    const plan = planOf(op, c, world, resolve, counter.next++);
    let answer: Answer;
    try {
      const res = await exports.default.fetch(
        new Request(plan.url, {
          method: plan.method,
          headers: plan.headers,
          ...(plan.body ? { body: plan.body } : {}),
        }),
      );
      answer = { status: res.status, contentType: res.headers.get("content-type") ?? "", text: await res.text() };
    } catch (err) {
      result.failures.push({
        kind: "threw",
        why: String(err),
        op: opKey(op),
        plan,
        answer: { status: 0, contentType: "", text: String(err) },
        index,
      });
      continue;
    }
    result.requests++;
    const cls = `${Math.floor(answer.status / 100)}xx`;
    result.statuses[cls] = (result.statuses[cls] ?? 0) + 1;
    if (cls === "2xx") result.passed[plan.identity] = (result.passed[plan.identity] ?? 0) + 1;
    for (const f of judge(plan, answer)) result.failures.push({ ...f, op: opKey(op), plan, answer, index });
    // The answer's code must be one /openapi.json lists for this operation and status.
    if (answer.status >= 400 && answer.status < 600) {
      const problem = new Response(answer.text, {
        status: answer.status,
        headers: { "content-type": answer.contentType },
      });
      await assertDocumentedProblem(plan.method, plan.url, problem).catch((err: unknown) =>
        result.failures.push({ kind: "undocumented problem", why: String(err), op: opKey(op), plan, answer, index }),
      );
    }
    if (plan.soft && answer.status < 300 && plan.reasons.length === 0)
      result.observations.push({ op: opKey(op), soft: plan.soft, status: answer.status, label: plan.label });
    if (isActor(plan.identity) && answer.status === 401 && DEAD.has(codeOf(answer) ?? ""))
      await revive(world.tenant.slug, world.actors[plan.identity]);
    if (isKey(plan.identity) && answer.status === 401 && DEAD_KEY.has(codeOf(answer) ?? ""))
      await renewKey(world, plan.identity);
  }
  return result;
}
