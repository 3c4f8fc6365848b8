import { z } from "zod";
import { base64url, fromBase64url } from "../../../lib/ids";
import { AppError } from "../../../lib/errors";

/**
 * The backup archive's format (docs/operations.md, "Backup and restore"): JSON Lines parts in R2,
 * each named with its SHA-256, byte size and row count in a manifest that is written last. A
 * reader checks every part against the manifest before it uses a byte of it.
 */
export const MANIFEST_VERSION = 1;

/** The R2 prefix of one backup. */
export const backupPrefix = (tenantId: string, backupId: string) => `backups/${tenantId}/${backupId}`;

/**
 * SQLite values as JSON: numbers and strings as they are; an integer past 2^53 as
 * `{"$int": "…"}` and a blob as `{"$blob": "<base64url>"}`, so no value changes on the way.
 */
export type Cell = null | string | number | { $int: string } | { $blob: string };
export type SqlValue = null | string | number | bigint | ArrayBuffer | Uint8Array;

export function encodeCell(v: SqlValue): Cell {
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : { $int: v.toString() };
  if (v instanceof ArrayBuffer) return { $blob: base64url(new Uint8Array(v)) };
  if (v instanceof Uint8Array) return { $blob: base64url(v) };
  return v;
}

export function decodeCell(c: Cell): null | string | number | bigint | Uint8Array<ArrayBuffer> {
  if (c === null || typeof c !== "object") return c;
  return "$int" in c ? BigInt(c.$int) : fromBase64url(c.$blob);
}

const PartSchema = z.object({
  key: z.string().min(1),
  rows: z.number().int().min(0),
  bytes: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type Part = z.infer<typeof PartSchema>;

const CountedParts = z.object({ rows: z.number().int().min(0), parts: z.array(PartSchema) });

export const ManifestSchema = z.object({
  format: z.literal("canopy-backup"),
  version: z.number().int(),
  id: z.string(),
  tenant: z.object({ id: z.string(), slug: z.string(), name: z.string(), plan: z.string(), config: z.unknown() }),
  schemaVersion: z.number().int().min(1),
  startedAt: z.string(),
  finishedAt: z.string(),
  tables: z.array(CountedParts.extend({ name: z.string(), columns: z.array(z.string()) })),
  objects: z.object({
    hubs: CountedParts.extend({ objects: z.number().int() }),
    conversations: CountedParts.extend({ objects: z.number().int() }),
  }),
  files: z.object({ count: z.number().int().min(0), bytes: z.number().int().min(0), parts: z.array(PartSchema) }),
});
export type Manifest = z.infer<typeof ManifestSchema>;

const encoder = new TextEncoder();
const hex = (buf: ArrayBuffer) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");

/** Bytes past which a part is closed and the next begun. */
export const PART_BYTES = 4 * 1024 * 1024;

/** Writes lines into numbered parts (`<prefix>/<name>.<n>.jsonl`) of bounded size. */
export class PartWriter {
  private lines: string[] = [];
  private size = 0;
  private rows = 0;
  private begun = 0;
  private readonly written: Part[] = [];

  constructor(
    private readonly bucket: R2Bucket,
    private readonly prefix: string,
    private readonly name: string,
    private readonly maxBytes = PART_BYTES,
  ) {}

  /** Adds one line that carries `rows` rows; closes the part when it is full. */
  async add(value: unknown, rows: number): Promise<void> {
    const line = JSON.stringify(value);
    this.lines.push(line);
    this.size += line.length + 1;
    this.rows += rows;
    if (this.size >= this.maxBytes) await this.flush();
  }

  /** Writes what is buffered as the next part (parts are numbered when begun, so lines keep their order). */
  async flush(): Promise<void> {
    if (this.lines.length === 0) return;
    const n = this.begun++;
    const bytes = encoder.encode(`${this.lines.join("\n")}\n`);
    const rows = this.rows;
    this.lines = [];
    this.size = 0;
    this.rows = 0;
    const key = `${this.prefix}/${this.name}.${n}.jsonl`;
    const sha256 = hex(await crypto.subtle.digest("SHA-256", bytes));
    await this.bucket.put(key, bytes, { sha256, httpMetadata: { contentType: "application/jsonl" } });
    this.written[n] = { key, rows, bytes: bytes.byteLength, sha256 };
  }

  /** The parts written, in order, once everything is flushed. */
  async finish(): Promise<Part[]> {
    await this.flush();
    return this.written;
  }
}

/** A part's lines, after its size and SHA-256 match the manifest's (422 backup_corrupt otherwise). */
export async function readPart(bucket: R2Bucket, part: Part): Promise<unknown[]> {
  const obj = await bucket.get(part.key);
  if (!obj) throw new AppError("backup_corrupt", `The backup's part ${part.key} is missing.`);
  const bytes = await obj.arrayBuffer();
  if (bytes.byteLength !== part.bytes || hex(await crypto.subtle.digest("SHA-256", bytes)) !== part.sha256)
    throw new AppError("backup_corrupt", `The backup's part ${part.key} does not match its checksum.`);
  const text = new TextDecoder().decode(bytes);
  return text
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as unknown);
}

/** The manifest of a backup, parsed and of a version this code reads. */
export async function readManifest(bucket: R2Bucket, prefix: string): Promise<Manifest> {
  const obj = await bucket.get(`${prefix}/manifest.json`);
  if (!obj) throw new AppError("backup_corrupt", "The backup has no manifest.");
  const parsed = ManifestSchema.safeParse(await obj.json().catch(() => null));
  if (!parsed.success) throw new AppError("backup_corrupt", "The backup's manifest is not valid.");
  if (parsed.data.version !== MANIFEST_VERSION)
    throw new AppError(
      "backup_corrupt",
      `The backup's format version ${parsed.data.version} is not one this version reads.`,
    );
  return parsed.data;
}

/** Streams one object from a bucket into another (its size known up front, as R2 requires); null when it is missing (or not of `size`). */
export async function copyObject(
  from: R2Bucket,
  fromKey: string,
  to: R2Bucket,
  toKey: string,
  size?: number,
): Promise<number | null> {
  const obj = await from.get(fromKey);
  if (!obj || (size !== undefined && obj.size !== size)) return null;
  const { readable, writable } = new FixedLengthStream(obj.size);
  await Promise.all([to.put(toKey, readable), obj.body.pipeTo(writable)]);
  return obj.size;
}
