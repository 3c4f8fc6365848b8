import { AppError } from "../../lib/errors";
import { log } from "../../lib/log";
import { metrics } from "../../lib/metrics/recorder";
import type { ResolvedTenant } from "../gateway/context";
import { tooManyRequests } from "../gateway/middleware/rate-limit";
import type { RateLimitStore, Reservation } from "../gateway/middleware/rate-limit-store";

/** One failure bucket: what it counts, whose, how many failures it allows, over what window (default: the lockout). */
export type Subject = [kind: string, subject: string, limit: number, windowSeconds?: number];

/**
 * The per-user bucket of every signed-in route that checks the account's password (password
 * change, MFA enable and disable, new recovery codes): one bucket, so locking one locks them all.
 */
export const passwordSubject = (tenant: ResolvedTenant, userId: string): Subject => [
  "password",
  userId,
  tenant.config.auth.maxFailures,
];

/** The per-user second-factor bucket: sign-in's MFA step and every signed-in route that checks a code. */
export const mfaSubject = (tenant: ResolvedTenant, userId: string): Subject => [
  "mfa",
  userId,
  tenant.config.auth.maxMfaFailures,
];

/** The auth event a failed attempt counts as, by its first bucket's kind (a fixed list: bounded labels). */
const failureKind = (kind: string) =>
  kind.startsWith("login")
    ? "login_failed"
    : kind === "mfa"
      ? "mfa_failed"
      : kind === "password"
        ? "password_failed"
        : "code_failed";

/** Marks the buckets whose attempt failed (all of them without `kind`): their units stay spent. */
export type Fail = (kind?: string) => void;

/**
 * Failure counters for sign-in, passwords and second factors (policy in docs/identity.md,
 * "Sign-in throttling"). An attempt is counted before it is judged: {@link judge} reserves one
 * unit in every bucket, all or nothing, so of N parallel attempts at most the bucket's limit are
 * judged and the rest answer 429 with Retry-After. Once judged, the reservation is settled: the
 * buckets the attempt failed in keep their unit, the others get it back. The store failing
 * closes the door (503), it never opens it.
 *
 * A tenant's buckets share one hash tag (`{auth}`), so the Durable Object store keeps them on one
 * shard: the reservation is one call that holds the units in the object's memory, the
 * settlement one more that writes only the spent units (docs/rate-limiting.md).
 */
export class AuthThrottle {
  constructor(
    private readonly store: RateLimitStore,
    private readonly tenant: ResolvedTenant,
  ) {}

  private key(s: Subject): string {
    return `${this.tenant.id}:{auth}:${s[0]}:${s[1]}`;
  }

  private window(s: Subject): number {
    return s[3] ?? this.tenant.config.auth.lockoutSeconds;
  }

  /** A unit from every bucket, or none; the store failing is a 503. */
  private async reserve(subjects: Subject[]): Promise<Reservation> {
    try {
      return await this.store.reserve(
        subjects.map((s) => ({ key: this.key(s), limit: s[2], windowSeconds: this.window(s), cost: 1 })),
      );
    } catch (err) {
      log("error", "auth limiter unavailable; failing closed", { tenant: this.tenant.slug, error: String(err) });
      throw new AppError("auth_unavailable", "Sign-in is temporarily unavailable; retry shortly.", {
        headers: { "retry-after": "5" },
      });
    }
  }

  /**
   * Runs one attempt under the buckets. First reserves a unit in each (429 when any is spent,
   * and then none is taken); then `run` judges the attempt and calls `fail` for the buckets its
   * failure counts in. Those units stay spent; every other unit is handed back when `run`
   * settles, whether it returned or threw (a database error is not a failed guess). A store
   * failure while settling only leaves the buckets fuller than they should be (logged).
   */
  async judge<T>(subjects: Subject[], run: (fail: Fail) => Promise<T>): Promise<T> {
    const reservation = await this.reserve(subjects);
    const refused = reservation.results.findIndex((r) => !r.allowed);
    if (refused >= 0) {
      metrics.add("canopy_auth_events_total", { kind: "lockout" }, 1, this.tenant.id);
      const [s, r] = [subjects[refused]!, reservation.results[refused]!];
      throw tooManyRequests(
        s[0],
        { ...r, retryAfter: Math.max(1, r.retryAfter) },
        this.window(s),
        "Too many failed attempts; try again later.",
      );
    }
    const failed = new Set<string>();
    try {
      return await run((kind) => (kind === undefined ? subjects.forEach((s) => failed.add(s[0])) : failed.add(kind)));
    } finally {
      if (failed.size)
        metrics.add("canopy_auth_events_total", { kind: failureKind(subjects[0]![0]) }, 1, this.tenant.id);
      await reservation
        .settle(subjects.filter((s) => failed.has(s[0])).map((s) => this.key(s)))
        .catch((err: unknown) =>
          log("warn", "auth limiter settlement lost", { tenant: this.tenant.slug, error: String(err) }),
        );
    }
  }
}
