import { AppError } from "../../lib/errors";
import { log } from "../../lib/log";
import type { ResolvedTenant } from "../context";
import { tooManyRequests, type RateLimitStore } from "../rate-limit";

/**
 * Failure counters for sign-in and MFA: a bucket per account and per client address. Checking
 * costs nothing; each failure spends one unit; an empty bucket locks the subject out until the
 * window slides. The store failing closes the door (503), it never opens it.
 */
export class AuthThrottle {
  constructor(
    private readonly store: RateLimitStore,
    private readonly tenant: ResolvedTenant,
  ) {}

  private key(kind: string, subject: string): string {
    return `${this.tenant.id}:auth:${kind}:${subject}`;
  }

  private async call(kind: string, subject: string, limit: number, cost: number) {
    try {
      return await this.store.check(this.key(kind, subject), limit, this.tenant.config.auth.lockoutSeconds, cost);
    } catch (err) {
      log("error", "auth limiter unavailable; failing closed", { tenant: this.tenant.slug, error: String(err) });
      throw new AppError(503, "auth_unavailable", "Sign-in is temporarily unavailable; retry shortly.", { headers: { "retry-after": "5" } });
    }
  }

  /** Throws 429 while any of the subjects is locked out. */
  async assertOpen(subjects: [kind: string, subject: string, limit: number][]): Promise<void> {
    for (const [kind, subject, limit] of subjects) {
      const r = await this.call(kind, subject, limit, 0);
      if (r.remaining <= 0) {
        throw tooManyRequests(kind, { ...r, allowed: false, retryAfter: Math.max(1, r.reset) }, this.tenant.config.auth.lockoutSeconds, "Too many failed attempts; try again later.");
      }
    }
  }

  /** Counts one failure against each subject. */
  async fail(subjects: [kind: string, subject: string, limit: number][]): Promise<void> {
    for (const [kind, subject, limit] of subjects) await this.call(kind, subject, limit, 1);
  }
}
