/**
 * What every benchmark entry does around its figures: the interleaved rounds between two readings of
 * the machine's load, workerd's warnings, the report file.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { progress } from "./servers";

/** The load averages (1, 5, 15 min) as `a / b / c`. */
export function loadNow(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(" / ");
}

/**
 * `n` rounds of `round`, one after another, each summarised on stderr as it ends, between two
 * readings of the machine's load (the report prints both: a busy machine skews every figure).
 */
export async function roundsUnderLoad<R>(
  n: number,
  round: (i: number) => Promise<R>,
  summary: (r: R) => string,
): Promise<{ rounds: R[]; load: string; loadAfter: string }> {
  const load = loadNow();
  const rounds: R[] = [];
  for (let i = 0; i < n; i++) {
    rounds.push(await round(i));
    progress(`round ${i + 1}/${n}: ${summary(rounds[i]!)}`);
  }
  return { rounds, load, loadAfter: loadNow() };
}

/** A note on the error and warning lines workerd logged during the run, if any (counted, the first one cut). */
export function workerdWarnings(workerdLog: string): string[] {
  const errors = readFileSync(workerdLog, "utf8")
    .split("\n")
    .filter((l) => l.includes('"level":"error"') || l.includes('"level":"warn"'));
  return errors.length > 0
    ? [`workerd logged ${errors.length} error or warning lines, first: ${errors[0]!.slice(0, 300)}`]
    : [];
}

/** Prints the report and writes it to bench/results/<prefix><timestamp>.md. */
export function writeResults(root: string, prefix: string, markdown: string): void {
  process.stdout.write(`\n${markdown}`);
  const results = join(root, "bench/results");
  mkdirSync(results, { recursive: true });
  const file = join(results, `${prefix}${new Date().toISOString().replace(/[:.]/g, "-")}.md`);
  writeFileSync(file, markdown);
  progress(`written to ${file}`);
}
