import { refuse } from "../protocol/result";
import { tenantDb } from "../../db/tenant-db";
import { findFile } from "../../db/tenant/files";
import { loadTenantDb } from "./policy";
import type { ConvResult } from "./types";

/** A file message's body as stored and delivered: what the sender gave, plus the file's facts. */
export interface FileBody {
  fileId: string;
  caption?: string;
  /** Copied from the file row when the message is stored, so clients render without another call. */
  name: string;
  contentType: string;
  size: number;
}

/** A file message's body as a client sends it. */
export interface FileInput {
  fileId: string;
  caption?: string | undefined;
}

/**
 * Checks the file a message references in the tenant DB and answers the body to store: the file
 * must exist and not be deleted (`file_not_found`), be the sender's own upload (`not_file_owner`:
 * a member may only share what they uploaded; file ids are unguessable, so this reveals no more
 * than the sender already holds), and be completely uploaded (`file_not_ready`).
 */
export async function checkFile(
  env: Env,
  tenantId: string,
  senderId: string,
  body: FileInput,
): Promise<ConvResult<FileBody>> {
  const loc = await loadTenantDb(env, tenantId);
  const row = loc ? await findFile(tenantDb(loc), body.fileId) : undefined;
  if (!row || row.status === "deleted")
    return refuse("file_not_found", "No such file: upload it with POST /v1/files first.");
  if (row.ownerId !== senderId) return refuse("not_file_owner", "Only your own uploads can be sent.");
  if (row.status !== "ready") return refuse("file_not_ready", "The file's upload is not complete yet.");
  const stored: FileBody = { fileId: row.id, name: row.name, contentType: row.contentType, size: row.size };
  if (body.caption !== undefined) stored.caption = body.caption;
  return { ok: true, value: stored };
}

/** The part of a file message's body a client may change by editing: the caption only. */
export function editedFileBody(original: FileBody, edit: FileInput): ConvResult<FileBody> {
  if (edit.fileId !== original.fileId) {
    return refuse("validation_failed", "body.fileId: a file message keeps its file; only the caption can be edited.");
  }
  const { caption: _old, ...facts } = original;
  return { ok: true, value: edit.caption === undefined ? facts : { ...facts, caption: edit.caption } };
}
