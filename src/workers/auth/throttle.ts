import { AppError } from "../../lib/errors";
import { log } from "../../lib/log";
import type { ResolvedTenant } from "../context";
import { tooManyRequests, type RateLimitStore } from "../rate-limit";

/** One failure bucket: what it counts, whose, how many failures it allows, over what window (default: the lockout). */
export type Subject = [kind: string, subject: string, limit: number, windowSeconds?: number];

/**
 * Failure counters for sign-in and MFA (policy in docs/identity.md, "Sign-in throttling").
 * Checking costs nothing; each failure spends one unit; an empty bucket refuses the subject until
 * the window slides. The store failing closes the door (503), it never opens it.
 */
export class AuthThrottle {
  constructor(
    private readonly store: RateLimitStore,
    private readonly tenant: ResolvedTenant,
  ) {}

  private key(kind: string, subject: string): string {
    return `${this.tenant.id}:auth:${kind}:${subject}`;
  }

  private window(s: Subject): number {
    return s[3] ?? this.tenant.config.auth.lockoutSeconds;
  }

  private async call(s: Subject, cost: number) {
    const [kind, subject, limit] = s;
    try {
      return await this.store.check(this.key(kind, subject), limit, this.window(s), cost);
    } catch (err) {
      log("error", "auth limiter unavailable; failing closed", { tenant: this.tenant.slug, error: String(err) });
      throw new AppError(503, "auth_unavailable", "Sign-in is temporarily unavailable; retry shortly.", { headers: { "retry-after": "5" } });
    }
  }

  /** Throws 429 while any of the subjects is locked out. */
  async assertOpen(subjects: Subject[]): Promise<void> {
    const verdicts = await Promise.all(subjects.map((s) => this.call(s, 0)));
    subjects.forEach((s, i) => {
      const r = verdicts[i]!;
      if (r.remaining <= 0) {
        throw tooManyRequests(s[0], { ...r, allowed: false, retryAfter: Math.max(1, r.reset) }, this.window(s), "Too many failed attempts; try again later.");
      }
    });
  }

  /** Counts one failure against each subject. */
  async fail(subjects: Subject[]): Promise<void> {
    await Promise.all(subjects.map((s) => this.call(s, 1)));
  }
}
