import type { Relation } from "../protocol/relation";

/** Users whose relations a gateway remembers (in memory; a woken gateway asks again). */
const USERS_MAX = 10_000;
/** Direct conversations' relations remembered per user. */
const PEERS_MAX = 1000;

export type Vouched = { peer: string } & Relation;

/**
 * Per user, the relation each direct conversation's last send answered, passed with the next
 * send so the conversation need not ask the user's hub. The hub has the gateways forget a user's
 * entries whenever the user's graph changes, before that change's call returns; an answer to a
 * send that began before such a change is not kept (each change replaces the user's mark).
 */
export class Vouches {
  private readonly byUser = new Map<string, Map<string, Vouched>>();
  private readonly marks = new Map<string, object>();

  get(userId: string, conversationId: string): Vouched | undefined {
    return this.byUser.get(userId)?.get(conversationId);
  }

  /** The user's mark now: pass it back to `remember`. */
  mark(userId: string): object | undefined {
    return this.marks.get(userId);
  }

  /** Keeps a send's answer, unless the user's graph changed since `mark` was taken. */
  remember(userId: string, mark: object | undefined, conversationId: string, relation: Vouched): void {
    if (this.marks.get(userId) !== mark) return;
    let mine = this.byUser.get(userId);
    if (!mine) {
      if (this.byUser.size >= USERS_MAX) this.byUser.clear();
      this.byUser.set(userId, (mine = new Map()));
    }
    if (mine.size >= PEERS_MAX) mine.clear();
    mine.set(conversationId, relation);
  }

  /** The user's graph changed: everything kept goes, and answers in flight will not be kept. */
  changed(userId: string): void {
    this.byUser.delete(userId);
    this.marks.set(userId, {});
  }

  /** The user's last socket here closed: nothing kept for them stays (a graph change would not reach it). */
  drop(userId: string): void {
    this.byUser.delete(userId);
  }
}
