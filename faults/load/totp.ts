/**
 * TOTP load: users with TOTP enabled sign in again and again (password, then the MFA step) and,
 * once per 30-second time step, fire a burst of verifications at once: the current code three
 * times and the previous step's code once (it is still accepted while no newer step was). The
 * server must accept each step at most once per user (docs/identity.md: each step once), so of
 * every burst at most one 200 per step, whatever the faults. A burst that got only 503s or no
 * answers is fired again (same step) a moment later: nothing may have been accepted.
 */
import { callWithRetry, field, sleep, type Api, type Answer } from "../http";
import { PASSWORD, totpNow, type TotpUser } from "../world";
import type { Loops } from "./loops";

export interface TotpAcceptance {
  user: TotpUser;
  step: number;
  at: number;
  sessionId: string | undefined;
}

export interface TotpFigures {
  logins: number;
  verifications: number;
  accepted: number;
  refusedReplays: number;
  unanswered: number;
}

const BURST_CURRENT = 3;

export class TotpLoad {
  readonly accepted: TotpAcceptance[] = [];
  readonly figures: TotpFigures = { logins: 0, verifications: 0, accepted: 0, refusedReplays: 0, unanswered: 0 };
  private readonly done = new Map<string, number>();

  constructor(
    private readonly api: Api,
    private readonly users: TotpUser[],
    private readonly retryMs: number,
  ) {}

  start(loops: Loops): void {
    for (const u of this.users) loops.spawn(`totp ${u.username}`, 500, () => this.step(u));
  }

  private async step(u: TotpUser): Promise<void> {
    const now = await totpNow(u.secret);
    // One settled burst per step and user; the enabling code's step is already spent.
    if (now.step <= Math.max(u.enabledStep, this.done.get(u.userId) ?? 0)) return;
    const login = await callWithRetry(
      this.api,
      "totp.login",
      "POST",
      "/v1/auth/login",
      { body: { identifier: u.username, password: PASSWORD }, freshAddress: true },
      Date.now() + this.retryMs,
    );
    const mfaToken = field(login.last.json, "mfaToken");
    if (!mfaToken) return;
    this.figures.logins++;
    const current = await totpNow(u.secret);
    const previous = await totpNow(u.secret, Date.now() - 30_000);
    const codes = [...Array.from({ length: BURST_CURRENT }, () => current), previous];
    const answers: { step: number; a: Answer }[] = await Promise.all(
      codes.map(async (c) => ({
        step: c.step,
        a: await this.api.call("totp.verify", "POST", "/v1/auth/mfa/verify", {
          body: { mfaToken, code: c.code },
          freshAddress: true,
        }),
      })),
    );
    let settled = false;
    for (const { step, a } of answers) {
      this.figures.verifications++;
      if (a.status === 200) {
        this.figures.accepted++;
        this.accepted.push({ user: u, step, at: a.endedAt, sessionId: field(a.json, "sessionId") });
        settled = true;
      } else if (a.status === 401) {
        this.figures.refusedReplays++;
        settled = true;
      } else {
        this.figures.unanswered++;
      }
    }
    if (settled) this.done.set(u.userId, current.step);
    else await sleep(1000);
  }
}
