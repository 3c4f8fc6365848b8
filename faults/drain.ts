/**
 * After the load stops: let the event pipeline finish what the faults left behind. The minute
 * cron is run every two seconds (the outbox sweeper republishes rows older than 10 s whose
 * publisher died, webhook retries go out) until the queue broker holds nothing and the tenant's
 * outbox is empty, or the deadline passes. What is left then is reported, not hidden: a row
 * still under a dead publisher's 30 s lease, say, is pending, and the verification tells
 * pending from lost.
 */
import { sleep, type Api } from "./http";
import type { FaultStack } from "./stack";
import { TENANT } from "./world";

export interface DrainResult {
  waitedMs: number;
  cronRuns: number;
  brokerPending: number;
  outboxUnpublished: number | null;
  drained: boolean;
}

async function outboxBacklog(api: Api, adminToken: string): Promise<number | null> {
  const a = await api.call("drain.outbox", "GET", `/admin/v1/tenants/${TENANT}/outbox`, {
    headers: { authorization: `Bearer ${adminToken}` },
    timeoutMs: 15_000,
  });
  const n = typeof a.json === "object" && a.json !== null && "unpublished" in a.json ? Number(a.json.unpublished) : NaN;
  return a.status === 200 && Number.isFinite(n) ? n : null;
}

/** How long the broker must have been quiet before a drain counts as done. */
const QUIET_MS = 3000;

export async function drain(
  stack: FaultStack,
  api: Api,
  deadlineMs: number,
  minMs: number,
  progress: (msg: string) => void,
): Promise<DrainResult> {
  const started = Date.now();
  let cronRuns = 0;
  let told = started;
  let outbox: number | null = null;
  for (;;) {
    if (await stack.runCron()) cronRuns++;
    outbox = await outboxBacklog(api, stack.adminToken);
    // Idle, and quiet for a while: a Durable Object's outbox publishes a moment after it records
    // (its coalescing window), so an empty broker right after a burst is not yet the end.
    const idle = stack.broker.pending() === 0 && outbox === 0 && Date.now() - stack.broker.lastActivity >= QUIET_MS;
    const waited = Date.now() - started;
    // A minimum wait lets Durable Object backstop alarms and webhook retries come due.
    if ((idle && waited >= minMs) || waited >= deadlineMs) {
      return {
        waitedMs: waited,
        cronRuns,
        brokerPending: stack.broker.pending(),
        outboxUnpublished: outbox,
        drained: idle,
      };
    }
    if (Date.now() - told >= 10_000) {
      told = Date.now();
      progress(`draining: ${stack.broker.pending()} queue messages pending, ${outbox ?? "?"} outbox rows unpublished`);
    }
    await sleep(2000);
  }
}

/**
 * Waits until the broker has been empty for a second (at most `deadlineMs`): the events the
 * verification's own requests caused (sign-ins, refreshes) are consumed before the counters
 * are compared with storage.
 */
export async function settleQueues(stack: FaultStack, deadlineMs: number): Promise<boolean> {
  const deadline = Date.now() + deadlineMs;
  let idleSince = 0;
  while (Date.now() < deadline) {
    if (stack.broker.pending() === 0) {
      idleSince ||= Date.now();
      if (Date.now() - idleSince >= 1000) return true;
    } else idleSince = 0;
    await sleep(200);
  }
  return false;
}
