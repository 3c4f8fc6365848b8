/**
 * The AI load: each buyer calls `POST /v1/ai/moderate` (1 unit) over and over, far past the
 * world's small daily allowance, so after the first seconds every call draws on the `ai_quota`
 * packs the money load keeps buying (and now and then refunds). The route takes no
 * Idempotency-Key, so nothing is retried: a call answered 503 or not at all may or may not have
 * been charged, and the verification allows for exactly those (verify/ai.ts).
 */
import { field, type Api } from "../http";
import type { Buyer } from "../world";
import type { Loops } from "./loops";

export interface AiCall {
  buyer: Buyer;
  /** The answer's status; null when none came. */
  status: number | null;
  code: string | undefined;
  at: number;
}

export class AiLoad {
  readonly calls: AiCall[] = [];
  private n = 0;

  constructor(
    private readonly api: Api,
    private readonly buyers: Buyer[],
  ) {}

  start(loops: Loops, intervalMs: number): void {
    for (const b of this.buyers) loops.spawn(`ai ${b.username}`, intervalMs, () => this.step(b));
  }

  private async step(b: Buyer): Promise<void> {
    const at = Date.now();
    const a = await this.api.call("ai.moderate", "POST", "/v1/ai/moderate", {
      token: b.accessToken,
      body: { text: `fault harness note ${++this.n} from ${b.username}` },
    });
    this.calls.push({ buyer: b, status: a.status, code: field(a.json, "code"), at });
  }
}
