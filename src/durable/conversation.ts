import { DurableObject } from "cloudflare:workers";
import { migrateStorage, type DoMigration } from "./storage-migrations";

// Storage schema of a conversation: the realtime capability appends the ordered message log,
// members and read cursors here.
const migrations: readonly DoMigration[] = [];

/**
 * One object per conversation (named `<tenantId>:<conversationId>`): the ordered message log
 * with gap-free sequence numbers, membership and fan-out. Declared by the foundation so the
 * binding exists from the first deploy.
 */
export class Conversation extends DurableObject<Env> {
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
