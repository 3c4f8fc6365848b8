/**
 * A throwaway redis-server for tests and dev: loopback only, a free port, no persistence
 * (`--save '' --appendonly no`). Debian's package is Redis 7.0 (`apt-get install redis-server`).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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

/** Resolve once the server answers PING; reject if the process dies or the deadline passes. */
async function waitReady(child: ChildProcess, port: number, deadline: number, output: () => string): Promise<void> {
  let failure: Error | undefined;
  child.once("error", (err: NodeJS.ErrnoException) => {
    failure = err.code === "ENOENT" ? new Error(REDIS_MISSING) : err;
  });
  child.once("exit", (code, signal) => {
    failure ??= new Error(`redis-server exited (${signal ?? code}) before it was ready:\n${output()}`);
  });
  while (Date.now() < deadline) {
    if (failure) throw failure;
    const client = new RedisClient(port);
    const reply = await client.send([["PING"]]).catch(() => undefined);
    await client.close();
    if (reply?.[0] === "PONG") return;
    await sleep(50);
  }
  throw failure ?? new Error(`redis-server did not answer PING on port ${port}:\n${output()}`);
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
    await waitReady(child, port, Date.now() + readyTimeoutMs, () => log);
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return { port, stop: () => stopChild(child) };
}

/** Start redis-server on a free loopback port; retries when another process grabbed the port. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const bin = options.bin ?? "redis-server";
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(bin, options.readyTimeoutMs ?? 10_000);
    } catch (err) {
      if (err instanceof Error && err.message === REDIS_MISSING) throw err;
      lastError = err;
    }
  }
  throw lastError;
}
