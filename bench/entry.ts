/**
 * The process around a benchmark's `main`, shared by every entry point (run.ts, content/run.ts,
 * realtime/run.ts, commerce/run.ts): child processes are killed on any exit, SIGINT and SIGTERM
 * stop them and exit 130, `main`'s answer is the exit code (a failure prints its stack and exits
 * 1), and {@link inScratch} gives every run the same skeleton.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { RunOptions } from "./options";
import { killAllNow, runToCompletion, stopAll } from "./processes";
import { progress } from "./servers";

/** Set on SIGINT/SIGTERM: a failure after that is the interruption, not worth a report. */
let interrupted = false;
const cleanups: (() => void)[] = [];

/** Interrupted: stop everything, then run the cleanups (e.g. dropping the scratch directory), exit 130. */
function interrupt(): void {
  void stopAll()
    .then(() => {
      for (const c of cleanups) c();
    })
    .finally(() => process.exit(130));
}

/**
 * Runs `main` as the process: exits with the code it answers; on a failure prints `bench failed:`
 * and the stack, stops every child and exits 1; on SIGINT/SIGTERM stops everything and exits 130.
 */
export function runMain(main: () => Promise<number>): void {
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
      // A measurement in flight fails once its server is stopped: not worth a report. The signal
      // handler is already stopping everything and exits 130.
      if (interrupted) return;
      process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      void stopAll().finally(() => process.exit(1));
    },
  );
}

export interface RunPlan {
  /** The scratch directory is `canopy-bench-<name>XXXXXX` under the options' parent. */
  name: string;
  /** The whole run's bound: past it, every child is stopped and the process exits 1. */
  limitMs: number;
  /** The ES module workerd serves, built first when the options say so. */
  bundle: string;
  /** Drop the scratch directory on SIGINT/SIGTERM too (unless --keep). */
  dropOnInterrupt?: boolean;
}

/**
 * A run's skeleton around `measure`: the watchdog, a fresh scratch directory, the bundle built and
 * checked; then, whatever happens, every child stopped, and the scratch directory dropped after a
 * success (unless --keep) or kept with its logs.
 */
export async function inScratch(
  root: string,
  o: RunOptions,
  plan: RunPlan,
  measure: (scratch: string) => Promise<number>,
): Promise<number> {
  const watchdog = setTimeout(() => {
    progress(`took longer than ${Math.round(plan.limitMs / 1000)} s: giving up`);
    void stopAll().finally(() => process.exit(1));
  }, plan.limitMs);
  watchdog.unref();
  const scratch = mkdtempSync(join(o.scratchParent, `canopy-bench-${plan.name}`));
  const drop = () => rmSync(scratch, { recursive: true, force: true });
  if (plan.dropOnInterrupt && !o.keep) cleanups.push(drop);
  progress(`scratch directory ${scratch}`);
  let ok = false;
  try {
    if (o.build) {
      progress("npm run build");
      runToCompletion("npm", ["run", "build"], root, join(scratch, "build.log"), 300_000);
    }
    if (!existsSync(plan.bundle)) throw new Error(`${plan.bundle} is missing: run without --no-build`);
    const code = await measure(scratch);
    ok = true;
    return code;
  } finally {
    await stopAll();
    if (ok && !o.keep) drop();
    else if (!interrupted) progress(`logs kept in ${scratch}`);
  }
}
