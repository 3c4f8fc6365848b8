/**
 * Creates the platform database on a local libSQL server (idempotent) and applies the platform
 * migrations. Shared by `npm run dev`, `npm run migrate` and the test global setup.
 */
import { createClient } from "@libsql/client";
import { migrate, type MigrationReport } from "../src/db/migrator";
import { platformMigrations } from "../src/db/migrations.gen";
import { LocalProvisioner } from "../src/db/provisioner/local";

export const PLATFORM_NAMESPACE = "platform";

export interface PlatformLocation {
  url: string;
  token: string;
  report: MigrationReport;
}

export async function bootstrapPlatform(origin: string, secret: string): Promise<PlatformLocation> {
  const { url, token } = await new LocalProvisioner({ adminUrl: origin, adminToken: secret }).create(
    PLATFORM_NAMESPACE,
  );
  const client = createClient({ url, authToken: token });
  try {
    return { url, token, report: await migrate(client, platformMigrations) };
  } finally {
    client.close();
  }
}
