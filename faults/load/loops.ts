/**
 * Background loops of the HTTP load: each runs one step after another, `intervalMs` apart,
 * until stopped; a step that throws is counted, never ends its loop (a fault must not silently
 * stop the load that is supposed to observe it). `stop` waits for the steps in flight, which
 * bound their own retries with a deadline.
 */
import { sleep } from "../http";

export class Loops {
  private stopped = false;
  private readonly running: Promise<void>[] = [];
  readonly crashes: string[] = [];

  get stopping(): boolean {
    return this.stopped;
  }

  spawn(name: string, intervalMs: number, step: () => Promise<void>): void {
    const run = async () => {
      while (!this.stopped) {
        try {
          await step();
        } catch (err) {
          this.crashes.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
        }
        if (!this.stopped) await sleep(intervalMs);
      }
    };
    this.running.push(run());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.running);
  }
}

/** A random element of a non-empty list. */
export function pick<T>(list: readonly T[]): T {
  const x = list[Math.floor(Math.random() * list.length)];
  if (x === undefined) throw new Error("pick from an empty list");
  return x;
}
