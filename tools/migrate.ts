/**
 * `npm run migrate`: applies platform migrations, then tenant migrations to every tenant DB,
 * and prints each tenant's version. Reads PLATFORM_DB_URL, PLATFORM_DB_TOKEN and
 * DB_ENCRYPTION_KEY from the environment, falling back to .dev.vars (written by npm run dev).
 * Safe to run while the Worker serves traffic and concurrently with another runner.
 */
import { platformDb } from "../src/db/client";
import { migrate } from "../src/db/migrator";
import { migrateTenant } from "../src/db/tenant-migrate";
import { platformMigrations, tenantMigrations } from "../src/db/migrations.gen";
import { allMigratableTenants, recordTenantVersion } from "../src/db/platform/tenants";
import { tenantClient, tenantDbLocation } from "../src/db/tenant-db";
import { readVars } from "./dotenv";
import { devVarsPath } from "./local-state";

const file = readVars(devVarsPath);
const need = (k: string): string => {
  const v = process.env[k] ?? file[k];
  if (!v) throw new Error(`${k} is not set (environment or .dev.vars; run npm run dev once locally)`);
  return v;
};

async function main(): Promise<number> {
  const env = {
    PLATFORM_DB_URL: need("PLATFORM_DB_URL"),
    PLATFORM_DB_TOKEN: process.env.PLATFORM_DB_TOKEN ?? file.PLATFORM_DB_TOKEN,
    DB_ENCRYPTION_KEY: need("DB_ENCRYPTION_KEY"),
  };
  const db = platformDb(env);
  const platform = await migrate(db.$client, platformMigrations);
  console.log(
    `platform  v${platform.version}${platform.applied.length ? `  (applied ${platform.applied.join(", ")})` : ""}`,
  );

  let failures = 0;
  const tenants = await allMigratableTenants(db);
  for (const t of tenants) {
    try {
      const report = await migrateTenant(tenantClient(await tenantDbLocation(env, t)));
      await recordTenantVersion(db, t.id, report.version);
      const note = report.applied.length ? `applied ${report.applied.join(", ")}` : "up to date";
      console.log(`${t.slug.padEnd(24)} ${t.status.padEnd(10)} v${report.version}/${tenantMigrations.length}  ${note}`);
    } catch (err) {
      failures++;
      console.log(
        `${t.slug.padEnd(24)} ${t.status.padEnd(10)} FAILED  ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
  console.log(`${tenants.length} tenant(s), ${failures} failure(s)`);
  db.$client.close();
  return failures ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
