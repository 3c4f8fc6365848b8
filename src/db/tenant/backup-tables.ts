import type { TenantDb } from "../client";
import { reindexArticles } from "./knowledge";
import { beginRebuild, rebuildSources, runRebuild } from "./search-rebuild";

/**
 * What a backup of a tenant database leaves out (docs/operations.md, "Backup and restore"):
 * tables derived from others (rebuilt on restore) and tables bound to the old tenant's running
 * life, which a restored tenant must not act on again (its pending events, webhook deliveries,
 * consumers' markers, export archives). Signing keys stay out: backups hold no private keys,
 * and a restored tenant signs with a key of its own.
 */
export const NOT_BACKED_UP: ReadonlySet<string> = new Set([
  "search_docs",
  "search_state",
  "signing_keys",
  "outbox",
  "processed_events",
  "webhook_deliveries",
  "webhook_attempts",
  "data_exports",
]);

/**
 * The indexes a backup does not carry, rebuilt from their sources: the content search (posts and
 * comments) and the knowledge base. The user directory's FTS table keeps its own content and is
 * carried; the message archive's index is filled by its insert trigger as rows are restored.
 */
export async function rebuildDerived(
  db: TenantDb,
  now = Date.now(),
): Promise<{ searchDocs: boolean; articles: number }> {
  const began = await beginRebuild(db, now);
  const searchDocs = began ? await runRebuild(db, now, rebuildSources) : false;
  return { searchDocs, articles: await reindexArticles(db) };
}
