import type { Value } from "@libsql/client";
import { platformDb } from "../../../db/client";
import { dumpableTables, readPage, type DumpTable } from "../../../db/dump";
import { currentVersion } from "../../../db/migrator";
import { findBackup, updateBackup } from "../../../db/platform/backups";
import type { BackupRow, TenantRow } from "../../../db/platform/schema";
import { findTenantById } from "../../../db/platform/tenants";
import { tenantClient, tenantDbLocation } from "../../../db/tenant-db";
import { NOT_BACKED_UP } from "../../../db/tenant/backup-tables";
import { conversationStub, hubStub } from "../../../durable/protocol/stubs";
import type { SnapshotCursor, SnapshotPage } from "../../../durable/snapshot";
import type { CloudEvent } from "../../../lib/events";
import { log } from "../../../lib/log";
import {
  backupPrefix,
  copyObject,
  encodeCell,
  MANIFEST_VERSION,
  type Manifest,
  type Part,
  PartWriter,
} from "./archive";

/** Rows read per page of a table; objects snapshotted at once. */
const PAGE_ROWS = 500;
const PARALLEL = 10;

/** What the table pass learns for the passes after it: which objects and files exist. */
interface Found {
  users: string[];
  conversations: string[];
  files: { id: string; r2Key: string }[];
}

/**
 * Runs a backup a `backup.requested` event names (the statistics queue's platform handler). A
 * row no longer `running` is left alone (a redelivered event); a failure marks it `failed` with
 * the reason, for the operator to start another.
 */
export async function runBackup(event: CloudEvent, env: Env): Promise<void> {
  const backupId = String((event.data as { backupId?: unknown } | undefined)?.backupId ?? "");
  const pdb = platformDb(env);
  const row = await findBackup(pdb, backupId);
  if (!row || row.status !== "running") return;
  try {
    const tenant = await findTenantById(pdb, row.tenantId);
    if (!tenant?.dbUrl) throw new Error("the tenant has no database");
    const m = await writeArchive(env, tenant, row);
    const parts = [...m.tables.flatMap((t) => t.parts), ...m.objects.hubs.parts, ...m.objects.conversations.parts];
    await updateBackup(pdb, row.id, {
      status: "done",
      schemaVersion: m.schemaVersion,
      parts: parts.length + m.files.count,
      rows: m.tables.reduce((n, t) => n + t.rows, 0),
      bytes: parts.reduce((n, p) => n + p.bytes, 0) + m.files.bytes,
      finishedAt: Date.parse(m.finishedAt),
    });
  } catch (err) {
    log("error", "backup failed", { backupId, tenantId: row.tenantId, error: String(err) });
    await updateBackup(pdb, row.id, { status: "failed", error: String(err).slice(0, 500), finishedAt: Date.now() });
  }
}

/**
 * The archive: the database in one read transaction (a consistent snapshot), then each user's
 * hub and each conversation, then the files' bytes, then the manifest naming every part.
 */
async function writeArchive(env: Env, tenant: TenantRow, row: BackupRow): Promise<Manifest> {
  const prefix = backupPrefix(tenant.id, row.id);
  const startedAt = new Date().toISOString();
  const found: Found = { users: [], conversations: [], files: [] };
  const client = tenantClient(await tenantDbLocation(env, tenant), "bigint");
  const tx = await client.transaction("read");
  let schemaVersion: number;
  const tables: Manifest["tables"] = [];
  try {
    schemaVersion = await currentVersion(tx);
    for (const t of await dumpableTables(tx, NOT_BACKED_UP)) {
      const out = new PartWriter(env.BACKUPS, prefix, `db/${t.name}`);
      let rows = 0;
      for (let after: Value[] | null = null; ; ) {
        const page = await readPage(tx, t, after, PAGE_ROWS);
        for (const r of page.rows) await out.add(r.map(encodeCell), 1);
        note(found, t, page.rows);
        rows += page.rows.length;
        if (page.rows.length < PAGE_ROWS) break;
        after = page.last;
      }
      tables.push({ name: t.name, columns: t.columns, rows, parts: await out.finish() });
    }
  } finally {
    tx.close();
  }
  const hubs = await snapshotAll(env, prefix, "hubs", found.users, (id) => hubStub(env, tenant.id, id));
  const conversations = await snapshotAll(env, prefix, "conversations", found.conversations, (id) =>
    conversationStub(env, tenant.id, id),
  );
  const files = await copyFiles(env, prefix, found.files);
  const manifest: Manifest = {
    format: "canopy-backup",
    version: MANIFEST_VERSION,
    id: row.id,
    tenant: {
      id: tenant.id,
      slug: tenant.slug,
      name: tenant.name,
      plan: tenant.plan,
      config: JSON.parse(tenant.config),
    },
    schemaVersion,
    startedAt,
    finishedAt: new Date().toISOString(),
    tables,
    objects: { hubs, conversations },
    files,
  };
  await env.BACKUPS.put(`${prefix}/manifest.json`, JSON.stringify(manifest), {
    httpMetadata: { contentType: "application/json" },
  });
  return manifest;
}

/** Collects the ids the later passes need from the rows of the tables that hold them. */
function note(found: Found, t: DumpTable, rows: Value[][]): void {
  const col = (name: string) => t.columns.indexOf(name);
  if (t.name === "users") for (const r of rows) found.users.push(String(r[col("id")]));
  if (t.name === "conversations") for (const r of rows) found.conversations.push(String(r[col("id")]));
  if (t.name === "files") {
    for (const r of rows)
      if (r[col("status")] === "ready") found.files.push({ id: String(r[col("id")]), r2Key: String(r[col("r2_key")]) });
  }
}

interface Snapshotting {
  snapshot(cursor: SnapshotCursor | null): Promise<SnapshotPage>;
}

/** Every object's pages, one line each (`{ id, page }`), PARALLEL objects at a time. */
async function snapshotAll(
  env: Env,
  prefix: string,
  kind: "hubs" | "conversations",
  ids: string[],
  stub: (id: string) => Snapshotting,
): Promise<Manifest["objects"]["hubs"]> {
  const out = new PartWriter(env.BACKUPS, prefix, `objects/${kind}`);
  let rows = 0;
  const queue = [...ids];
  const worker = async () => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      for (let cursor: SnapshotCursor | null = null; ; ) {
        const page = await stub(id).snapshot(cursor);
        rows += page.rows.length;
        await out.add({ id, page: { ...page, rows: page.rows.map((r) => r.map(encodeCell)) } }, page.rows.length);
        if (!page.next) break;
        cursor = page.next;
      }
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return { objects: ids.length, rows, parts: await out.finish() };
}

/** The bytes of every ready file, streamed from the files bucket; a list part names them. */
async function copyFiles(env: Env, prefix: string, files: Found["files"]): Promise<Manifest["files"]> {
  const list = new PartWriter(env.BACKUPS, prefix, "files/list");
  let bytes = 0;
  for (const f of files) {
    const size = await copyObject(env.FILES, f.r2Key, env.BACKUPS, `${prefix}/files/${f.id}`);
    if (size === null) continue; // gone from storage already (an erasure in flight): nothing to keep
    await list.add({ id: f.id, size }, 1);
    bytes += size;
  }
  const parts: Part[] = await list.finish();
  return { count: parts.reduce((n, p) => n + p.rows, 0), bytes, parts };
}
