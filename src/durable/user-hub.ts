import { DurableObject } from "cloudflare:workers";
import { migrateStorage, type DoMigration } from "./storage-migrations";

// Storage schema of the per-user hub. The identity, social and realtime capabilities append
// their migrations here (sessions, friend graph, sockets); none has landed yet.
const migrations: readonly DoMigration[] = [];

/**
 * One object per user (named `<tenantId>:<userId>`): the user's WebSocket connections on all
 * devices, presence, sessions and friend graph. This foundation only declares the class and its
 * migration mechanism so the binding exists from the first deploy.
 */
export class UserHub extends DurableObject<Env> {
  private schemaVersion = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      this.schemaVersion = migrateStorage(ctx.storage, migrations);
    });
  }

  /** The storage schema version, for operators and tests. */
  version(): number {
    return this.schemaVersion;
  }
}
