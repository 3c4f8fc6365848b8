import type { Client, InValue } from "@libsql/client";
import { platformDb } from "../../../db/client";
import { clearTable, columnsOf, countRows, insertRows, parentsFirst } from "../../../db/dump";
import { tenantMigrations } from "../../../db/migrations.gen";
import { findBackup, findRestore, updateRestore } from "../../../db/platform/backups";
import { findTenantById } from "../../../db/platform/tenants";
import { provisionerFor } from "../../../db/provisioner";
import { tenantClient, tenantDb } from "../../../db/tenant-db";
import { migrateTenant } from "../../../db/tenant-migrate";
import { rebuildDerived } from "../../../db/tenant/backup-tables";
import { conversationStub, hubStub } from "../../../durable/protocol/stubs";
import type { SnapshotPage } from "../../../durable/snapshot";
import { AppError } from "../../../lib/errors";
import type { CloudEvent } from "../../../lib/events";
import { log } from "../../../lib/log";
import { parseStoredConfig } from "../../../lib/tenant-config";
import { abandonTenant, activateTenant, provisionDatabase } from "../../tenancy/provision";
import { backupPrefix, type Cell, copyObject, decodeCell, type Manifest, readManifest, readPart } from "./archive";
import { rowRewriter } from "./reseal";
import { r2KeyOf, tenantFilesPrefix } from "../../file-links/keys";
import { deleteByPrefix } from "./service";

const INSERT_BATCH = 200;
const PARALLEL = 10;

/**
 * Runs a restore a `restore.requested` event names: the backup's database into the reserved
 * tenant's new database at the backup's schema version, counted against the manifest, then
 * migrated to the current version; derived indexes rebuilt, files copied, each hub and
 * conversation restored into the new tenant's objects; then the tenant goes active. Any failure
 * undoes the tenant (its slug is free again) and marks the restore `failed` with the reason.
 */
export async function runRestore(event: CloudEvent, env: Env): Promise<void> {
  const restoreId = String((event.data as { restoreId?: unknown } | undefined)?.restoreId ?? "");
  const pdb = platformDb(env);
  const job = await findRestore(pdb, restoreId);
  if (!job || job.status !== "running") return;
  const into = await findTenantById(pdb, job.intoTenantId);
  const provisioner = provisionerFor(env);
  try {
    const backup = await findBackup(pdb, job.backupId);
    if (!into || into.status !== "provisioning") throw new Error("the reserved tenant is gone");
    if (!backup || backup.status !== "done") throw new AppError("backup_not_ready", "The backup is not finished.");
    const prefix = backupPrefix(backup.tenantId, backup.id);
    const m = await readManifest(env.BACKUPS, prefix);
    if (m.tenant.id !== backup.tenantId) throw new AppError("backup_corrupt", "The manifest names another tenant.");
    if (m.schemaVersion > tenantMigrations.length)
      throw new AppError("backup_corrupt", `The backup's schema ${m.schemaVersion} is newer than this version's.`);
    await provisioner.destroy(into.dbName); // a redelivered event starts over
    const provisioned = await provisionDatabase(env, into, provisioner, m.schemaVersion);
    const client = tenantClient(provisioned.loc);
    const rows = await restoreTables(env, client, m, into.id);
    const report = await migrateTenant(client, tenantMigrations);
    await rebuildDerived(tenantDb(provisioned.loc));
    await restoreFiles(env, prefix, m, into.id);
    const objects = await restoreObjects(env, m, into.id);
    await activateTenant(env, pdb, into, parseStoredConfig(into.config), { ...provisioned, version: report.version });
    await updateRestore(pdb, job.id, { status: "done", rows, objects, finishedAt: Date.now() });
  } catch (err) {
    log("error", "restore failed", { restoreId, backupId: job.backupId, error: String(err) });
    if (into) {
      await abandonTenant(pdb, provisioner, into);
      await deleteByPrefix(env.FILES, tenantFilesPrefix(into.id)).catch(() => undefined);
    }
    const reason = err instanceof AppError ? err.message : String(err);
    await updateRestore(pdb, job.id, { status: "failed", error: reason.slice(0, 500), finishedAt: Date.now() });
  }
}

/** Every table's rows, re-sealed for the new tenant; each table's count checked against the manifest. */
async function restoreTables(env: Env, client: Client, m: Manifest, tenantId: string): Promise<number> {
  let total = 0;
  const order = await parentsFirst(
    client,
    m.tables.map((t) => t.name),
  );
  const byName = new Map(m.tables.map((t) => [t.name, t]));
  // What migrations seeded (roles, settings) gives way to the backup's: children emptied first.
  for (const name of [...order].reverse()) await clearTable(client, name);
  for (const t of order.map((name) => byName.get(name)!)) {
    const have = new Set(await columnsOf(client, t.name));
    const missing = t.columns.filter((c) => !have.has(c));
    if (missing.length > 0)
      throw new AppError("backup_corrupt", `Table ${t.name} has no column ${missing.join(", ")} at that schema.`);
    const rewrite = rowRewriter(env, t.name, t.columns, m.tenant.id, tenantId);
    for (const part of t.parts) {
      const lines = (await readPart(env.BACKUPS, part)) as Cell[][];
      for (let i = 0; i < lines.length; i += INSERT_BATCH) {
        const batch = await Promise.all(lines.slice(i, i + INSERT_BATCH).map((r) => rewrite(r.map(decodeCell))));
        await insertRows(client, t.name, t.columns, batch as InValue[][]);
      }
    }
    const n = await countRows(client, t.name);
    if (n !== t.rows)
      throw new AppError("backup_corrupt", `Table ${t.name} holds ${n} rows after restore, not ${t.rows}.`);
    total += n;
  }
  return total;
}

/** The files' bytes back into the files bucket, under the new tenant's keys. */
async function restoreFiles(env: Env, prefix: string, m: Manifest, tenantId: string): Promise<void> {
  for (const part of m.files.parts) {
    for (const line of (await readPart(env.BACKUPS, part)) as { id: string; size: number }[]) {
      const copied = await copyObject(
        env.BACKUPS,
        `${prefix}/files/${line.id}`,
        env.FILES,
        r2KeyOf(tenantId, line.id),
        line.size,
      );
      if (copied === null)
        throw new AppError("backup_corrupt", `The backup's copy of file ${line.id} is missing or of another size.`);
    }
  }
}

interface Restoring {
  restore(page: SnapshotPage, tenantId: string, first: boolean): Promise<number>;
}

/** Each object's pages in order (its first empties it), PARALLEL objects at a time; rows counted. */
async function restoreObjects(env: Env, m: Manifest, tenantId: string): Promise<number> {
  const kinds = [
    [m.objects.hubs, (id: string): Restoring => hubStub(env, tenantId, id)],
    [m.objects.conversations, (id: string): Restoring => conversationStub(env, tenantId, id)],
  ] as const;
  let objects = 0;
  for (const [kind, stub] of kinds) {
    const begun = new Set<string>();
    let rows = 0;
    for (const part of kind.parts) {
      const byObject = new Map<string, SnapshotPage[]>();
      for (const line of (await readPart(env.BACKUPS, part)) as { id: string; page: SnapshotPage }[]) {
        const page = { ...line.page, rows: line.page.rows.map((r) => (r as Cell[]).map(decodeCell)) } as SnapshotPage;
        byObject.set(line.id, [...(byObject.get(line.id) ?? []), page]);
      }
      const queue = [...byObject];
      const worker = async () => {
        for (let next = queue.shift(); next; next = queue.shift()) {
          const [id, pages] = next;
          for (const page of pages) {
            const n = await stub(id).restore(page, tenantId, !begun.has(id));
            rows += n; // not `rows += await …`: that reads `rows` before the await, losing other workers' counts
            begun.add(id);
          }
        }
      };
      await Promise.all(Array.from({ length: PARALLEL }, worker));
    }
    if (rows !== kind.rows) throw new AppError("backup_corrupt", `Objects restored ${rows} rows, not ${kind.rows}.`);
    objects += begun.size;
  }
  return objects;
}
