/**
 * Waiting for something to become ready (a server answering HTTP, a port answering PING, a line in
 * a log) without hanging: each attempt gets its own timeout, the whole wait a deadline, and
 * running out fails with what was awaited, for how long, and the last error. Used by the test
 * set-up (through tools/upstash-adapter), `npm run dev`, the benchmarks and the fault harness.
 */

export interface WaitOptions {
  /** How long one attempt may take; its AbortSignal fires then, and a probe that ignores it is abandoned. */
  attemptMs: number;
  /** How long the whole wait may take. */
  deadlineMs: number;
  /** The pause between attempts (default 100 ms). */
  intervalMs?: number;
  /** More to say when the deadline passes (a log's tail). */
  detail?: () => string;
}

/**
 * Thrown by a probe when waiting longer cannot help (the process exited, the program is not
 * installed): `waitUntil` rethrows `reason` at once.
 */
export class StopWaiting extends Error {
  constructor(readonly reason: Error) {
    super(reason.message);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function message(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // fetch's "fetch failed" says little; the cause says what (ECONNREFUSED 127.0.0.1:1).
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
  return `${err.message}${cause}`;
}

/** One attempt, abandoned after `ms` (its signal aborted) however the probe treats the signal. */
async function attempt<T>(probe: (signal: AbortSignal) => Promise<T> | T, ms: number): Promise<T> {
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abort.abort();
      reject(new Error(`the attempt took longer than ${ms} ms`));
    }, ms);
  });
  const run = Promise.resolve().then(() => probe(abort.signal));
  // An abandoned attempt may still reject later; that is not an unhandled rejection.
  run.catch(() => undefined);
  try {
    return await Promise.race([run, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Calls `probe` until it answers something other than `undefined` or `false`, and resolves with
 * that. A probe that throws or times out is tried again after `intervalMs`; one that throws
 * {@link StopWaiting} ends the wait. No attempt runs past the deadline.
 * @param what what is awaited and where, for the error ("the libSQL server at http://127.0.0.1:8081")
 */
export async function waitUntil<T>(
  what: string,
  probe: (signal: AbortSignal) => Promise<T | undefined | false> | T | undefined | false,
  options: WaitOptions,
): Promise<T> {
  const started = Date.now();
  const deadline = started + options.deadlineMs;
  let attempts = 0;
  let last = "none (every attempt answered: not yet)";
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    attempts++;
    try {
      const value = await attempt(probe, Math.min(options.attemptMs, left));
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      if (err instanceof StopWaiting) throw err.reason;
      last = message(err);
    }
    const pause = Math.min(options.intervalMs ?? 100, deadline - Date.now());
    if (pause > 0) await sleep(pause);
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const detail = options.detail?.();
  throw new Error(
    `${what} was not ready after ${seconds} s (deadline ${options.deadlineMs} ms, ${attempts} attempts of at most ${options.attemptMs} ms); last error: ${last}${detail ? `\n${detail}` : ""}`,
  );
}

/** A probe that is ready when a GET of `url` answers 2xx (the body is read and dropped). */
export function answersOk(url: string): (signal: AbortSignal) => Promise<true> {
  return async (signal) => {
    const res = await fetch(url, { signal });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`GET ${url} answered HTTP ${res.status}`);
    return true;
  };
}
