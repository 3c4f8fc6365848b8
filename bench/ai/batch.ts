/**
 * The gate's own throughput in one isolate: `POST /v1/__bench/ai-batch` runs n checks (the
 * gate's `hold` of 1 unit and its `settle`, as `GET /v1/__bench/ai-check` does) inside one
 * request, 32 at a time, and the request is timed here: checks per second without a request,
 * and its chain, per check. Leased checks cost no I/O, so workerd's clock (which stands still
 * between I/O) could not time them from inside; one request's overhead is under 0.1 % of n.
 */
import { median } from "../measure";
import { type AiStack, LEASED, UNLEASED } from "./stack";

export type BatchKey = "leasedMany" | "leasedHot" | "unleasedMany" | "unleasedHot";
export const BATCHES: BatchKey[] = ["leasedMany", "leasedHot", "unleasedMany", "unleasedHot"];

export interface BatchResult {
  /** Median over the requests of checks / seconds. */
  checksPerS: number;
  checks: number;
  userLeased: number;
  bothLeased: number;
  /** Checks that threw (a hold or settle that failed), and the first one's error. */
  failed: number;
  firstFailure: string | null;
}

const CONCURRENCY = 32;

function config(s: AiStack, k: BatchKey, n: number) {
  const tenant = k.startsWith("leased") ? LEASED : UNLEASED;
  const ids = s.users[tenant].map((u) => u.userId);
  return { tenant, users: k.endsWith("Hot") ? ids.slice(0, 1) : ids, n: tenant === LEASED ? n : Math.ceil(n / 4) };
}

async function once(s: AiStack, k: BatchKey, n: number) {
  const c = config(s, k, n);
  const started = performance.now();
  const res = await fetch(`${s.workerOrigin}/v1/__bench/ai-batch`, {
    method: "POST",
    headers: { "x-tenant": c.tenant, "content-type": "application/json" },
    body: JSON.stringify({ users: c.users, n: c.n, concurrency: CONCURRENCY }),
    signal: AbortSignal.timeout(120_000),
  });
  const text = await res.text();
  const seconds = (performance.now() - started) / 1000;
  if (res.status !== 200) throw new Error(`ai-batch ${k}: ${res.status} ${text.slice(0, 300)}`);
  const r = JSON.parse(text) as {
    checks: number;
    userLeased: number;
    bothLeased: number;
    failed: number;
    firstFailure: string | null;
  };
  return { rate: r.checks / seconds, ...r };
}

/** `reps` timed requests of each batch, interleaved (A B C D, D C B A, …); n checks each (a quarter unleased). */
export async function batchRound(s: AiStack, reps: number, n: number): Promise<Record<BatchKey, BatchResult>> {
  const rates = new Map<BatchKey, number[]>(BATCHES.map((k) => [k, []]));
  const out = Object.fromEntries(
    BATCHES.map((k) => [k, { checksPerS: 0, checks: 0, userLeased: 0, bothLeased: 0, failed: 0, firstFailure: null }]),
  ) as Record<BatchKey, BatchResult>;
  for (let i = 0; i < reps; i++) {
    for (const k of i % 2 === 0 ? BATCHES : [...BATCHES].reverse()) {
      const r = await once(s, k, n);
      rates.get(k)!.push(r.rate);
      out[k].checks += r.checks;
      out[k].userLeased += r.userLeased;
      out[k].bothLeased += r.bothLeased;
      out[k].failed += r.failed;
      out[k].firstFailure ??= r.firstFailure;
    }
  }
  for (const k of BATCHES) out[k].checksPerS = median(rates.get(k)!);
  return out;
}
