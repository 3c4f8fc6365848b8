/** The verdict of one rate-limit check. */
export interface RateLimitResult {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window has room again (0 when allowed). */
  retryAfter: number;
  /** Seconds until the current window resets. */
  reset: number;
}

/** One check of a batch: `cost` units against `key` under `limit` per `windowSeconds` (a negative cost refunds). */
export interface RateCheck {
  key: string;
  limit: number;
  windowSeconds: number;
  cost: number;
}

/** Counts of the current fixed window (starting at `start`) and the one before it. */
export interface WindowState {
  start: number;
  prev: number;
  curr: number;
}

/**
 * Sliding-window rate limit (the approximation Cloudflare and Upstash use): the previous
 * window's count weighted by how much of it still overlaps, plus the current window's count.
 * Pure: returns the verdict and the state to store (unchanged when denied). A negative `cost` is
 * a refund of units taken before: always allowed.
 */
export function slidingWindow(
  state: WindowState | undefined,
  limit: number,
  windowSeconds: number,
  cost: number,
  now: number,
): { result: RateLimitResult; next: WindowState } {
  const windowMs = windowSeconds * 1000;
  const start = Math.floor(now / windowMs) * windowMs;
  let prev = 0;
  let curr = 0;
  if (state) {
    if (state.start === start) ({ prev, curr } = state);
    else if (state.start === start - windowMs) prev = state.curr;
  }
  const used = prev * (1 - (now - start) / windowMs) + curr;
  const reset = Math.ceil((start + windowMs - now) / 1000);
  if (used + cost > limit) {
    // Time until the weighted previous window has decayed enough to admit `cost`.
    const needed = used + cost - limit;
    const retryAfter = prev > 0 && curr + cost <= limit ? Math.ceil((needed / prev) * windowSeconds) : reset;
    return {
      result: {
        allowed: false,
        limit,
        remaining: Math.max(0, Math.floor(limit - used)),
        retryAfter: Math.max(1, retryAfter),
        reset,
      },
      next: { start, prev, curr },
    };
  }
  return {
    result: { allowed: true, limit, remaining: Math.max(0, Math.floor(limit - used - cost)), retryAfter: 0, reset },
    // A negative cost hands units back (a refund never takes the window below zero).
    next: { start, prev, curr: Math.max(0, curr + cost) },
  };
}
