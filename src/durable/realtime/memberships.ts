import { listedConversations } from "../../db/tenant/conversation-members";
import { tenantDb } from "../../db/tenant-db";
import { loadTenantDb } from "../conversation/policy";

/** Conversation ids a gateway remembers per user (in memory; a woken gateway learns them again). */
const KNOWN_MAX = 1000;

/**
 * Which conversations a user's socket frames may address. Addressing a Conversation object
 * creates it (its SQLite file), so an id a client names is first looked up in the tenant DB's
 * per-user index; an id it does not list gets the non-member answer without any object being
 * touched. The object still decides membership: this only keeps unknown ids away from it.
 *
 * Ids found in the index, and ids of conversations that delivered a message here (only a
 * conversation's own fan-out does), are remembered, so steady traffic costs no lookup and a
 * member just added can answer the `members_added` entry before the index row lands.
 */
export class Memberships {
  private readonly known = new Set<string>();
  /** Lookups in flight, by id: frames naming an id being looked up wait for that same lookup. */
  private readonly pending = new Map<string, Promise<Set<string>>>();

  constructor(
    private readonly env: Env,
    private readonly tenantId: string,
    private readonly userId: string,
  ) {}

  /** Remembers a conversation that delivered to this user. */
  learn(conversationId: string): void {
    if (this.known.has(conversationId)) return;
    if (this.known.size >= KNOWN_MAX) this.known.clear();
    this.known.add(conversationId);
  }

  /**
   * The ids among `ids` that are the user's: remembered, or listed by the index (one query for all
   * the others). A socket's frames go out to conversations in the order they came only if none
   * overtakes another here, so a frame whose id is already being looked up waits for that lookup
   * (continuations resume in the order they were registered) instead of starting a faster one.
   */
  async listed(ids: string[]): Promise<Set<string>> {
    const fresh = ids.filter((id) => !this.known.has(id) && !this.pending.has(id));
    if (fresh.length > 0) {
      const lookup = this.lookup(fresh).finally(() => {
        for (const id of fresh) if (this.pending.get(id) === lookup) this.pending.delete(id);
      });
      for (const id of fresh) this.pending.set(id, lookup);
    }
    const waits = new Set(ids.flatMap((id) => this.pending.get(id) ?? []));
    const found = (await Promise.all(waits)).flatMap((s) => [...s]);
    return new Set(ids.filter((id) => this.known.has(id) || found.includes(id)));
  }

  private async lookup(ids: string[]): Promise<Set<string>> {
    const loc = await loadTenantDb(this.env, this.tenantId);
    const listed = loc ? await listedConversations(tenantDb(loc), this.userId, ids) : new Set<string>();
    for (const id of listed) this.learn(id);
    return listed;
  }
}
