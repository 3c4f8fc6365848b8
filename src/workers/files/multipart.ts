import {
  findFile,
  insertUpload,
  markUploadAborted,
  markUploadReady,
  partsOf,
  recordPart,
  type FileRow,
} from "../../db/tenant/files";
import { AppError } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { SNIFF_BYTES } from "../../lib/sniff";
import { storedName } from "./names";
import { checkDeclaredType, checkSize, contentTypeOf, type Purpose } from "./policy";
import { memberUploadCap, r2KeyOf, uploadedEvent, type FilesScope } from "./service";

/**
 * Multipart uploads on R2's native multipart API. R2 wants every part but the last to be at
 * least 5 MiB and all of the same size, so the server fixes the part size and the client sends
 * exactly `partSize` bytes per part (the last part: the rest). The upload id is the file's id.
 */
export const PART_SIZE = 5 * 1024 * 1024;

const uploadNotFound = () => new AppError("upload_not_found", "No such upload in progress.");

// R2 answers 10024 (NoSuchUpload) for an upload that was completed, aborted or expired.
function isNoSuchUpload(err: unknown): boolean {
  return err instanceof Error && /\(10024\)/.test(err.message);
}

async function r2Call<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (isNoSuchUpload(err)) throw uploadNotFound();
    throw err;
  }
}

const partCountOf = (row: FileRow) => Math.ceil(row.size / row.partSize!);

/** The caller's own upload in progress, else 404 (other users' uploads look missing). */
async function ownedUpload(s: FilesScope, ownerId: string, uploadId: string): Promise<FileRow> {
  const row = await findFile(s.db, uploadId);
  if (!row || row.ownerId !== ownerId || row.status !== "uploading" || !row.uploadId || !row.partSize)
    throw uploadNotFound();
  return row;
}

/**
 * Starts an upload: the declared size is checked against the purpose's cap now (and each part
 * against it later), a declared type against the purpose; the real type comes from part 1.
 */
export async function startUpload(
  s: FilesScope,
  ownerId: string,
  input: { purpose: Purpose; name: string; size: number; contentType?: string | undefined },
) {
  checkSize(input.purpose, input.size, s.tenant.config, await memberUploadCap(s, ownerId));
  if (input.contentType !== undefined) checkDeclaredType(input.purpose, input.contentType);
  // Before R2 hears of the upload: a refused name leaves nothing behind.
  const name = storedName(input.name);
  const id = newId();
  const key = r2KeyOf(s.tenant.id, id);
  const mpu = await s.env.FILES.createMultipartUpload(key, { customMetadata: { tenantId: s.tenant.id, ownerId } });
  // Until part 1 arrives, content_type holds the declared type (or ""), which part 1 must match.
  const row: FileRow = {
    id,
    ownerId,
    purpose: input.purpose,
    name,
    contentType: input.contentType ?? "",
    size: input.size,
    r2Key: key,
    sha256: null,
    status: "uploading",
    uploadId: mpu.uploadId,
    partSize: PART_SIZE,
    createdAt: Date.now(),
    deletedAt: null,
  };
  try {
    await insertUpload(s.db, row);
  } catch (err) {
    await mpu.abort().catch(() => undefined);
    throw err;
  }
  return { uploadId: id, partSize: PART_SIZE, partCount: partCountOf(row) };
}

/**
 * Stores part `n`. Its length must be exact (so the parts add up to the declared size and R2's
 * equal-size rule holds); part 1 is sniffed and must be a type the purpose accepts.
 */
export async function putPart(s: FilesScope, ownerId: string, uploadId: string, n: number, req: Request) {
  const row = await ownedUpload(s, ownerId, uploadId);
  const count = partCountOf(row);
  if (n > count)
    throw new AppError("invalid_part_number", `This upload has ${count} part(s); part ${n} does not exist.`);
  const expected = n < count ? row.partSize! : row.size - row.partSize! * (count - 1);
  const mismatch = (got: number) =>
    got > expected
      ? new AppError("part_too_large", `Part ${n} must be exactly ${expected} bytes; got ${got}.`)
      : new AppError("part_size_mismatch", `Part ${n} must be exactly ${expected} bytes; got ${got}.`);
  // Refuse by the declared length before reading anything.
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) !== expected) throw mismatch(Number(declared));
  const bytes = new Uint8Array(await req.arrayBuffer());
  if (bytes.length !== expected) throw mismatch(bytes.length);
  const contentType =
    n === 1
      ? contentTypeOf(row.purpose as Purpose, row.name, bytes.subarray(0, SNIFF_BYTES), row.contentType || undefined)
      : undefined;
  const mpu = s.env.FILES.resumeMultipartUpload(row.r2Key, row.uploadId!);
  const part = await r2Call(() => mpu.uploadPart(n, bytes));
  await recordPart(s.db, row.id, { number: n, etag: part.etag, size: bytes.length }, contentType);
  return { partNumber: n, size: bytes.length };
}

/** Completes the upload once every part is in; the file becomes ready and `file.uploaded` is written. */
export async function completeUpload(s: FilesScope, ownerId: string, uploadId: string): Promise<FileRow> {
  const row = await ownedUpload(s, ownerId, uploadId);
  const parts = await partsOf(s.db, row.id);
  const have = new Set(parts.map((p) => p.partNumber));
  const missing = Array.from({ length: partCountOf(row) }, (_, i) => i + 1).filter((n) => !have.has(n));
  if (missing.length > 0)
    throw new AppError(
      "upload_incomplete",
      `Parts still missing: ${missing.slice(0, 20).join(", ")}${missing.length > 20 ? ", …" : ""}.`,
    );
  // Part 1 is recorded only after its type was sniffed and accepted, so contentType is final here.
  const mpu = s.env.FILES.resumeMultipartUpload(row.r2Key, row.uploadId!);
  const obj = await r2Call(() => mpu.complete(parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag }))));
  const ready: FileRow = { ...row, status: "ready", size: obj.size, uploadId: null };
  if (!(await markUploadReady(s.db, row.id, obj.size, uploadedEvent(s, ready)))) throw uploadNotFound();
  return ready;
}

/** Aborts an upload: R2 drops the parts (an upload R2 already forgot is fine), the row is closed. */
export async function abortUpload(s: FilesScope, ownerId: string, uploadId: string): Promise<void> {
  const row = await ownedUpload(s, ownerId, uploadId);
  try {
    await s.env.FILES.resumeMultipartUpload(row.r2Key, row.uploadId!).abort();
  } catch (err) {
    if (!isNoSuchUpload(err)) throw err;
  }
  if (!(await markUploadAborted(s.db, row.id))) throw uploadNotFound();
}
