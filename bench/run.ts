/**
 * `npm run bench [-- --rounds 5 --requests 2000 --duration 5 --connections 32 --no-build --keep --strict]`
 * (`--bundle <file>` serves another ES module bundle instead of the one built from
 * bench/floors/entry.mts, without building: for experiments such as a variant with one middleware
 * removed; it must carry the floors, i.e. be built from that entry too. `--scratch <dir>`
 * puts the scratch directory, hence Durable Object storage and databases, under another parent
 * directory, e.g. /dev/shm to take disk syncs out of the figures.)
 *
 * Builds the bench bundle (the production Worker plus the floors of bench/floors/entry.mts: an
 * empty Durable Object RPC, the tenant read's Hrana pipeline by plain fetch, one PBKDF2 hash),
 * serves it with raw workerd next to the local libSQL server, and measures,
 * in interleaved rounds: the bare route vs the gateway chain vs an authenticated route vs a tenant
 * DB read, the local libSQL server's point select vs an in-process `libsql` floor, and the login
 * and refresh flows. Prints markdown tables and writes them to bench/results/<timestamp>.md.
 * Everything runs on loopback and stops by itself.
 */
import { readFileSync, createReadStream } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { inScratch, runMain } from "./entry";
import { machine } from "./machine";
import { stopAll } from "./processes";
import { report, type Settings } from "./report";
import { round, roundBudgetSeconds, summary, warm } from "./rounds";
import { buildBenchBundle, progress } from "./servers";
import { startStack } from "./stack";
import { intOption, RUN_OPTIONS, type RunOptions, runOptions } from "./options";
import { roundsUnderLoad, writeResults } from "./record";

const root = new URL("..", import.meta.url).pathname;
/** The bench bundle's entry: the production Worker plus the goal rows' floors. */
const FLOORS_ENTRY = "bench/floors/entry.mts";

interface Options extends Settings, RunOptions {
  bundle: string;
}

function parse(): Options {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string" },
      requests: { type: "string" },
      duration: { type: "string" },
      connections: { type: "string" },
      bundle: { type: "string" },
      ...RUN_OPTIONS,
    },
    strict: true,
  });
  return {
    rounds: intOption("rounds", values.rounds, 5, 1, 20),
    requests: intOption("requests", values.requests, 2000, 1, 50_000),
    seconds: intOption("duration", values.duration, 5, 1, 60),
    connections: intOption("connections", values.connections, 32, 1, 256),
    ...runOptions(values),
    // Another bundle is served as it is, never built.
    build: !values["no-build"] && values.bundle === undefined,
    bundle: values.bundle === undefined ? "" : resolve(values.bundle),
  };
}

/** Error lines the Worker logged (5xx access-log lines and unhandled errors), by message. */
async function workerErrors(logFile: string): Promise<string[]> {
  const counts = new Map<string, number>();
  const lines = createInterface({ input: createReadStream(logFile), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.includes('"level":"error"') && !/error|exception|uncaught/i.test(line)) continue;
    let key = line.slice(0, 200);
    try {
      const j = JSON.parse(line.slice(line.indexOf("{"))) as {
        msg?: string;
        status?: number;
        error?: string;
        route?: string;
      };
      key = `${j.msg ?? "?"} ${j.route ?? ""} ${j.status ?? ""} ${j.error ?? ""}`.trim();
    } catch {
      // not JSON: keep the raw prefix
    }
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${n}× ${k}`);
}

async function main(): Promise<number> {
  const s = parse();
  // Bounded in time whatever happens: build and setup, then the rounds.
  const limitMs = (400 + s.rounds * roundBudgetSeconds(s)) * 1000;
  // `npm run build` (inScratch) still checks that the production bundle builds.
  const plan = { name: "", limitMs, bundle: s.bundle || join(root, FLOORS_ENTRY), dropOnInterrupt: true };
  return inScratch(root, s, plan, async (scratch) => {
    const bundle = s.bundle || buildBenchBundle(root, scratch, FLOORS_ENTRY);
    const stack = await startStack(root, scratch, bundle, s.connections, true);

    progress("warming up each target and flow");
    await warm(stack, s);

    const { rounds, load, loadAfter } = await roundsUnderLoad(s.rounds, (i) => round(stack, i, s), summary);
    await stopAll();
    const notes: string[] = [];
    if (s.bundle) notes.push(`bundle under test: ${s.bundle} (not built from ${FLOORS_ENTRY} by this run)`);
    if (s.scratchParent !== resolve(tmpdir()))
      notes.push(`scratch directory (Durable Object storage, databases) under ${s.scratchParent}`);
    const errors = await workerErrors(stack.workerdLog);
    // A run with errors in the background measures them too: said first, in bold, and it fails --strict.
    if (errors.length > 0)
      notes.unshift(
        `**workerd logged errors during the run, so the figures are suspect:** ${errors.slice(0, 10).join("; ")}`,
      );
    const serverErrors = readFileSync(stack.libsqlLog, "utf8")
      .split("\n")
      .filter((l) => /internal error/i.test(l));
    if (serverErrors.length > 0)
      notes.push(`the libSQL server logged ${serverErrors.length} internal errors, first: ${serverErrors[0]}`);
    const bad = rounds.some(
      (r) =>
        Object.values(r.latency).some((l) => l.bad > 0) ||
        Object.values(r.throughput).some((t) => t.non2xx + t.errors + t.timeouts > 0) ||
        [r.auth.loginSeq, r.auth.loginLoad, r.auth.refreshSeq, r.auth.refreshLoad].some(
          (f) => Object.keys(f.failures).length > 0,
        ),
    );
    if (bad)
      notes.push(
        "some requests failed (see the non-2xx / socket errors and failed requests columns): the figures of those targets are suspect.",
      );

    const { markdown, allGoalsMet } = report(rounds, machine(root, load, loadAfter), s, notes);
    writeResults(root, "", markdown);
    if (errors.length > 0)
      process.stderr.write(`\nWORKERD LOGGED ${errors.length} KINDS OF ERROR DURING THE RUN: see the notes above.\n`);
    return (allGoalsMet && errors.length === 0) || !s.strict ? 0 : 3;
  });
}

runMain(main);
