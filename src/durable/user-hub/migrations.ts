import { OUTBOX_PUBLISHED_CLEANUP } from "../outbox";
import type { DoMigration } from "../storage-migrations";
import {
  connectionGatewayMigration,
  connectionMigrations,
  connectionTenantMigration,
  ticketMigrations,
} from "./connections";
import { graphMigrations } from "./graph-store";
import { hubOutboxMigrations, sessionMigrations } from "./sessions";

/** A hub's storage schema, in the order the steps were added (append only: the ledger counts them). */
export const HUB_MIGRATIONS: readonly DoMigration[] = [
  ...sessionMigrations,
  ...graphMigrations,
  ...ticketMigrations,
  ...hubOutboxMigrations,
  ...connectionMigrations,
  OUTBOX_PUBLISHED_CLEANUP,
  connectionTenantMigration,
  connectionGatewayMigration,
];
