import type { FileRow } from "../../db/tenant/files";
import { AppError } from "../../lib/errors";
import { nameContradicts, sniff } from "../../lib/sniff";
import type { TenantConfig } from "../../lib/tenant-config";

/** What a file is for; decides the allowed types, the size cap and who may see it. */
export const PURPOSES = ["avatar", "attachment"] as const;
export type Purpose = (typeof PURPOSES)[number];

const MiB = 1024 * 1024;
const IMAGES = ["image/png", "image/jpeg", "image/gif", "image/webp"] as const;

interface PurposePolicy {
  /** Sniffed types accepted. SVG, HTML, XML and executables are on no list: browsers run them. */
  types: readonly string[];
  /** Cap below the tenant's `limits.maxUploadBytes`, if any. */
  maxBytes?: number;
  /** "tenant": every signed-in user of the tenant may read it (profiles show avatars); "owner": only its owner. */
  visibility: "tenant" | "owner";
}

/** The per-purpose rules; adding a purpose is one entry here (and a line in docs/files.md). */
export const POLICIES: Record<Purpose, PurposePolicy> = {
  avatar: { types: IMAGES, maxBytes: 2 * MiB, visibility: "tenant" },
  attachment: {
    types: [
      ...IMAGES,
      "application/pdf",
      "application/zip",
      "text/plain",
      // Only ever sniffed for UTF-8 text with active markup past its start (src/lib/sniff.ts):
      // accepted like text, but served as opaque bytes.
      "application/octet-stream",
      "audio/mpeg",
      "audio/mp4",
      "audio/aac",
      "audio/ogg",
      "audio/wav",
      "audio/flac",
      "video/mp4",
      "video/webm",
      "video/quicktime",
    ],
    visibility: "owner",
  },
};

/**
 * The largest file accepted for a purpose in this tenant: the purpose's cap, under the tenant's
 * `limits.maxUploadBytes` or the uploader's VIP benefit if that is larger (`memberMax`).
 */
export function maxBytesFor(purpose: Purpose, config: TenantConfig, memberMax: number | null = null): number {
  return Math.min(POLICIES[purpose].maxBytes ?? Infinity, Math.max(config.limits.maxUploadBytes, memberMax ?? 0));
}

/** 413 `file_too_large` unless 0 < size ≤ the purpose's cap (empty files are a 400). */
export function checkSize(purpose: Purpose, size: number, config: TenantConfig, memberMax: number | null = null): void {
  if (size <= 0) throw new AppError("empty_file", "The file is empty.");
  const max = maxBytesFor(purpose, config, memberMax);
  if (size > max)
    throw new AppError("file_too_large", `A ${purpose} may be at most ${max} bytes; this file has ${size}.`);
}

/** 415 `unsupported_file_type` unless a declared type is one the purpose accepts. */
export function checkDeclaredType(purpose: Purpose, declared: string): void {
  if (!POLICIES[purpose].types.includes(declared)) {
    throw new AppError(
      "unsupported_file_type",
      `A ${purpose} cannot be ${declared}; accepted: ${POLICIES[purpose].types.join(", ")}.`,
    );
  }
}

/**
 * The content type of a file from its first bytes, checked against the purpose (415
 * `unsupported_file_type` for unknown bytes, a type the purpose does not accept, a name whose
 * extension claims another type, or a declared type the bytes contradict).
 */
export function contentTypeOf(purpose: Purpose, name: string, head: Uint8Array, declared?: string): string {
  const found = sniff(head);
  if (!found) throw new AppError("unsupported_file_type", "The file's type could not be recognised from its content.");
  checkDeclaredType(purpose, found.mime);
  if (nameContradicts(name, found)) {
    throw new AppError(
      "unsupported_file_type",
      `The content is ${found.mime}, which does not match the name '${name}'.`,
    );
  }
  if (declared !== undefined && declared !== found.mime && declared !== found.declaredAs) {
    throw new AppError("unsupported_file_type", `The content is ${found.mime}, not the declared ${declared}.`);
  }
  return found.mime;
}

/** Whether a user may read a file's metadata and get a download URL. Deleted files are nobody's. */
export function canView(file: FileRow, userId: string): boolean {
  if (file.status !== "ready") return false;
  if (file.ownerId === userId) return true;
  const policy = (POLICIES as Record<string, PurposePolicy | undefined>)[file.purpose];
  return policy?.visibility === "tenant";
}

/** Types that are shown inline when opened; everything else downloads (Content-Disposition). */
export function isInline(contentType: string): boolean {
  return (IMAGES as readonly string[]).includes(contentType);
}
