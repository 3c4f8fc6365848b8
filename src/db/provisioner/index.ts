import { LocalProvisioner } from "./local";
import { TursoProvisioner } from "./turso";
import type { Provisioner } from "./types";

export type { ProvisionedDatabase, Provisioner } from "./types";
export { ProvisioningError } from "./types";

/** Picks the provisioner named by DB_PROVISIONER ("local" or "turso"). */
export function provisionerFor(env: Env): Provisioner {
  if (env.DB_PROVISIONER === "turso") {
    return new TursoProvisioner({
      apiUrl: env.TURSO_API_URL || "https://api.turso.tech",
      apiToken: env.TURSO_API_TOKEN,
      organization: env.TURSO_ORG,
      group: env.TURSO_GROUP || "default",
    });
  }
  return new LocalProvisioner({ adminUrl: env.LIBSQL_ADMIN_URL, adminToken: env.LIBSQL_ADMIN_TOKEN });
}
