/**
 * When an isolate sends what it gathered (metric deltas, trace spans): at most once per
 * `intervalMs`, or sooner once `maxEvents` have gathered, and never left waiting for a further
 * request: when a send is not due yet, one is scheduled (by the caller's `waitUntil`, off the
 * response path) for when it is. One send at a time; a send still running when the schedule
 * comes round is looked at again shortly.
 */
export class Cadence {
  private last = 0;
  private busy = false;
  private timerSet = false;

  constructor(
    private readonly intervalMs: number,
    private readonly maxEvents: number,
  ) {}

  /** `pending`: how much is gathered; `send`: sends it (its failures are its own to handle). */
  soon(pending: number, send: () => Promise<void>, waitUntil: (p: Promise<unknown>) => void, now = Date.now()): void {
    if (pending === 0) return;
    const wait = this.last + this.intervalMs - now;
    if (!this.busy && (wait <= 0 || pending >= this.maxEvents)) {
      waitUntil(this.run(send, now));
      return;
    }
    if (this.timerSet) return;
    this.timerSet = true;
    waitUntil(
      new Promise<void>((resolve) => {
        const tick = (ms: number) =>
          setTimeout(() => {
            if (this.busy) return tick(100);
            this.timerSet = false;
            resolve(this.run(send, Date.now()));
          }, ms);
        tick(Math.max(wait, 50));
      }),
    );
  }

  private async run(send: () => Promise<void>, now: number): Promise<void> {
    this.busy = true;
    this.last = now;
    try {
      await send();
    } finally {
      this.busy = false;
    }
  }
}
