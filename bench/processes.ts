/**
 * Child processes of the benchmark: each runs in its own process group (so stopping it also stops
 * whatever it spawned, e.g. the node that tsx starts), its output goes to a log file, and every
 * one still running is stopped when the benchmark ends, fails or is interrupted.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { answersOk, StopWaiting, waitUntil } from "../tools/wait";

export interface Managed {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  /** SIGTERM to the process group, SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  name: string;
  command: string;
  args: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** stdout and stderr are appended here (a file, never a pipe the benchmark has to drain). */
  logFile: string;
  /** Ready once this line appears in the log file; its first capture group is returned. */
  readyLine?: RegExp;
  /** Ready once a GET of this URL answers 2xx. With neither, ready once spawned. */
  readyUrl?: string;
  /** The deadline of the whole wait for readiness. */
  timeoutMs: number;
}

const running = new Set<Managed>();

/** How long one readiness probe (a GET of the ready URL) may take. */
const READY_ATTEMPT_MS = 2_000;

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is already gone
  }
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Waits for the ready line or URL; fails at once if the process exits, with the log's tail either way. */
async function waitReady(m: Managed, opts: StartOptions): Promise<string> {
  const { readyLine, readyUrl } = opts;
  const ok = readyUrl ? answersOk(readyUrl) : undefined;
  const what = readyUrl
    ? `${m.name} at ${readyUrl}`
    : `${m.name} (a line matching ${String(readyLine)} in ${m.logFile})`;
  return waitUntil(
    what,
    async (signal) => {
      if (exited(m.child))
        throw new StopWaiting(
          new Error(
            `${m.name} exited (code ${m.child.exitCode}, signal ${m.child.signalCode}) before it was ready:\n${tail(m.logFile)}`,
          ),
        );
      if (readyLine) {
        const hit = readyLine.exec(readFileSync(m.logFile, "utf8"));
        return hit ? (hit[1] ?? hit[0]) : undefined;
      }
      if (ok && readyUrl) return (await ok(signal)) && readyUrl;
      return "started"; // nothing to wait for
    },
    {
      attemptMs: READY_ATTEMPT_MS,
      deadlineMs: opts.timeoutMs,
      intervalMs: 100,
      detail: () => `${m.logFile} ends:\n${tail(m.logFile)}`,
    },
  );
}

/** Starts a process in its own group and waits until it is ready; returns it and the ready match. */
export async function start(opts: StartOptions): Promise<{ proc: Managed; ready: string }> {
  const fd = openSync(opts.logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn(opts.command, opts.args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ["ignore", fd, fd],
      detached: true,
    });
  } finally {
    closeSync(fd);
  }
  const done = new Promise<void>((resolve) => {
    if (exited(child)) resolve();
    child.once("exit", () => resolve());
    child.once("error", () => resolve());
  });
  const proc: Managed = {
    name: opts.name,
    child,
    logFile: opts.logFile,
    async stop(graceMs = 5000) {
      running.delete(proc);
      if (!exited(child)) {
        killGroup(child, "SIGTERM");
        const timer = setTimeout(() => killGroup(child, "SIGKILL"), graceMs);
        await done;
        clearTimeout(timer);
      }
      // Whatever the leader left behind in its group.
      killGroup(child, "SIGKILL");
    },
  };
  running.add(proc);
  try {
    return { proc, ready: await waitReady(proc, opts) };
  } catch (err) {
    await proc.stop(1000);
    throw err;
  }
}

/** Stops every process still running (in reverse start order). */
export async function stopAll(): Promise<void> {
  for (const p of [...running].reverse()) await p.stop();
}

/** Last resort on process exit: SIGKILL every group still registered (synchronous). */
export function killAllNow(): void {
  for (const p of running) killGroup(p.child, "SIGKILL");
  running.clear();
}

/** Runs a command to completion with its output in a log file; throws with the log's tail on failure. */
export function runToCompletion(
  command: string,
  args: string[],
  cwd: string,
  logFile: string,
  timeoutMs: number,
): void {
  const fd = openSync(logFile, "a");
  try {
    const r = spawnSync(command, args, { cwd, stdio: ["ignore", fd, fd], timeout: timeoutMs, killSignal: "SIGKILL" });
    if (r.error) throw new Error(`${command} ${args.join(" ")}: ${r.error.message}`);
    if (r.status !== 0)
      throw new Error(`${command} ${args.join(" ")} exited with ${r.status ?? r.signal}:\n${tail(logFile, 30)}`);
  } finally {
    closeSync(fd);
  }
}

/**
 * The built web apps wrangler.toml's [assets] names (web/dist): `wrangler deploy --dry-run`
 * refuses to bundle without them, so a harness that builds the Worker builds them first when a
 * fresh checkout has none.
 */
export function ensureWebApps(root: string, logFile: string): void {
  if (existsSync(join(root, "web/dist"))) return;
  runToCompletion(
    process.execPath,
    [join(root, "node_modules/tsx/dist/cli.mjs"), "tools/build-web.ts"],
    root,
    logFile,
    120_000,
  );
}

/** First line of a command's stdout (e.g. a version), or "unknown". */
export function firstLine(command: string, args: string[]): string {
  const r = spawnSync(command, args, { encoding: "utf8", timeout: 10_000 });
  return r.status === 0 ? (r.stdout.trim().split("\n")[0] ?? "unknown") : "unknown";
}
