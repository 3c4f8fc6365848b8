import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { TenantDb } from "../client";
import { preparedOn } from "../prepared";
import { settings } from "./schema";

/** What client apps may read about their tenant before signing in (GET /v1/tenant). */
export const PublicTenantInfoSchema = z.object({
  name: z.string(),
  features: z.record(z.string(), z.boolean()),
  signIn: z.object({
    password: z.boolean(),
    username: z.boolean(),
    email: z.boolean(),
    registration: z.enum(["open", "closed"]),
  }),
});
export type PublicTenantInfo = z.infer<typeof PublicTenantInfoSchema>;

/** Writes the public bootstrap info; the platform calls this on tenant create and update. */
export async function writePublicInfo(db: TenantDb, info: PublicTenantInfo): Promise<void> {
  const value = JSON.stringify(info);
  const now = Date.now();
  await db
    .insert(settings)
    .values({ key: "public", value, updatedAt: now })
    .onConflictDoUpdate({ target: settings.key, set: { value, updatedAt: now } })
    .run();
}

/** Reads the public bootstrap info, validated: a row written by an older version still parses or is rejected. */
export async function readPublicInfo(db: TenantDb): Promise<PublicTenantInfo | undefined> {
  const query = preparedOn(db, "settings.byKey", (d) =>
    d
      .select()
      .from(settings)
      .where(eq(settings.key, sql.placeholder("key")))
      .prepare(),
  );
  const row = await query.get({ key: "public" });
  return row ? PublicTenantInfoSchema.parse(JSON.parse(row.value)) : undefined;
}
