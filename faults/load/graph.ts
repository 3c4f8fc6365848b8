/**
 * Social-graph load: friendships made (request, then accept) and removed between users of a
 * pool, cycling through every pair; follows set and cleared at random. Every call is retried
 * like a client would (on 503 or no answer, after Retry-After) until a deadline. The friend
 * routes are idempotent by design (a repeated request answers the pending one, a repeated
 * accept is a 204), so a retry after an answer that was lost is safe; a 404 to a repeated
 * removal means the first one landed. Each operation records whether it was acknowledged.
 */
import { callWithRetry, field, type Api } from "../http";
import type { User } from "../world";
import { pick, type Loops } from "./loops";

export interface GraphOp {
  kind: "befriend" | "unfriend" | "follow" | "unfollow";
  a: User;
  b: User;
  acked: boolean;
  /** The final answer, for the report ("204", "503", "no answer", …). */
  outcome: string;
  startedAt: number;
  endedAt: number;
}

const outcomeOf = (s: number | null, error: string | null): string =>
  s === null ? `no answer (${error ?? "?"})` : String(s);

export class GraphLoad {
  readonly ops: GraphOp[] = [];
  private next = 0;
  private readonly pairs: [User, User][] = [];
  private readonly friends = new Set<string>();

  constructor(
    private readonly api: Api,
    private readonly pool: User[],
    private readonly everyone: User[],
    private readonly retryMs: number,
  ) {
    for (let i = 0; i < pool.length; i++)
      for (let j = i + 1; j < pool.length; j++) this.pairs.push([pool[i]!, pool[j]!]);
  }

  start(loops: Loops, friendIntervalMs: number, followIntervalMs: number): void {
    if (this.pairs.length) loops.spawn("friends", friendIntervalMs, () => this.friendStep());
    if (this.everyone.length > 1) loops.spawn("follows", followIntervalMs, () => this.followStep());
  }

  /** The next pair in turn: befriend it if it is not (as far as the load knows), else unfriend it. */
  private async friendStep(): Promise<void> {
    const [a, b] = this.pairs[this.next++ % this.pairs.length]!;
    const key = `${a.userId}:${b.userId}`;
    const deadline = Date.now() + this.retryMs;
    const startedAt = Date.now();
    if (this.friends.has(key)) {
      const { last } = await callWithRetry(
        this.api,
        "friends.remove",
        "DELETE",
        `/v1/friends/${b.userId}`,
        { token: a.accessToken },
        deadline,
      );
      // A 404 after an earlier attempt that got no answer or a 503 means that attempt removed it.
      const acked = last.status === 204 || (last.status === 404 && field(last.json, "code") === "friend_not_found");
      if (acked) this.friends.delete(key);
      this.ops.push({
        kind: "unfriend",
        a,
        b,
        acked,
        outcome: outcomeOf(last.status, last.error),
        startedAt,
        endedAt: Date.now(),
      });
      return;
    }
    const req = await callWithRetry(
      this.api,
      "friends.request",
      "POST",
      "/v1/friends/requests",
      { token: a.accessToken, body: { toUserId: b.userId } },
      deadline,
    );
    const requestId = field(req.last.json, "id");
    let acked = req.last.status === 201 && field(req.last.json, "status") === "accepted";
    let outcome = outcomeOf(req.last.status, req.last.error);
    if (!acked && req.last.status === 409 && field(req.last.json, "code") === "already_friends") acked = true;
    if (!acked && req.last.status === 201 && requestId) {
      const acc = await callWithRetry(
        this.api,
        "friends.accept",
        "POST",
        `/v1/friends/requests/${requestId}/accept`,
        { token: b.accessToken },
        deadline,
      );
      acked = acc.last.status === 204;
      outcome = outcomeOf(acc.last.status, acc.last.error);
    }
    if (acked) this.friends.add(key);
    this.ops.push({ kind: "befriend", a, b, acked, outcome, startedAt, endedAt: Date.now() });
  }

  private async followStep(): Promise<void> {
    const a = pick(this.everyone);
    const b = pick(this.everyone.filter((u) => u !== a));
    const on = Math.random() < 0.6;
    const startedAt = Date.now();
    const { last } = await callWithRetry(
      this.api,
      on ? "follow.put" : "follow.delete",
      on ? "PUT" : "DELETE",
      `/v1/users/${b.userId}/follow`,
      { token: a.accessToken },
      Date.now() + this.retryMs,
    );
    this.ops.push({
      kind: on ? "follow" : "unfollow",
      a,
      b,
      acked: last.status === 200,
      outcome: outcomeOf(last.status, last.error),
      startedAt,
      endedAt: Date.now(),
    });
  }
}
