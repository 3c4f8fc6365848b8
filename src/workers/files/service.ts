import { r2KeyOf } from "../file-links/keys";
import type { Context } from "hono";
import type { TenantDb } from "../../db/client";
import { findFile, insertReadyFile, listOwnFiles, markFileDeleted, type FileRow } from "../../db/tenant/files";
import type { DomainEvent } from "../../db/tenant/outbox";
import type { Pager } from "../../lib/cursor";
import { AppError } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { SNIFF_BYTES } from "../../lib/sniff";
import { log } from "../../lib/log";
import type { AppEnv, ResolvedTenant } from "../gateway/context";
import { fileView, tenantOrigin } from "../file-links/file-urls";
import { traceparentOf } from "../gateway/http";
import { storedName } from "./names";
import { vipLevelQuery } from "../../db/tenant/vip";
import { levelDef } from "../../lib/vip-access";
import { canView, checkSize, contentTypeOf, type Purpose } from "./policy";

/** What every files operation needs from the request: bindings, tenant, its DB, URL origin, trace. */
export interface FilesScope {
  env: Env;
  tenant: ResolvedTenant;
  db: TenantDb;
  origin: string;
  traceparent: string;
}

export function filesScope(c: Context<AppEnv>): FilesScope {
  const tenant = c.get("tenant");
  return {
    env: c.env,
    tenant,
    db: c.get("db"),
    origin: tenantOrigin(c.req.url, tenant.slug, c.env.BASE_DOMAIN),
    traceparent: traceparentOf(c),
  };
}

/** The R2 key of a file: always under the tenant's prefix. */
export { r2KeyOf };

const notFound = () => new AppError("file_not_found", "No such file.");

/** The `file.uploaded` event of a row that just became ready. */
export function uploadedEvent(s: FilesScope, row: FileRow): DomainEvent {
  return {
    type: "file.uploaded",
    subject: row.id,
    data: {
      fileId: row.id,
      ownerId: row.ownerId,
      purpose: row.purpose,
      contentType: row.contentType,
      size: row.size,
      name: row.name,
    },
    traceparent: s.traceparent,
  };
}

/** A file as the API shows it, with a freshly signed download URL. */
export function fileJson(s: FilesScope, row: FileRow, now = Date.now()) {
  return fileView(s.env.DB_ENCRYPTION_KEY, s.origin, s.tenant.id, row, now);
}

/** The uploader's VIP benefit `maxUploadBytes` now (null: none, the tenant's limit applies). */
export async function memberUploadCap(s: FilesScope, userId: string): Promise<number | null> {
  if (!s.tenant.config.vip.levels.some((l) => l.benefits.maxUploadBytes !== null)) return null;
  const [row] = await vipLevelQuery(s.db, userId, Date.now());
  return levelDef(s.tenant.config, row?.level ?? 0)?.benefits.maxUploadBytes ?? null;
}

/**
 * Stores a file sent in one request. Size and sniffed type are checked before anything is
 * written; the bytes go to R2 first so a ready row never points at missing bytes, and the row
 * and its event are one batch. If the batch fails, the object is removed again.
 */
export async function uploadFile(
  s: FilesScope,
  ownerId: string,
  input: { file: File; purpose: Purpose; name?: string | undefined },
): Promise<FileRow> {
  checkSize(input.purpose, input.file.size, s.tenant.config, await memberUploadCap(s, ownerId));
  const name = storedName(input.name ?? input.file.name);
  // Only the head is copied out for sniffing; the hash streams and R2 takes the Blob itself,
  // so the file is not copied again in memory.
  const contentType = contentTypeOf(
    input.purpose,
    name,
    new Uint8Array(await input.file.slice(0, SNIFF_BYTES).arrayBuffer()),
  );
  const hasher = new crypto.DigestStream("SHA-256");
  await input.file.stream().pipeTo(hasher);
  const digest = new Uint8Array(await hasher.digest);
  const id = newId();
  const row: FileRow = {
    id,
    ownerId,
    purpose: input.purpose,
    name,
    contentType,
    size: input.file.size,
    r2Key: r2KeyOf(s.tenant.id, id),
    sha256: [...digest].map((b) => b.toString(16).padStart(2, "0")).join(""),
    status: "ready",
    uploadId: null,
    partSize: null,
    createdAt: Date.now(),
    deletedAt: null,
  };
  await s.env.FILES.put(row.r2Key, input.file, {
    httpMetadata: { contentType },
    customMetadata: { tenantId: s.tenant.id, ownerId },
  });
  try {
    await insertReadyFile(s.db, row, uploadedEvent(s, row));
  } catch (err) {
    await s.env.FILES.delete(row.r2Key).catch(() => undefined);
    throw err;
  }
  return row;
}

/** A file the user may see (its own, or one whose purpose is visible tenant-wide), else 404. */
export async function visibleFile(s: FilesScope, userId: string, id: string): Promise<FileRow> {
  const row = await findFile(s.db, id);
  // Other users' private files answer exactly like missing ones: existence is not revealed.
  if (!row || !canView(row, userId)) throw notFound();
  return row;
}

/**
 * Deletes one of the user's files: metadata and `file.deleted` first (one transaction), so the
 * file is unreachable the moment this returns; then the R2 object. An R2 failure leaves an
 * orphaned object nobody can reach; it is logged for cleanup rather than failing the request.
 */
export async function deleteFile(s: FilesScope, userId: string, id: string): Promise<void> {
  const row = await findFile(s.db, id);
  if (!row || row.ownerId !== userId || row.status !== "ready") throw notFound();
  const event: DomainEvent = {
    type: "file.deleted",
    subject: id,
    data: { fileId: id, ownerId: userId, purpose: row.purpose, size: row.size },
    traceparent: s.traceparent,
  };
  if (!(await markFileDeleted(s.db, id, event))) throw notFound();
  try {
    await s.env.FILES.delete(row.r2Key);
  } catch (err) {
    log("error", "file object not deleted", { tenant: s.tenant.slug, fileId: id, error: String(err) });
  }
}

/** One page of the user's own ready files, newest first. */
export async function listFiles(
  s: FilesScope,
  userId: string,
  pg: Pager<"id">,
  q: { purpose?: Purpose | undefined; limit: number; cursor?: string | undefined },
) {
  const before = (await pg.after(q.cursor))?.[0];
  const rows = await listOwnFiles(s.db, userId, { purpose: q.purpose, before, limit: q.limit + 1 });
  const { page, nextCursor } = await pg.page(rows, q.limit, (r) => [r.id]);
  const now = Date.now();
  const items = await Promise.all(page.map((r) => fileJson(s, r, now)));
  return { items, nextCursor };
}
