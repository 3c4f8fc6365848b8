/**
 * How fast one socket may send frames: a token bucket (`realtime.framesPerSecond` tokens a
 * second, up to `realtime.frameBurst` saved), so a client replaying its offline queue can send a
 * burst at once. A frame without a token is refused, not fatal (the hub answers it with a
 * `rate_limited` error frame and keeps the socket); only sustained abuse closes the socket: more
 * refused frames within {@link ABUSE_WINDOW_MS} than a client sending at {@link ABUSE_FACTOR}
 * times the rate for that long would have refused.
 */
export const ABUSE_WINDOW_MS = 5_000;
export const ABUSE_FACTOR = 10;

export interface FrameBucket {
  tokens: number;
  at: number;
  /** Refused frames since `windowStart`. */
  refused: number;
  windowStart: number;
}

export type Taken = { ok: true } | { ok: false; retryAfterMs: number; abuse: boolean };

/** A full bucket: a new socket may burst at once. */
export const fullBucket = (burst: number, now: number): FrameBucket => ({
  tokens: burst,
  at: now,
  refused: 0,
  windowStart: now,
});

/** Takes one frame's token from `b` (changed in place). */
export function takeFrame(b: FrameBucket, rate: number, burst: number, now: number): Taken {
  b.tokens = Math.min(burst, b.tokens + (Math.max(0, now - b.at) * rate) / 1000);
  b.at = now;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return { ok: true };
  }
  if (now - b.windowStart >= ABUSE_WINDOW_MS) {
    b.windowStart = now;
    b.refused = 0;
  }
  b.refused++;
  const abuse = b.refused > ((ABUSE_FACTOR - 1) * rate * ABUSE_WINDOW_MS) / 1000;
  return { ok: false, retryAfterMs: Math.ceil(((1 - b.tokens) * 1000) / rate), abuse };
}
