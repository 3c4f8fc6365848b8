/**
 * A throwaway redis-server for tests and dev: loopback only, a free port, no persistence
 * (`--save '' --appendonly no`). Debian's package is Redis 7.0 (`apt-get install redis-server`).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { StopWaiting, waitUntil } from "../wait.js";
import { RedisClient } from "./redis-client.js";

/** A running redis-server. */
export interface RedisServer {
  port: number;
  /** Terminate the process (SIGTERM, SIGKILL after 5 s) and wait for it to exit. */
  stop(): Promise<void>;
}

/** Options of {@link startRedisServer}. */
export interface RedisServerOptions {
  /** Executable (default `redis-server` on PATH). */
  bin?: string;
  /** How long to wait for it to answer PING (default 10 s). */
  readyTimeoutMs?: number;
}

export const REDIS_MISSING =
  "redis-server is not installed; the Upstash rate-limit adapter needs it. Install it with `apt-get install redis-server` (CI installs it).";

/** redis-server exited before it answered (the port was taken, a bad argument): worth another start. */
class ExitedEarly extends Error {}

/** Ask the OS for a free loopback port. Another process could take it first: callers retry. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once("exit", () => resolve()));
}

async function stopChild(child: ChildProcess): Promise<void> {
  // No pid: the spawn itself failed (e.g. ENOENT) and there is no process to wait for.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const done = exited(child);
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await done;
  clearTimeout(timer);
}

/**
 * Resolve once the server answers PING (each PING gets a second); reject at once if the process
 * dies, and with what it printed once `readyTimeoutMs` has passed.
 */
async function waitReady(
  child: ChildProcess,
  port: number,
  readyTimeoutMs: number,
  output: () => string,
): Promise<void> {
  let failure: Error | undefined;
  child.once("error", (err: NodeJS.ErrnoException) => {
    failure = err.code === "ENOENT" ? new Error(REDIS_MISSING) : err;
  });
  child.once("exit", (code, signal) => {
    failure ??= new ExitedEarly(`redis-server exited (${signal ?? code}) before it was ready:\n${output()}`);
  });
  await waitUntil(
    `redis-server on 127.0.0.1:${port}`,
    async (signal) => {
      if (failure) throw new StopWaiting(failure);
      const client = new RedisClient(port);
      // An abandoned attempt closes its connection, which rejects its PING.
      signal.addEventListener("abort", () => void client.close());
      try {
        const reply = await client.send([["PING"]]);
        if (reply[0] !== "PONG") throw new Error(`PING answered ${String(reply[0])}`);
        return true;
      } finally {
        await client.close();
      }
    },
    {
      attemptMs: 1_000,
      deadlineMs: readyTimeoutMs,
      intervalMs: 50,
      detail: () => `redis-server's output:\n${output()}`,
    },
  );
}

async function startOnce(bin: string, readyTimeoutMs: number): Promise<RedisServer> {
  const port = await freePort();
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", tmpdir()];
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  // Keep draining the pipes (a full pipe would stall redis) and keep the tail for error messages.
  const keep = (chunk: Buffer) => void (log = (log + chunk.toString("utf8")).slice(-4000));
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  try {
    await waitReady(child, port, readyTimeoutMs, () => log);
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return { port, stop: () => stopChild(child) };
}

/**
 * Start redis-server on a free loopback port; starts it again (up to three times) when it exited
 * at once, as it does when another process grabbed the port. One that does not answer within
 * `readyTimeoutMs` is not retried: that would triple the wait.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const bin = options.bin ?? "redis-server";
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(bin, options.readyTimeoutMs ?? 10_000);
    } catch (err) {
      if (!(err instanceof ExitedEarly)) throw err;
      lastError = err;
    }
  }
  throw lastError;
}
