import { openSecret, sealSecret } from "../../../lib/crypto";
import { SEALED_COLUMNS } from "../../../lib/seal-contexts";
import { r2KeyOf } from "../../file-links/keys";

type Row = (null | string | number | bigint | Uint8Array)[];

/**
 * What a restored row must change to belong to its new tenant: every sealed value is opened
 * under the old tenant's context and sealed again under the new one's (lib/seal-contexts.ts), and
 * a file's storage key moves under the new tenant's prefix (its bytes are copied there).
 */
export function rowRewriter(
  env: Env,
  table: string,
  columns: string[],
  fromTenant: string,
  toTenant: string,
): (row: Row) => Promise<Row> {
  const sealed = SEALED_COLUMNS.filter((s) => s.table === table)
    .map((s) => ({ ...s, at: columns.indexOf(s.column) }))
    .filter((s) => s.at >= 0);
  const keyAt = table === "files" ? columns.indexOf("r2_key") : -1;
  const idAt = columns.indexOf("id");
  if (sealed.length === 0 && keyAt < 0) return async (row) => row;
  return async (row) => {
    const out = [...row];
    const record = Object.fromEntries(columns.map((c, i) => [c, row[i]]));
    for (const s of sealed) {
      const value = row[s.at];
      if (typeof value !== "string") continue;
      const plain = await openSecret(env.DB_ENCRYPTION_KEY, value, s.context(fromTenant, record));
      out[s.at] = await sealSecret(env.DB_ENCRYPTION_KEY, plain, s.context(toTenant, record));
    }
    if (keyAt >= 0) out[keyAt] = r2KeyOf(toTenant, String(row[idAt]));
    return out;
  };
}
