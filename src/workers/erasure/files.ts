import { markFileDeleted, markUploadAborted } from "../../db/tenant/files";
import type { TenantScope } from "../gateway/context";

/** A stored file to delete: its row's facts. */
export interface StoredFile {
  id: string;
  ownerId: string;
  r2Key: string;
  status: string;
  uploadId?: string | null;
  purpose: string;
  size: number;
}

/**
 * Deletes files for good (an erasure, retention): every R2 object goes before its row is marked,
 * so an R2 failure fails the call and a later run tries again: no object outlives its row. Ready
 * files write `file.deleted` (statistics keep their gauges); unfinished uploads are aborted.
 */
export async function deleteStoredFiles({ env, db }: TenantScope, rows: StoredFile[], now: number): Promise<void> {
  if (rows.length === 0) return;
  for (const r of rows.filter((r) => r.status === "uploading" && r.uploadId))
    await env.FILES.resumeMultipartUpload(r.r2Key, r.uploadId!)
      .abort()
      .catch(() => undefined); // an upload R2 already forgot
  await env.FILES.delete(rows.map((r) => r.r2Key));
  for (const r of rows) {
    if (r.status === "uploading") await markUploadAborted(db, r.id, now);
    else
      await markFileDeleted(
        db,
        r.id,
        {
          type: "file.deleted",
          subject: r.id,
          data: { fileId: r.id, ownerId: r.ownerId, purpose: r.purpose, size: r.size },
        },
        now,
      );
  }
}

/** Where an export's parts and archive live in R2: `<prefix>/…` and `<prefix>.zip`. */
export const exportPrefix = (tenantId: string, exportId: string) => `t/${tenantId}/exports/${exportId}`;

/** Deletes every R2 object whose key starts with `prefix` (an export's parts and its archive). */
export async function deletePrefix(bucket: R2Bucket, prefix: string): Promise<void> {
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix, ...(cursor ? { cursor } : {}) });
    if (page.objects.length > 0) await bucket.delete(page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
}
