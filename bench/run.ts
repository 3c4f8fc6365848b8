/**
 * `npm run bench [-- --rounds 5 --requests 2000 --duration 5 --connections 32 --no-build --keep --strict]`
 * (`--bundle <file>` serves another ES module bundle instead of dist/index.js, without building:
 * for experiments such as a variant of the bundle with one middleware removed. `--scratch <dir>`
 * puts the scratch directory, hence Durable Object storage and databases, under another parent
 * directory, e.g. /dev/shm to take disk syncs out of the figures.)
 *
 * Builds the bundle, serves it with raw workerd next to the local libSQL server, and measures,
 * in interleaved rounds: the bare route vs the gateway chain vs an authenticated route vs a tenant
 * DB read, the local libSQL server's point select vs an in-process `libsql` floor, and the login
 * and refresh flows. Prints markdown tables and writes them to bench/results/<timestamp>.md.
 * Everything runs on loopback and stops by itself.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, createReadStream } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { machine } from "./machine";
import { killAllNow, runToCompletion, stopAll } from "./processes";
import { report, type RoundResult, type Settings } from "./report";
import { round, roundBudgetSeconds, summary, warm } from "./rounds";
import { startStack } from "./stack";

const root = new URL("..", import.meta.url).pathname;
/** Removes the scratch directory when the run is interrupted (set once it exists, unless --keep). */
let dropScratch: () => void = () => undefined;
/** Set on SIGINT/SIGTERM. */
let interrupted = false;

function progress(msg: string): void {
  process.stderr.write(`bench: ${msg}\n`);
}

function positiveInt(name: string, v: string | undefined, fallback: number, max: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`--${name} must be an integer in 1..${max}, got ${v}`);
  return n;
}

interface Options extends Settings {
  build: boolean;
  bundle: string;
  /** Keep the scratch directory (logs, databases) even on success. */
  keep: boolean;
  /** Parent directory of the scratch directory. */
  scratchParent: string;
  /** Exit 3 when a goal is missed. */
  strict: boolean;
}

function parse(): Options {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string" },
      requests: { type: "string" },
      duration: { type: "string" },
      connections: { type: "string" },
      "no-build": { type: "boolean", default: false },
      bundle: { type: "string" },
      keep: { type: "boolean", default: false },
      scratch: { type: "string" },
      strict: { type: "boolean", default: false },
    },
    strict: true,
  });
  return {
    rounds: positiveInt("rounds", values.rounds, 5, 20),
    requests: positiveInt("requests", values.requests, 2000, 50_000),
    seconds: positiveInt("duration", values.duration, 5, 60),
    connections: positiveInt("connections", values.connections, 32, 256),
    build: !values["no-build"] && values.bundle === undefined,
    bundle: resolve(values.bundle ?? join(root, "dist/index.js")),
    keep: values.keep,
    scratchParent: resolve(values.scratch ?? tmpdir()),
    strict: values.strict,
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
  const watchdog = setTimeout(() => {
    progress(`took longer than ${Math.round(limitMs / 1000)} s: giving up`);
    void stopAll().finally(() => process.exit(1));
  }, limitMs);
  watchdog.unref();
  const scratch = mkdtempSync(join(s.scratchParent, "canopy-bench-"));
  if (!s.keep) dropScratch = () => rmSync(scratch, { recursive: true, force: true });
  progress(`scratch directory ${scratch}`);
  let ok = false;
  try {
    if (s.build) {
      progress("npm run build");
      runToCompletion("npm", ["run", "build"], root, join(scratch, "build.log"), 300_000);
    }
    if (!existsSync(s.bundle)) throw new Error(`${s.bundle} is missing: run without --no-build`);
    const stack = await startStack(root, scratch, s.bundle, s.connections);

    progress("warming up each target and flow");
    await warm(stack, s);

    const loadNow = () =>
      loadavg()
        .map((l) => l.toFixed(2))
        .join(" / ");
    const load = loadNow();
    const rounds: RoundResult[] = [];
    for (let i = 0; i < s.rounds; i++) {
      rounds.push(await round(stack, i, s));
      progress(`round ${i + 1}/${s.rounds}: ${summary(rounds[i]!)}`);
    }

    const loadAfter = loadNow();
    await stopAll();
    const notes: string[] = [];
    if (s.bundle !== resolve(root, "dist/index.js")) notes.push(`bundle under test: ${s.bundle} (not dist/index.js)`);
    if (s.scratchParent !== resolve(tmpdir()))
      notes.push(`scratch directory (Durable Object storage, databases) under ${s.scratchParent}`);
    const errors = await workerErrors(stack.workerdLog);
    if (errors.length > 0) notes.push(`workerd logged errors during the run: ${errors.slice(0, 10).join("; ")}`);
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
    process.stdout.write(`\n${markdown}`);
    const results = join(root, "bench/results");
    mkdirSync(results, { recursive: true });
    const file = join(results, `${new Date().toISOString().replace(/[:.]/g, "-")}.md`);
    writeFileSync(file, markdown);
    progress(`written to ${file}`);
    ok = true;
    return allGoalsMet || !s.strict ? 0 : 3;
  } finally {
    await stopAll();
    if (ok && !s.keep) rmSync(scratch, { recursive: true, force: true });
    else if (!interrupted) progress(`logs kept in ${scratch}`);
  }
}

/** Interrupted: stop everything, drop the scratch directory (unless --keep), exit 130. */
function interrupt(): void {
  void stopAll()
    .then(() => dropScratch())
    .finally(() => process.exit(130));
}

process.on("exit", killAllNow);
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    interrupted = true;
    progress(`${sig}: stopping`);
    interrupt();
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    // A measurement in flight fails once its server is stopped: not worth a report.
    if (interrupted) return interrupt();
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    void stopAll().finally(() => process.exit(1));
  },
);
