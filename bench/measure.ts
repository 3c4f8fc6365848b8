/**
 * The two measurements, both against one HTTP target:
 * - latency: sequential requests over one keep-alive connection per target, each timed with
 *   process.hrtime.bigint (µs resolution; autocannon reports whole milliseconds), the targets
 *   interleaved in small chunks;
 * - throughput: autocannon with N connections, in one-second slices that alternate between the
 *   targets.
 * Both take the targets in A B C, C B A, A B C … order (ABBA), so that no target always comes
 * after the same one: a target that follows an idle spell of workerd (e.g. the libSQL targets)
 * is not always the same.
 */
import { Agent, request } from "node:http";
import autocannon from "autocannon";

export interface Target {
  /** Short label used in tables. */
  name: string;
  origin: string;
  method: "GET" | "POST";
  path: string;
  headers: Record<string, string>;
  /** A fresh body per request (e.g. a random id), or none. */
  body?: () => string;
  /** Sanity check on the first response, so a benchmark of error pages fails loudly. */
  expect: { status: number; bodyIncludes?: string };
  /**
   * Throughput only: autocannon connection i sends `headers` overlaid with
   * `connectionHeaders[i % length]` (e.g. one user's token per connection). Latency uses `headers`.
   */
  connectionHeaders?: Record<string, string>[];
}

export interface LatencyResult {
  n: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  /** Responses whose status was not the expected one. */
  bad: number;
}

export interface ThroughputResult {
  rps: number;
  /** Completed responses. */
  total: number;
  /** Measured wall time (s). */
  seconds: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export interface Reply {
  status: number;
  body: string;
}

/** One request on `agent` (keep-alive); rejects on socket errors and after `timeoutMs` of silence. */
export function send(
  agent: Agent,
  r: {
    name: string;
    origin: string;
    method: "GET" | "POST" | "PUT" | "DELETE";
    path: string;
    headers: Record<string, string>;
    body?: string | undefined;
  },
  timeoutMs: number,
): Promise<Reply> {
  const url = new URL(r.path, r.origin);
  const headers: Record<string, string> = { ...r.headers };
  if (r.body !== undefined) headers["content-length"] = String(Buffer.byteLength(r.body));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: r.method,
        headers,
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${r.name}: no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(r.body);
  });
}

function once(agent: Agent, t: Target, timeoutMs: number): Promise<Reply> {
  return send(agent, { ...t, body: t.body?.() }, timeoutMs);
}

function check(t: Target, r: Reply): void {
  if (
    r.status !== t.expect.status ||
    (t.expect.bodyIncludes !== undefined && !r.body.includes(t.expect.bodyIncludes))
  ) {
    throw new Error(`${t.name}: ${t.method} ${t.path} answered ${r.status} ${r.body.slice(0, 300)}`);
  }
}

/** Target indices for one cycle: 0 … n-1 on even cycles, n-1 … 0 on odd ones. */
function abba(n: number, cycle: number): number[] {
  const ks = Array.from({ length: n }, (_, k) => k);
  return cycle % 2 === 0 ? ks : ks.reverse();
}

/** Sends `n` requests and checks the first; used to warm up a route (JIT, caches, connections). */
export async function warmUp(t: Target, n: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    check(t, await once(agent, t, 10_000));
    for (let i = 1; i < n; i++) await once(agent, t, 10_000);
  } finally {
    agent.destroy();
  }
}

/**
 * Latency of several targets, interleaved: each target gets its own keep-alive connection, and
 * the targets take turns in chunks of `chunk` sequential requests (A×chunk, B×chunk, C×chunk, then
 * C, B, A, …) until each has `n` timed requests. Drift on a noisy machine then hits every target alike.
 */
export async function latency(targets: Target[], n: number, chunk = 100, warm = 50): Promise<LatencyResult[]> {
  const agents = targets.map(() => new Agent({ keepAlive: true, maxSockets: 1 }));
  const samples = targets.map(() => new Float64Array(n));
  const bad = targets.map(() => 0);
  try {
    for (let k = 0; k < targets.length; k++) {
      for (let i = 0; i < warm; i++) check(targets[k]!, await once(agents[k]!, targets[k]!, 10_000));
    }
    for (let done = 0, cycle = 0; done < n; done += chunk, cycle++) {
      for (const k of abba(targets.length, cycle)) {
        const t = targets[k]!;
        const agent = agents[k]!;
        const out = samples[k]!;
        for (let i = done; i < Math.min(n, done + chunk); i++) {
          const t0 = process.hrtime.bigint();
          const r = await once(agent, t, 10_000);
          out[i] = Number(process.hrtime.bigint() - t0) / 1000;
          if (r.status !== t.expect.status) bad[k]!++;
        }
      }
    }
  } finally {
    for (const a of agents) a.destroy();
  }
  return samples.map((s, k) => {
    s.sort();
    return {
      n,
      p50: percentile(s, 50),
      p90: percentile(s, 90),
      p95: percentile(s, 95),
      p99: percentile(s, 99),
      bad: bad[k]!,
    };
  });
}

/** autocannon with `connections` connections for `seconds` seconds. */
export async function throughput(t: Target, connections: number, seconds: number): Promise<ThroughputResult> {
  const makeBody = t.body;
  const perConnection = t.connectionHeaders;
  let connection = 0;
  const instance = autocannon({
    url: t.origin,
    connections,
    duration: seconds,
    timeout: 10,
    ...(perConnection && perConnection.length > 0
      ? {
          setupClient: (client) =>
            client.setHeaders({ ...t.headers, ...perConnection[connection++ % perConnection.length] }),
        }
      : {}),
    requests: [
      {
        method: t.method,
        path: t.path,
        headers: t.headers,
        ...(makeBody ? { setupRequest: (req) => ({ ...req, body: makeBody() }) } : {}),
      },
    ],
  });
  const r = await instance;
  // Completed responses over the measured wall time (autocannon's duration, 10 ms resolution).
  const total = r.requests.total;
  return {
    rps: total / r.duration,
    total,
    seconds: r.duration,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
  };
}

/**
 * Throughput of several targets, interleaved: `seconds` slices of one second per target, the
 * targets taking turns slice by slice (A B C, C B A, …); req/s = completed responses over the
 * summed slice time.
 */
export async function throughputInterleaved(
  targets: Target[],
  connections: number,
  seconds: number,
): Promise<ThroughputResult[]> {
  const sums = targets.map(() => ({ total: 0, seconds: 0, non2xx: 0, errors: 0, timeouts: 0 }));
  for (let slice = 0; slice < seconds; slice++) {
    for (const k of abba(targets.length, slice)) {
      const r = await throughput(targets[k]!, connections, 1);
      const acc = sums[k]!;
      acc.total += r.total;
      acc.seconds += r.seconds;
      acc.non2xx += r.non2xx;
      acc.errors += r.errors;
      acc.timeouts += r.timeouts;
    }
  }
  return sums.map((a) => ({ ...a, rps: a.total / a.seconds }));
}
