/**
 * Creates the platform database on a local libSQL server (idempotent) and applies the platform
 * migrations. Shared by `npm run dev`, `npm run migrate` and the test global setup.
 */
import { createClient } from "@libsql/client";
import { migrate, type MigrationReport } from "../src/db/migrator";
import { platformMigrations } from "../src/db/migrations.gen";

export const PLATFORM_NAMESPACE = "platform";

export interface PlatformLocation {
  url: string;
  token: string;
  report: MigrationReport;
}

export async function bootstrapPlatform(origin: string, secret: string): Promise<PlatformLocation> {
  const res = await fetch(`${origin}/v1/namespaces/${PLATFORM_NAMESPACE}/create`, {
    method: "POST",
    headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
    body: "{}",
  });
  if (!res.ok) throw new Error(`creating the platform namespace failed: HTTP ${res.status} ${await res.text()}`);
  const { url, token } = (await res.json()) as { url: string; token: string };
  const client = createClient({ url, authToken: token });
  try {
    return { url, token, report: await migrate(client, platformMigrations) };
  } finally {
    client.close();
  }
}
