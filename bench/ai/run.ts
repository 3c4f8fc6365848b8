/**
 * `npm run bench:ai [-- --rounds 3 --seconds 10 --serial 2000 --users 1000 --batch 20000 --quick --no-build --keep]`
 *
 * Builds the bundle (for the migrations and the build check) and the bench bundle
 * (bench/ai/entry.mts: the Worker plus `GET /v1/__bench/ai-check`, into the scratch directory),
 * serves it with raw workerd next to the local libSQL server, sets up tenants `ai-a` (leases on:
 * an owner, 200 knowledge articles, the check users and 20 chat users) and `ai-b` (leases off:
 * the check users) (stack.ts), and measures in interleaved rounds: the quota check against the
 * bare route and the chain, serial and under 32 connections (checks.ts, load.ts), and many
 * checks inside one request for the gate's own throughput (batch.ts); chat
 * time-to-first-delta, serial and 20 sessions at once (chat.ts); `POST /v1/ai/moderate` against
 * `GET /v1/auth/whoami`. After each round every check user's object is compared with the checks
 * the Worker granted. Prints markdown and writes it to bench/results/ai-<timestamp>.md.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { inScratch, runMain } from "../entry";
import { machine } from "../machine";
import { type LatencyResult, latency, type Target, warmUp } from "../measure";
import { intOption, RUN_OPTIONS, type RunOptions, runOptions } from "../options";
import { stopAll } from "../processes";
import { roundsUnderLoad, workerdWarnings, writeResults } from "../record";
import { buildBenchBundle, progress } from "../servers";
import { batchRound } from "./batch";
import { concurrentChat, serialChat } from "./chat";
import {
  benchState,
  type CheckCounts,
  checkGrants,
  poolBaseline,
  type LoadKey,
  LOADS,
  loadTargets,
  SERIAL,
  type SerialKey,
  serialTargets,
} from "./checks";
import { type LoadResult, loadInterleaved } from "./load";
import { type AiRound, type AiSettings, aiReport } from "./report";
import { type AiStack, CHAT_USERS, LEASED, startAiStack } from "./stack";

const root = new URL("../..", import.meta.url).pathname;

type Options = AiSettings & RunOptions;

function parse(): Options {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string" },
      serial: { type: "string" },
      seconds: { type: "string" },
      users: { type: "string" },
      batch: { type: "string" },
      quick: { type: "boolean", default: false },
      ...RUN_OPTIONS,
    },
    strict: true,
  });
  const q = values.quick;
  return {
    rounds: intOption("rounds", values.rounds, 3, 1, 20),
    serial: intOption("serial", values.serial, q ? 300 : 2_000, 100, 20_000),
    seconds: intOption("seconds", values.seconds, q ? 2 : 10, 1, 60),
    users: intOption("users", values.users, q ? 200 : 1_000, 1, 5_000),
    connections: 32,
    chatSerial: q ? 10 : 50,
    chatSessions: CHAT_USERS,
    chatTurns: q ? 2 : 5,
    moderate: q ? 100 : 500,
    batchReps: q ? 3 : 5,
    batchChecks: intOption("batch", values.batch, q ? 2_000 : 20_000, 100, 200_000),
    ...runOptions(values),
  };
}

/** `POST /v1/ai/moderate` and `GET /v1/auth/whoami` of one chat user. */
function moderateTargets(stack: AiStack): { whoami: Target; moderate: Target } {
  const headers = { "x-tenant": LEASED, authorization: `Bearer ${stack.chatUsers[1]!.accessToken}` };
  const text = JSON.stringify({ text: "Thanks for the quick delivery, the parcel arrived on time." });
  return {
    whoami: {
      name: "whoami",
      origin: stack.workerOrigin,
      method: "GET",
      path: "/v1/auth/whoami",
      headers,
      expect: { status: 200, bodyIncludes: '"kind":"user"' },
    },
    moderate: {
      name: "moderate",
      origin: stack.workerOrigin,
      method: "POST",
      path: "/v1/ai/moderate",
      headers: { ...headers, "content-type": "application/json" },
      body: () => text,
      expect: { status: 200 },
    },
  };
}

const minus = (a: CheckCounts, b: CheckCounts): CheckCounts => ({
  checks: a.checks - b.checks,
  userLeased: a.userLeased - b.userLeased,
  poolLeased: a.poolLeased - b.poolLeased,
  bothLeased: a.bothLeased - b.bothLeased,
});

async function round(stack: AiStack, i: number, s: Options, poolBase: Record<string, number>): Promise<AiRound> {
  const reverse = i % 2 === 1;
  const ordered = <T>(xs: T[]): T[] => (reverse ? [...xs].reverse() : xs);

  const before = (await benchState(stack, LEASED)).counts;
  const st = serialTargets(stack);
  const sOrder = ordered(SERIAL);
  const lat = await latency(
    sOrder.map((k) => st[k]),
    s.serial,
  );
  const serial = Object.fromEntries(sOrder.map((k, j) => [k, lat[j]!])) as Record<SerialKey, LatencyResult>;
  const serialLease = minus((await benchState(stack, LEASED)).counts, before);

  const lt = loadTargets(stack);
  const lOrder = ordered(LOADS);
  const loads = await loadInterleaved(
    lOrder.map((k) => lt[k]),
    s.connections,
    s.seconds,
  );
  const load = Object.fromEntries(lOrder.map((k, j) => [k, loads[j]!])) as Record<LoadKey, LoadResult>;
  const batch = await batchRound(stack, s.batchReps, s.batchChecks);

  const chatSerial = await serialChat(stack.workerOrigin, stack.chatUsers[0]!, s.chatSerial);
  const chatConcurrent = await concurrentChat(stack.workerOrigin, stack.chatUsers, s.chatTurns);

  const mt = moderateTargets(stack);
  const mOrder = ordered(["whoami", "moderate"] as const);
  const ml = await latency(
    mOrder.map((k) => mt[k]),
    s.moderate,
    50,
    20,
  );
  const moderate = Object.fromEntries(mOrder.map((k, j) => [k, ml[j]!])) as AiRound["moderate"];

  const { failures, users, granted } = await checkGrants(stack, poolBase);
  for (const k of LOADS) {
    const l = load[k];
    if (l.non2xx + l.errors + l.timeouts > 0)
      failures.push(`${k}: ${l.non2xx} non-2xx, ${l.errors} errors, ${l.timeouts} timeouts`);
  }
  for (const [k, b] of Object.entries(batch))
    if (b.failed > 0) failures.push(`batch ${k}: ${b.failed} checks failed, first: ${b.firstFailure}`);
  for (const [k, l] of [...Object.entries(serial), ...Object.entries(moderate)])
    if (l.bad > 0) failures.push(`serial ${k}: ${l.bad} unexpected statuses`);
  return { serial, serialLease, load, batch, chatSerial, chatConcurrent, moderate, failures, users, granted };
}

function summary(r: AiRound): string {
  const m = (l: { p50: number }) => (l.p50 / 1000).toFixed(3);
  const x = r.serial;
  return [
    `serial p50 bare ${m(x.bare)}, chain ${m(x.chain)}, whoami ${m(x.whoami)}, leased ${m(x.leased)}, unleased ${m(x.unleased)} ms`,
    `req/s ${LOADS.map((k) => `${k} ${r.load[k].rps.toFixed(0)}`).join(", ")}`,
    `in one isolate, checks/s ${Object.entries(r.batch)
      .map(([k, b]) => `${k} ${b.checksPerS.toFixed(0)}`)
      .join(", ")}`,
    `chat first delta p50 ${m(r.chatSerial)} / ${m(r.chatConcurrent)} ms`,
    `moderate ${m(r.moderate.moderate)} vs whoami ${m(r.moderate.whoami)} ms`,
    `checks ${r.failures.length ? r.failures.join(" | ") : "ok"}`,
  ].join("; ");
}

async function warm(stack: AiStack, s: Options): Promise<void> {
  progress("warming up: every target, every user's quota object, chat and moderation");
  const st = serialTargets(stack);
  for (const k of SERIAL) await warmUp(st[k], 200);
  const lt = loadTargets(stack);
  await loadInterleaved(
    LOADS.map((k) => lt[k]),
    s.connections,
    2,
  );
  await batchRound(stack, 1, 500);
  await serialChat(stack.workerOrigin, stack.chatUsers[0]!, 3);
  const mt = moderateTargets(stack);
  await warmUp(mt.whoami, 50);
  await warmUp(mt.moderate, 50);
}

async function main(): Promise<number> {
  const s = parse();
  const setupS = 300 + s.users * 0.2;
  const roundS = 6 * s.seconds * 1.3 + s.serial * 0.02 + s.moderate * 0.02 + s.batchReps * s.batchChecks * 0.001 + 180;
  const limitMs = (setupS + (s.rounds + 1) * roundS) * 1000;
  const bundle = join(root, "dist/index.js");
  return inScratch(root, s, { name: "ai-", limitMs, bundle }, async (scratch) => {
    const benchBundle = buildBenchBundle(root, scratch, "bench/ai/entry.mts");
    const stack = await startAiStack(root, scratch, benchBundle, s.users);
    const poolBase = await poolBaseline(stack);
    await warm(stack, s);
    const { rounds, load, loadAfter } = await roundsUnderLoad(s.rounds, (i) => round(stack, i, s, poolBase), summary);
    await stopAll();
    const notes = workerdWarnings(stack.workerdLog);
    const { markdown, goalsMet } = aiReport(rounds, machine(root, load, loadAfter), s, notes);
    writeResults(root, "ai-", markdown);
    const held = rounds.every((r) => r.failures.length === 0);
    return (goalsMet && held) || !s.strict ? (held ? 0 : 4) : 3;
  });
}

runMain(main);
