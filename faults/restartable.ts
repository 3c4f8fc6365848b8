/**
 * A server the harness kills with SIGKILL and starts again on the same port and the same data:
 * the libSQL server (its data directory) or workerd (its Durable Object disk directory). Each
 * incarnation runs in its own process group through bench/processes.ts, so a kill takes its
 * children along and the harness's exit handler still reaps whatever is running.
 */
import { join } from "node:path";
import { start, type Managed, type StartOptions } from "../bench/processes";

export interface Incarnation {
  n: number;
  startedAt: number;
  endedAt: number | null;
  /** How it ended: "kill -9", "stop", or null while running. */
  end: string | null;
  logFile: string;
}

export class Restartable {
  private proc: Managed | null = null;
  readonly incarnations: Incarnation[] = [];

  constructor(
    readonly name: string,
    private readonly scratch: string,
    /** The start options of one incarnation; `logFile` is set per incarnation. */
    private readonly options: Omit<StartOptions, "logFile" | "name">,
  ) {}

  /** Starts a new incarnation and waits until it is ready; answers the ready match. */
  async start(): Promise<string> {
    if (this.proc) throw new Error(`${this.name} is already running`);
    const n = this.incarnations.length + 1;
    // A log per incarnation: a ready line of the previous one must not count as this one's.
    const logFile = join(this.scratch, `${this.name}.${n}.log`);
    const { proc, ready } = await start({ ...this.options, name: `${this.name} #${n}`, logFile });
    this.proc = proc;
    this.incarnations.push({ n, startedAt: Date.now(), endedAt: null, end: null, logFile });
    return ready;
  }

  get running(): boolean {
    return this.proc !== null;
  }

  /** SIGKILL to the whole process group, no grace: what a crash or an OOM kill looks like. */
  async kill9(): Promise<void> {
    const p = this.proc;
    if (!p) return;
    this.proc = null;
    if (p.child.pid !== undefined) {
      try {
        process.kill(-p.child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await p.stop(0);
    this.ended("kill -9");
  }

  /** A graceful stop (SIGTERM, then SIGKILL after the grace). */
  async stop(graceMs = 5000): Promise<void> {
    const p = this.proc;
    if (!p) return;
    this.proc = null;
    await p.stop(graceMs);
    this.ended("stop");
  }

  private ended(how: string): void {
    const last = this.incarnations[this.incarnations.length - 1];
    if (last && last.end === null) {
      last.end = how;
      last.endedAt = Date.now();
    }
  }

  /** Every incarnation's log file, oldest first. */
  logFiles(): string[] {
    return this.incarnations.map((i) => i.logFile);
  }
}
