/**
 * What the outbox publish after each serial order did, read back from the tenant's database
 * file (read-only, as the checks do): every 201 of the serial route orders is matched, by the
 * order id in its body, to its `order.paid` outbox row, whose `published_at` the gateway's
 * background publish sets (`markPublished`, with the worker's `Date.now()` taken after the queue
 * send and before the UPDATE's round trip). Against the client's wall-clock times of each order
 * (its 201, the next request on the connection), that says how long the claim and the queue send
 * took after the response, and how often the next request was sent while they were still running.
 */
import Database from "libsql";
import { median, percentile } from "../measure";
import type { Timed } from "./orders";

export interface PublishStats {
  /** Serial route orders answered 201. */
  orders: number;
  /** Of those, rows found in the outbox / still unpublished when read. */
  matched: number;
  unpublished: number;
  /**
   * `published_at` − the client's receipt of the 201, ms (median, p90): the claim's round trip
   * and the queue send after the response; the publish then still has the UPDATE's round trip.
   * `published_at` is a whole millisecond (floored), so this reads ~0.5 ms low on average.
   */
  lagP50: number;
  lagP90: number;
  /** Orders followed by another request on the same connection, and those of them whose next request was sent before `published_at`. */
  followed: number;
  overlapped: number;
  /**
   * Latency (µs) of this series' orders split by whether each was sent before the previous
   * route order's row was marked published (overlapped) or not (the first of a chunk, after
   * other targets or a pause): p50 and count.
   */
  duringPublish: { n: number; p50: number };
  clear: { n: number; p50: number };
}

const sortedP50 = (xs: number[]) => percentile(Float64Array.from(xs).sort(), 50);

/** The outbox rows of `userId`'s `order.paid` events: order id → published_at (null: not yet). */
function publishedAt(file: string, userId: string): Map<string, number | null> {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db
      .prepare(
        "SELECT json_extract(data, '$.orderId'), published_at FROM outbox WHERE type = 'order.paid' AND subject = ?",
      )
      .raw(true)
      .all(userId) as [string, number | null][];
    return new Map(rows.map(([id, at]) => [id, at === null ? null : Number(at)]));
  } finally {
    db.close();
  }
}

/** The stats of each serial order series (e.g. without and with a pause), from one read of the file. */
export function publishStats(file: string, userId: string, series: Timed[][]): PublishStats[] {
  const published = publishedAt(file, userId);
  return series.map((timeline) => {
    const orders = timeline.filter((t) => t.orderId !== undefined);
    const lags: number[] = [];
    /** Send times of requests that started while the previous order's publish was still running. */
    const during = new Set<number>();
    let matched = 0;
    let unpublished = 0;
    let followed = 0;
    for (const o of orders) {
      const at = published.get(o.orderId!);
      if (at === undefined) continue;
      matched++;
      if (at === null) {
        unpublished++;
        continue;
      }
      lags.push(at - o.doneAt);
      if (o.nextSentAt !== undefined) {
        followed++;
        if (o.nextSentAt < at) during.add(o.nextSentAt);
      }
    }
    const overlappedUs = orders.filter((o) => during.has(o.sentAt)).map((o) => o.us);
    const clearUs = orders.filter((o) => !during.has(o.sentAt)).map((o) => o.us);
    const sortedLags = Float64Array.from(lags).sort();
    return {
      orders: orders.length,
      matched,
      unpublished,
      lagP50: median(lags),
      lagP90: percentile(sortedLags, 90),
      followed,
      overlapped: during.size,
      duringPublish: { n: overlappedUs.length, p50: sortedP50(overlappedUs) },
      clear: { n: clearUs.length, p50: sortedP50(clearUs) },
    };
  });
}
