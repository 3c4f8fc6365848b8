/**
 * The run's summary: the machine, each scenario's answers and recovery, each invariant's
 * figures (attempted, acknowledged, found afterwards, lost) and every failure, as markdown for
 * the terminal and for docs/reliability.md. The full run replaces the figures between the
 * markers in docs/reliability.md, leaving the prose around them alone.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { Machine } from "../bench/report";
import type { Scenario, Window } from "./scenarios";
import type { Check } from "./verify/check";
import type { WindowFigures } from "./verify/responses";

export interface RunSummary {
  profile: "quick" | "full";
  command: string;
  machine: Machine;
  durationS: number;
  scenarios: Scenario[];
  windows: Window[];
  perWindow: WindowFigures[];
  checks: Check[];
  /** Figures of the harness itself (proxy, broker, restarts, drain). */
  harness: string[];
}

const cell = (s: string | number): string => String(s).replaceAll("|", "\\|").replaceAll("\n", " ");

export function passed(s: RunSummary): boolean {
  return s.checks.every((c) => c.failures.length === 0 && c.lost === 0);
}

export function markdown(s: RunSummary): string {
  const m = s.machine;
  const lines: string[] = [];
  lines.push(`Run: \`${s.command}\` (${s.profile}), ${s.durationS.toFixed(0)} s, ${m.date}, commit ${m.commit}.`);
  lines.push(
    `Machine: ${m.nproc} cores (${m.cpu}), Node ${m.node}, workerd ${m.workerd}; load average ${m.load} before, ${m.loadAfter} after.`,
  );
  lines.push(
    "",
    "| scenario | fault lasted | requests in the window | 2xx | 503 | no answer | other | first success after heal |",
    "|---|---|---|---|---|---|---|---|",
  );
  for (const f of s.perWindow) {
    const w = s.windows.find((x) => x.scenario === f.scenario);
    const lasted = w ? `${((w.healedAt - w.faultAt) / 1000).toFixed(1)} s` : "?";
    lines.push(
      `| ${cell(f.scenario)} | ${lasted} | ${f.requests} | ${f.ok} | ${f.status503} | ${f.noAnswer} | ${cell(f.other)} | ${f.recoveryS === null ? "never" : `${f.recoveryS.toFixed(1)} s`} |`,
    );
  }
  lines.push(
    "",
    "| invariant | attempted | acknowledged | found afterwards | lost | result |",
    "|---|---|---|---|---|---|",
  );
  for (const c of s.checks) {
    const ok = c.failures.length === 0 && c.lost === 0;
    lines.push(
      `| ${cell(c.name)} | ${c.attempted} | ${c.acknowledged} | ${c.found} | ${c.lost} | ${ok ? "ok" : `**FAILED** (${c.failures.length})`} |`,
    );
  }
  lines.push("", "Notes:");
  for (const c of s.checks) for (const n of c.notes) lines.push(`- ${c.name}: ${n}`);
  for (const h of s.harness) lines.push(`- harness: ${h}`);
  const failures = s.checks.flatMap((c) => c.failures.map((f) => `- ${c.name}: ${f}`));
  lines.push("", failures.length ? "Failures:" : "No invariant failed.", ...failures);
  return `${lines.join("\n")}\n`;
}

/** The summary table for the terminal (plain text, fixed width). */
export function table(s: RunSummary): string {
  const rows = s.checks.map((c) => [
    c.name.slice(0, 62),
    c.attempted,
    c.acknowledged,
    c.found,
    c.lost,
    c.failures.length === 0 && c.lost === 0 ? "ok" : "FAILED",
  ]);
  const head = ["invariant", "attempted", "acked", "found", "lost", "result"];
  const all = [head, ...rows].map((r) => r.map(String));
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  return (
    all.map((r) => r.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join("  ")).join("\n") +
    "\n"
  );
}

export const START = "<!-- faults:figures:start (written by `npm run faults`) -->";
export const END = "<!-- faults:figures:end -->";

/** Replaces the figures between the markers of docs/reliability.md (which must exist with both). */
export function writeFigures(docPath: string, s: RunSummary): void {
  if (!existsSync(docPath)) throw new Error(`${docPath} is missing`);
  const doc = readFileSync(docPath, "utf8");
  const a = doc.indexOf(START);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) throw new Error(`${docPath} lacks the figure markers`);
  writeFileSync(docPath, `${doc.slice(0, a + START.length)}\n${markdown(s)}${doc.slice(b)}`);
}
