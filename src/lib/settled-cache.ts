/**
 * A per-isolate cache that shares settled values only, never pending promises.
 *
 * workerd gives every request (and every queue batch, every Durable Object call) its own I/O
 * context. A promise started by one request and awaited by another resumes the second in the
 * first one's context: its own I/O then fails ("Cannot perform I/O on behalf of a different
 * request"), and when the first request ends the promise may never settle ("the Worker's code had
 * hung"). Under load that turned into bursts of 500s and dead-lettered queue batches. So here a
 * value is shared once it exists; until then each caller loads its own, and the first to finish
 * stores it. Concurrent misses cost one load each, which is the price of correctness.
 */
export class SettledCache<V> {
  private readonly entries = new Map<string, { value: V; at: number }>();

  constructor(private readonly maxEntries = 1000) {}

  /** The stored value and when it was stored, however old. */
  peek(key: string): { value: V; at: number } | undefined {
    return this.entries.get(key);
  }

  /** Stores a value, as of `at` (the oldest entry goes once the cache is full). */
  set(key: string, value: V, at = Date.now()): void {
    this.entries.delete(key);
    this.entries.set(key, { value, at });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** The stored value when `fresh(at)` says so, else this caller's own load (then stored). */
  async get(key: string, fresh: (at: number) => boolean, load: () => Promise<V>, now = Date.now()): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && fresh(hit.at)) return hit.value;
    const value = await load();
    this.set(key, value, now);
    return value;
  }
}
