import { makeZip, predictLength } from "client-zip";
import { EXPORT_KINDS, exportPage, type ExportKind } from "../../db/tenant/export-data";
import { findExport, finishExport } from "../../db/tenant/exports";
import { profileOf, settingsOf } from "../../db/tenant/profiles";
import { findUserById, ownAccount, rolesOfUser } from "../../db/tenant/users";
import { hubStub } from "../../durable/protocol/stubs";
import { exportPrefix } from "../erasure/files";
import type { TenantScope } from "../gateway/context";
import { EXPORT_README } from "./export-readme";

const DAY_MS = 86_400_000;
/** How long an archive stays downloadable (its signed URLs expire with it). */
export const EXPORT_TTL_MS = 7 * DAY_MS;
/** Rows per page read from the tenant DB; bytes per part object written to R2. */
const PAGE = 1000;
const PART_CHARS = 1 << 20;
const encoder = new TextEncoder();

/** A file of the archive, stored as part objects in R2 until the ZIP is made. */
interface Staged {
  name: string;
  keys: string[];
  size: number;
}

/** Writes one JSON array to R2 in parts of about 1 MiB: memory holds one part, never the whole file. */
class JsonArrayParts {
  private buf: string[] = ["[\n"];
  private chars = 2;
  private first = true;
  readonly staged: Staged;

  constructor(
    private readonly bucket: R2Bucket,
    private readonly prefix: string,
    name: string,
  ) {
    this.staged = { name, keys: [], size: 0 };
  }

  async add(item: unknown): Promise<void> {
    const s = `${this.first ? "" : ",\n"}${JSON.stringify(item)}`;
    this.first = false;
    this.buf.push(s);
    this.chars += s.length;
    if (this.chars >= PART_CHARS) await this.flush();
  }

  async close(): Promise<Staged> {
    this.buf.push("\n]\n");
    await this.flush();
    return this.staged;
  }

  private async flush(): Promise<void> {
    const body = encoder.encode(this.buf.join(""));
    const key = `${this.prefix}/${this.staged.name}.${this.staged.keys.length}`;
    await this.bucket.put(key, body);
    this.staged.keys.push(key);
    this.staged.size += body.byteLength;
    this.buf = [];
    this.chars = 0;
  }
}

/**
 * Builds a pending export (docs/privacy.md, "Export"): every kind of record is read a page at a
 * time and written to R2 in parts, then one ZIP is streamed from the parts and the user's files
 * into R2 (its exact length is known beforehand: the entries are stored, not compressed). Memory
 * holds a page and a part at most, so 100,000 messages export like 100. A failure throws: the
 * queue retries the whole build (parts are overwritten), and the sweep fails an export that
 * stays pending.
 */
export async function buildExport(s: TenantScope, exportId: string, now = Date.now()): Promise<void> {
  const { env, tenant, db } = s;
  const row = await findExport(db, exportId);
  if (!row || row.status !== "pending") return;
  const user = await findUserById(db, row.userId);
  if (!user || user.status === "deleted") {
    await finishExport(db, exportId, { status: "failed", error: "The account was deleted." }, now);
    return;
  }
  const prefix = exportPrefix(tenant.id, exportId);
  const hub = hubStub(env, tenant.id, user.id);
  const staged: Staged[] = [];
  const json = async (name: string, items: AsyncIterable<unknown> | Iterable<unknown>) => {
    const w = new JsonArrayParts(env.FILES, prefix, name);
    for await (const item of items) await w.add(item);
    staged.push(await w.close());
  };

  const [roles, profile, settings, sessions, groups] = await Promise.all([
    rolesOfUser(db, user.id),
    profileOf(db, user.id),
    settingsOf(db, user.id),
    hub.listSessions(),
    hub.friendGroups(),
  ]);
  await json("account.json", [ownAccount(user, roles)]);
  await json("profile.json", profile ? [profile] : []);
  await json("settings.json", [settings]);
  await json("sessions.json", sessions);
  await json("friend-groups.json", groups);
  await json(
    "friends.json",
    pagesOf(
      (after) => hub.friends(PAGE, after),
      (f) => f.userId,
    ),
  );
  await json(
    "blocks.json",
    pagesOf(
      (after) => hub.blockList(PAGE, after),
      (b) => b.userId,
    ),
  );
  const files: StoredFile[] = [];
  try {
    for (const kind of EXPORT_KINDS)
      await json(`${kind}.json`, rowsOf(s, kind, user.id, kind === "files" ? (r) => files.push(fileOf(r)) : undefined));
    await zipInto(s, exportId, `${prefix}.zip`, staged, await present(env.FILES, files), now);
  } finally {
    // The parts go whatever happened (a retry writes them again); the archive stays only if recorded.
    await env.FILES.delete(staged.flatMap((f) => f.keys));
  }
}

/** A file of the user's as the archive takes it. */
interface StoredFile {
  id: string;
  name: string;
  size: number;
  r2Key: string;
}

/** The files whose object is there, with its real size (a missing object is left out, not fatal). */
async function present(bucket: R2Bucket, files: StoredFile[]): Promise<StoredFile[]> {
  const out: StoredFile[] = [];
  for (const f of files) {
    const head = await bucket.head(f.r2Key);
    if (head) out.push({ ...f, size: head.size });
  }
  return out;
}

/** Streams the ZIP into R2 and records it ready. */
async function zipInto(
  { env, db }: TenantScope,
  exportId: string,
  key: string,
  staged: Staged[],
  files: StoredFile[],
  now: number,
): Promise<void> {
  const entries = [
    { name: "README.md", size: encoder.encode(EXPORT_README).byteLength, input: () => [encoder.encode(EXPORT_README)] },
    ...staged.map((f) => ({ name: f.name, size: f.size, input: () => objects(env.FILES, f.keys) })),
    ...files.map((f) => ({
      name: `files/${f.id}/${f.name.replace(/[/\\]/g, "_") || "file"}`,
      size: f.size,
      input: () => objects(env.FILES, [f.r2Key]),
    })),
  ];
  const length = Number(predictLength(entries.map(({ name, size }) => ({ name, size }))));
  const { readable, writable } = new FixedLengthStream(length);
  const lastModified = new Date(now);
  const zip = makeZip(
    entries.map((e) => ({ name: e.name, size: e.size, lastModified, input: toAsync(e.input) })),
    { buffersAreUTF8: true },
  );
  await Promise.all([env.FILES.put(key, readable), zip.pipeTo(writable)]);
  const archive = { status: "ready" as const, r2Key: key, size: length, expiresAt: now + EXPORT_TTL_MS };
  // Not recorded (the account was erased meanwhile, or the export failed as stale): nothing may keep it.
  if (!(await finishExport(db, exportId, archive, now))) await env.FILES.delete(key);
}

/** R2 objects' bytes, one after the other, read as they are consumed. */
async function* objects(bucket: R2Bucket, keys: string[]): AsyncGenerator<Uint8Array> {
  for (const key of keys) {
    const obj = await bucket.get(key);
    if (!obj) throw new Error(`export part missing: ${key}`);
    for await (const chunk of obj.body) yield chunk as Uint8Array;
  }
}

/** An entry's input, opened only when the ZIP reaches it. */
function toAsync(open: () => Iterable<Uint8Array> | AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  return {
    async *[Symbol.asyncIterator]() {
      yield* open();
    },
  };
}

/** Every item of a paged list, page after page (`key`: the cursor an item gives the next page). */
async function* pagesOf<T>(page: (after?: string) => Promise<T[]>, key: (item: T) => string): AsyncGenerator<T> {
  let after: string | undefined;
  for (;;) {
    const items = await page(after);
    yield* items;
    if (items.length < PAGE) return;
    after = key(items[items.length - 1]!);
  }
}

/** A kind's rows, a page at a time. */
async function* rowsOf(
  { db }: TenantScope,
  kind: ExportKind,
  userId: string,
  seen?: (row: Record<string, unknown>) => void,
): AsyncGenerator<Record<string, unknown>> {
  let after = 0;
  for (;;) {
    const { rows, last } = await exportPage(db, kind, userId, after, PAGE);
    for (const r of rows) seen?.(r);
    yield* rows;
    if (rows.length < PAGE) return;
    after = last;
  }
}

/** The file's facts for the archive; its R2 key is taken out of the row the archive shows. */
function fileOf(r: Record<string, unknown>): StoredFile {
  const f = { id: String(r.id), name: String(r.name), size: Number(r.size), r2Key: String(r.r2Key) };
  delete r.r2Key;
  return f;
}
