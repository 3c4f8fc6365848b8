import { describe, expect, it } from "vitest";
import { ABUSE_WINDOW_MS, fullBucket, takeFrame } from "../../src/durable/realtime/frame-bucket";

describe("a socket's frame bucket", () => {
  it("serves a burst at once, then the rate; a refusal says when the next token is back", () => {
    const b = fullBucket(100, 0);
    for (let i = 0; i < 100; i++) expect(takeFrame(b, 20, 100, 0)).toEqual({ ok: true });
    expect(takeFrame(b, 20, 100, 0)).toEqual({ ok: false, retryAfterMs: 50, abuse: false });
    // 20 a second: one token every 50 ms, never more than the burst saved up.
    const early = takeFrame(b, 20, 100, 49);
    expect(early).toMatchObject({ ok: false, abuse: false });
    expect(early.ok ? 0 : early.retryAfterMs).toBeLessThanOrEqual(2);
    expect(takeFrame(b, 20, 100, 51)).toEqual({ ok: true });
    expect(takeFrame(b, 20, 100, 60_000)).toEqual({ ok: true });
    expect(b.tokens).toBe(99);
  });

  it("calls it abuse past nine times the rate refused within the window, and forgives after it", () => {
    const rate = 2;
    const line = ((10 - 1) * rate * ABUSE_WINDOW_MS) / 1000; // 90 refused frames
    const b = fullBucket(2, 0);
    takeFrame(b, rate, 2, 0);
    takeFrame(b, rate, 2, 0);
    for (let i = 0; i < line; i++) expect(takeFrame(b, rate, 2, 1)).toMatchObject({ ok: false, abuse: false });
    expect(takeFrame(b, rate, 2, 2)).toMatchObject({ ok: false, abuse: true });
    // A new window starts the count again.
    const c = fullBucket(2, 0);
    takeFrame(c, rate, 2, 0);
    takeFrame(c, rate, 2, 0);
    for (let i = 0; i < line; i++) takeFrame(c, rate, 2, 1);
    expect(takeFrame(c, rate, 2, ABUSE_WINDOW_MS + 1)).toEqual({ ok: true });
    c.tokens = 0;
    expect(takeFrame(c, rate, 2, ABUSE_WINDOW_MS + 1)).toMatchObject({ ok: false, abuse: false });
  });
});
