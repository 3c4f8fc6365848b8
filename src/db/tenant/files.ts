import { and, asc, desc, eq, lt, sql } from "drizzle-orm";
import type { TenantDb } from "../client";
import { outboxInsert, type DomainEvent } from "./outbox";
import { fileParts, files, type FileRow } from "./schema";

export type { FileRow } from "./schema";

/** A file row by id, whatever its status and owner (callers check both). */
export async function findFile(db: TenantDb, id: string): Promise<FileRow | undefined> {
  return db.select().from(files).where(eq(files.id, id)).get();
}

/** Inserts a ready file and its `file.uploaded` event in one batch. */
export async function insertReadyFile(db: TenantDb, row: FileRow, event: DomainEvent): Promise<void> {
  await db.batch([db.insert(files).values(row), outboxInsert(db, event, row.createdAt)]);
}

/** Inserts the row of a multipart upload that has just started (no event until it completes). */
export async function insertUpload(db: TenantDb, row: FileRow): Promise<void> {
  await db.insert(files).values(row).run();
}

/** One page of a user's ready files, newest first; ids are time-ordered so `before` is a cursor. */
export async function listOwnFiles(
  db: TenantDb,
  ownerId: string,
  opts: { purpose?: string | undefined; before?: string | undefined; limit: number },
): Promise<FileRow[]> {
  return db
    .select()
    .from(files)
    .where(
      and(
        eq(files.ownerId, ownerId),
        opts.purpose ? eq(files.purpose, opts.purpose) : undefined,
        eq(files.status, "ready"),
        opts.before ? lt(files.id, opts.before) : undefined,
      ),
    )
    .orderBy(desc(files.id))
    .limit(opts.limit)
    .all();
}

/**
 * Marks a ready file deleted and writes `file.deleted`, once: the status check and the event
 * share a transaction, so two concurrent deletes emit one event. False when it was not ready.
 */
export async function markFileDeleted(
  db: TenantDb,
  id: string,
  event: DomainEvent,
  now = Date.now(),
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const res = await tx
      .update(files)
      .set({ status: "deleted", deletedAt: now })
      .where(and(eq(files.id, id), eq(files.status, "ready")))
      .run();
    if (res.rowsAffected === 0) return false;
    await outboxInsert(tx as unknown as TenantDb, event, now).run();
    return true;
  });
}

/** Records (or replaces, when re-sent) a received part; the first part also fixes the type. */
export async function recordPart(
  db: TenantDb,
  fileId: string,
  part: { number: number; etag: string; size: number },
  contentType?: string,
): Promise<void> {
  const upsert = db
    .insert(fileParts)
    .values({ fileId, partNumber: part.number, etag: part.etag, size: part.size })
    .onConflictDoUpdate({
      target: [fileParts.fileId, fileParts.partNumber],
      set: { etag: part.etag, size: part.size },
    });
  if (contentType === undefined) await upsert.run();
  else
    await db.batch([
      upsert,
      db
        .update(files)
        .set({ contentType })
        .where(and(eq(files.id, fileId), eq(files.status, "uploading"))),
    ]);
}

/** The parts received so far, in order. */
export async function partsOf(
  db: TenantDb,
  fileId: string,
): Promise<{ partNumber: number; etag: string; size: number }[]> {
  return db
    .select({ partNumber: fileParts.partNumber, etag: fileParts.etag, size: fileParts.size })
    .from(fileParts)
    .where(eq(fileParts.fileId, fileId))
    .orderBy(asc(fileParts.partNumber))
    .all();
}

/**
 * Turns a finished upload into a ready file and writes `file.uploaded`, once (same transaction).
 * The part rows are no longer needed. False when the upload was no longer in progress.
 */
export async function markUploadReady(
  db: TenantDb,
  id: string,
  size: number,
  event: DomainEvent,
  now = Date.now(),
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const res = await tx
      .update(files)
      .set({ status: "ready", size, uploadId: null })
      .where(and(eq(files.id, id), eq(files.status, "uploading")))
      .run();
    if (res.rowsAffected === 0) return false;
    await tx.delete(fileParts).where(eq(fileParts.fileId, id)).run();
    await outboxInsert(tx as unknown as TenantDb, event, now).run();
    return true;
  });
}

/** Ends an aborted upload: the row is kept as deleted (no event: no file ever existed). */
export async function markUploadAborted(db: TenantDb, id: string, now = Date.now()): Promise<boolean> {
  const [res] = await db.batch([
    db
      .update(files)
      .set({ status: "deleted", deletedAt: now })
      .where(and(eq(files.id, id), eq(files.status, "uploading"))),
    db.delete(fileParts).where(eq(fileParts.fileId, id)),
  ]);
  return res.rowsAffected > 0;
}

/** True when `fileId` is `ownerId`'s own finished avatar upload. */
export async function isOwnReadyAvatar(db: TenantDb, fileId: string, ownerId: string): Promise<boolean> {
  const row = await db.get<{ n: number }>(
    sql`SELECT count(*) AS n FROM files WHERE id = ${fileId} AND owner_id = ${ownerId} AND purpose = 'avatar' AND status = 'ready'`,
  );
  return Number(row?.n ?? 0) > 0;
}
