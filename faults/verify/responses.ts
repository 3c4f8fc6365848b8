/**
 * Every answer the load got, judged against the faults' windows:
 * - never a 500, nor any 5xx but 503; a 503 always carries Retry-After;
 * - no answer at all only while workerd itself was down (a request in flight when it died, or
 *   sent before it was back); a request the Worker never answered within the client's timeout
 *   (30 s) is a hang wherever it happens;
 * - 503s only while a fault lasts (up to the heal's grace): a request started after the grace
 *   must succeed again, which is what "recovers when the proxy heals" means.
 * For each window it also reports what was answered then and how long after the heal the first
 * success came. Failures quote the request id, which the Worker's log lines carry.
 */
import type { Outcome } from "../http";
import type { Window } from "../scenarios";
import { check, countBy, describeCounts, fail, type Check } from "./check";

export interface WindowFigures {
  scenario: string;
  requests: number;
  ok: number;
  status503: number;
  noAnswer: number;
  other: string;
  /** Seconds from the heal to the first 2xx of a request started after it. */
  recoveryS: number | null;
}

/** The window an answer belongs to: the fault it overlaps, if any. */
function windowOf(o: Outcome, windows: Window[]): Window | undefined {
  return windows.find((w) => o.startedAt <= w.settledBy && o.endedAt >= w.faultAt);
}

function describe(o: Outcome): string {
  const at = new Date(o.startedAt).toISOString().slice(11, 23);
  return `${o.method} ${o.path} (${o.op}, request id ${o.requestId}, at ${at}) → ${o.status ?? "no answer"}${o.retryAfter ? ` retry-after ${o.retryAfter}` : ""}${o.error ? ` ${o.error}` : ""} ${o.body.slice(0, 160)}`;
}

export function verifyResponses(
  outcomes: Outcome[],
  windows: Window[],
): { check: Check; perWindow: WindowFigures[]; statuses: string } {
  const c = check("HTTP answers: 503 + Retry-After while a fault lasts, never 500, recovery after the heal");
  c.attempted = outcomes.length;
  // The totals first, by route: the examples below are capped.
  const bad = outcomes.filter((o) => o.status !== null && o.status >= 500 && o.status !== 503);
  if (bad.length)
    fail(
      c,
      `${bad.length} answers were ${describeCounts(countBy(bad, (o) => String(o.status)))}: ${describeCounts(countBy(bad, (o) => `${o.method} ${o.op}`))}`,
    );
  for (const o of outcomes) {
    const w = windowOf(o, windows);
    if (o.status !== null && o.status >= 200 && o.status < 400) c.acknowledged++;
    if (o.status !== null && o.status >= 500 && o.status !== 503) fail(c, `a ${o.status}: ${describe(o)}`);
    else if (o.status === 503 && !o.retryAfter) fail(c, `a 503 without Retry-After: ${describe(o)}`);
    else if (o.status === 503 && !w) fail(c, `a 503 outside any fault (or after its heal's grace): ${describe(o)}`);
    else if (o.status === null && o.timedOut) fail(c, `no answer within the client's timeout (a hang): ${describe(o)}`);
    else if (o.status === null && !(w?.runtimeDown && o.startedAt <= w.healedAt))
      fail(c, `no answer though workerd was up: ${describe(o)}`);
  }
  const perWindow = windows.map((w): WindowFigures => {
    const during = outcomes.filter((o) => windowOf(o, [w]) === w);
    const after = outcomes
      .filter((o) => o.startedAt >= w.healedAt && o.status !== null && o.status >= 200 && o.status < 300)
      .sort((a, b) => a.endedAt - b.endedAt);
    const rest = countBy(
      during.filter((o) => o.status !== null && (o.status < 200 || o.status >= 300) && o.status !== 503),
      (o) => String(o.status),
    );
    return {
      scenario: w.scenario,
      requests: during.length,
      ok: during.filter((o) => o.status !== null && o.status >= 200 && o.status < 300).length,
      status503: during.filter((o) => o.status === 503).length,
      noAnswer: during.filter((o) => o.status === null).length,
      other: describeCounts(rest) || "—",
      recoveryS: after[0] ? (after[0].endedAt - w.healedAt) / 1000 : null,
    };
  });
  for (const w of perWindow) {
    if (w.recoveryS === null) fail(c, `${w.scenario}: no request succeeded after the heal`);
  }
  const statuses = describeCounts(
    countBy(outcomes, (o) => (o.status === null ? (o.timedOut ? "hung" : "no answer") : String(o.status))),
  );
  c.notes.push(`all answers: ${statuses}`);
  c.lost = 0;
  c.found = c.acknowledged;
  return { check: c, perWindow, statuses };
}
