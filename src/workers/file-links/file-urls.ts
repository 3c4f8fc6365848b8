import { z } from "@hono/zod-openapi";
import type { FileRow } from "../../db/tenant/files";
import { constantTimeEqual } from "../../lib/crypto";
import { base64url, fromBase64url } from "../../lib/ids";
import { SettledCache } from "../../lib/settled-cache";

/**
 * How files are shown and downloaded, shared by the files service (its own routes) and the
 * realtime service (attachments of conversations, GET /v1/conversations/{id}/files/{fileId}),
 * which may not import each other's folders.
 *
 * Signed download URLs: `/v1/files/<id>/content?exp=<unix seconds>&sig=<base64url HMAC>`.
 * The HMAC-SHA256 covers the tenant id, the file id and the expiry, under a key derived with
 * HKDF from DB_ENCRYPTION_KEY and a purpose label, so no new secret is needed and the key is
 * useless for anything else (and the encryption key is never used directly for MACs).
 */
const LABEL = "canopy/files/download-url/v1";
const encoder = new TextEncoder();

/** How long a download URL stays valid, at least (seconds). */
export const URL_TTL_SECONDS = 3600;
/**
 * Expiries are rounded up to this step, so one file gets the same URL for a while and browsers
 * and CDNs can cache it (a URL is valid between TTL and TTL + step).
 */
export const URL_STEP_SECONDS = 900;

// Derived once per isolate per secret: derivation costs more than the HMAC itself.
const keys = new SettledCache<CryptoKey>(16);

function urlKey(secret: string): Promise<CryptoKey> {
  return keys.get(
    secret,
    () => true,
    async () => {
      const ikm = await crypto.subtle.importKey("raw", fromBase64url(secret), "HKDF", false, ["deriveKey"]);
      return crypto.subtle.deriveKey(
        { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: encoder.encode(LABEL) },
        ikm,
        { name: "HMAC", hash: "SHA-256", length: 256 },
        false,
        ["sign"],
      );
    },
  );
}

/** The signature over one (tenant, file, expiry); ids never contain '\n', so fields cannot run together. */
export async function signDownload(secret: string, tenantId: string, fileId: string, exp: number): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", await urlKey(secret), encoder.encode(`${tenantId}\n${fileId}\n${exp}`));
  return base64url(new Uint8Array(mac));
}

/** The expiry (unix seconds) of a URL issued at `now` (ms): now + TTL, rounded up to the step. */
export function expiryFor(now: number): number {
  return Math.ceil((Math.floor(now / 1000) + URL_TTL_SECONDS) / URL_STEP_SECONDS) * URL_STEP_SECONDS;
}

/**
 * Checks a URL's `exp` and `sig` for this tenant and file: "invalid" for anything not signed by
 * us for exactly this tenant and file (compared in constant time), "expired" for a genuine URL
 * past its expiry. `now` is injectable for tests.
 */
export async function verifyDownload(
  secret: string,
  tenantId: string,
  fileId: string,
  exp: string | undefined,
  sig: string | undefined,
  now = Date.now(),
): Promise<"ok" | "invalid" | "expired"> {
  if (!exp || !sig || !/^\d{1,12}$/.test(exp) || !/^[A-Za-z0-9_-]{43}$/.test(sig)) return "invalid";
  const expected = await signDownload(secret, tenantId, fileId, Number(exp));
  if (!(await constantTimeEqual(expected, sig))) return "invalid";
  return Number(exp) * 1000 <= now ? "expired" : "ok";
}

/**
 * The origin download URLs use: the tenant's own host (`<slug>.<BASE_DOMAIN>`, same scheme and
 * port as the request), so the URL works in an `<img src>` that cannot send an X-Tenant header.
 */
export function tenantOrigin(requestUrl: string, slug: string, baseDomain: string): string {
  const u = new URL(requestUrl);
  if (!baseDomain) return u.origin;
  return `${u.protocol}//${slug}.${baseDomain}${u.port ? `:${u.port}` : ""}`;
}

/** A signed download URL and its expiry, for one file. */
export async function downloadUrl(
  secret: string,
  origin: string,
  tenantId: string,
  fileId: string,
  now = Date.now(),
): Promise<{ url: string; expiresAt: number }> {
  const exp = expiryFor(now);
  const sig = await signDownload(secret, tenantId, fileId, exp);
  return { url: `${origin}/v1/files/${fileId}/content?exp=${exp}&sig=${sig}`, expiresAt: exp * 1000 };
}

/** A file as the API shows it, with a fresh signed download URL. */
export const FileSchema = z
  .object({
    id: z.string(),
    ownerId: z.string(),
    purpose: z.string(),
    name: z.string(),
    contentType: z.string().openapi({ description: "Sniffed from the bytes, not taken from the client" }),
    size: z.number().int(),
    sha256: z
      .string()
      .nullable()
      .openapi({ description: "Hex SHA-256 of the bytes (single uploads; null for multipart)" }),
    createdAt: z.string(),
    url: z.string().openapi({ description: "Signed download URL; no Authorization header needed" }),
    urlExpiresAt: z.string(),
  })
  .openapi("File");

/** A file row as the API shows it (FileSchema), with a freshly signed download URL. */
export async function fileView(
  secret: string,
  origin: string,
  tenantId: string,
  row: FileRow,
  now = Date.now(),
): Promise<z.infer<typeof FileSchema>> {
  const { url, expiresAt } = await downloadUrl(secret, origin, tenantId, row.id, now);
  return {
    id: row.id,
    ownerId: row.ownerId,
    purpose: row.purpose,
    name: row.name,
    contentType: row.contentType,
    size: row.size,
    sha256: row.sha256,
    createdAt: new Date(row.createdAt).toISOString(),
    url,
    urlExpiresAt: new Date(expiresAt).toISOString(),
  };
}
