/**
 * Sign-in load. Refresh chains: each chain user rotates its refresh token again and again; a
 * refresh that gets a 503 or no answer is retried with the same token (docs/identity.md: calls
 * within the grace window get the same successor), so the chain must never break. Sign-ups:
 * new accounts registered while faults happen; a retry that meets 409 after an attempt that got
 * no answer means that attempt created the account (the verification signs in to confirm).
 */
import { callWithRetry, field, type Api } from "../http";
import { PASSWORD, type User } from "../world";
import type { Loops } from "./loops";

export interface Chain {
  user: User;
  /** The newest refresh token the client holds. */
  token: string;
  /** Rotations started, and those that got their successor. */
  ops: number;
  rotations: number;
  /** Set when a refresh was refused (401): the lineage broke. */
  broken: string | null;
  /** Refreshes that needed more than one attempt. */
  retried: number;
}

export interface Registration {
  username: string;
  acked: boolean;
  /** 409 after an attempt without an answer: created by that attempt, answer lost. */
  answerLost: boolean;
  outcome: string;
  attempts: number;
}

export class AuthLoad {
  readonly chains: Chain[];
  readonly registrations: Registration[] = [];
  private n = 0;

  constructor(
    private readonly api: Api,
    chainUsers: User[],
    private readonly retryMs: number,
  ) {
    this.chains = chainUsers.map((user) => ({
      user,
      token: user.refreshToken,
      ops: 0,
      rotations: 0,
      broken: null,
      retried: 0,
    }));
  }

  start(loops: Loops, refreshIntervalMs: number, registerIntervalMs: number): void {
    for (const chain of this.chains)
      loops.spawn(`refresh ${chain.user.username}`, refreshIntervalMs, () => this.rotate(chain));
    if (registerIntervalMs > 0) loops.spawn("register", registerIntervalMs, () => this.register());
  }

  /** One rotation: the same token until an answer comes, then the successor. */
  async rotate(chain: Chain): Promise<void> {
    if (chain.broken) return;
    chain.ops++;
    const { last, attempts } = await callWithRetry(
      this.api,
      "auth.refresh",
      "POST",
      "/v1/auth/refresh",
      { body: { refreshToken: chain.token }, freshAddress: true },
      Date.now() + this.retryMs,
    );
    if (attempts.length > 1) chain.retried++;
    const next = field(last.json, "refreshToken");
    if (last.status === 200 && next) {
      chain.token = next;
      chain.rotations++;
    } else if (last.status === 401) {
      chain.broken = `${field(last.json, "code") ?? "401"} after ${chain.rotations} rotations (${attempts.length} attempts of this one)`;
    }
  }

  private async register(): Promise<void> {
    const username = `late${++this.n}`;
    const body = { username, password: PASSWORD, device: { id: `late-${username}`, platform: "faults" } };
    const { last, attempts } = await callWithRetry(
      this.api,
      "auth.register",
      "POST",
      "/v1/auth/register",
      { body, freshAddress: true },
      Date.now() + this.retryMs,
    );
    const answerLost = last.status === 409 && attempts.slice(0, -1).some((a) => a.status === null || a.status === 503);
    this.registrations.push({
      username,
      acked: last.status === 201,
      answerLost,
      outcome: last.status === null ? `no answer (${last.error})` : String(last.status),
      attempts: attempts.length,
    });
  }
}
