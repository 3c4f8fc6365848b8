import { sql } from "drizzle-orm";
import type { TenantDb } from "../client";

/** A tenant's AI provider rows (migrations/tenant/0027); secrets stay sealed here. */
export type RemoteProvider = "openai-compatible" | "workers-ai";

export interface AiProviderRow {
  provider: RemoteProvider;
  features: string;
  settings: string;
  sealed: string | null;
  updatedAt: number;
}

export function aiProviderRows(db: TenantDb) {
  return db.all<AiProviderRow>(
    sql`SELECT provider, features, settings, sealed, updated_at AS updatedAt FROM ai_providers ORDER BY provider`,
  );
}

/**
 * Writes a provider's row and, in the same batch, takes its features away from the other row: a
 * feature is served by one provider at most.
 */
export async function putAiProvider(db: TenantDb, r: Omit<AiProviderRow, "updatedAt">, now: number): Promise<void> {
  const features = JSON.parse(r.features) as string[];
  await db.batch([
    db.run(sql`UPDATE ai_providers SET features = (
        SELECT json_group_array(value) FROM json_each(ai_providers.features)
        WHERE value NOT IN (SELECT value FROM json_each(${JSON.stringify(features)})))
      WHERE provider <> ${r.provider}`),
    db.run(sql`INSERT INTO ai_providers (provider, features, settings, sealed, updated_at)
      VALUES (${r.provider}, ${r.features}, ${r.settings}, ${r.sealed}, ${now})
      ON CONFLICT (provider) DO UPDATE SET features = excluded.features, settings = excluded.settings,
        sealed = excluded.sealed, updated_at = excluded.updated_at`),
  ]);
}
