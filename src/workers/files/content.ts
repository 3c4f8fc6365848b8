import { createRoute, z } from "@hono/zod-openapi";
import { findFile } from "../../db/tenant/files";
import { AppError } from "../../lib/errors";
import { verifyDownload } from "../file-links/file-urls";
import { createRouter, problemResponses } from "../gateway/http";
import { cleanName } from "./names";
import { isInline } from "./policy";
import { FileParamsSchema } from "./schemas";
import { filesScope } from "./service";

/**
 * `GET /v1/files/{id}/content?exp&sig`: the bytes, for whoever holds a signed URL. No
 * Authorization header, so `<img src>` and plain links work; the signature is the capability.
 */
export const contentRoutes = createRouter();

/** A single `bytes=` range within the file, or null (unparsable or unsatisfiable: send it all). */
export function parseRange(header: string | undefined, size: number): { offset: number; length: number } | null {
  const m = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!m || (m[1] === "" && m[2] === "") || size === 0) return null;
  if (m[1] === "") {
    const suffix = Math.min(Number(m[2]), size);
    return suffix > 0 ? { offset: size - suffix, length: suffix } : null;
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  return start < size && end >= start ? { offset: start, length: end - start + 1 } : null;
}

/**
 * `Content-Disposition` with an ASCII fallback name and the exact UTF-8 name (RFC 6266/8187).
 * The stored name is cleaned again (idempotent), so rows stored before a cleaning rule existed
 * reach the browser's "save as" without bidirectional controls or trailing dots either.
 */
function disposition(contentType: string, stored: string): string {
  const name = cleanName(stored);
  const fallback = name.replace(/[^\x20-\x7e]|["\\]/g, "_");
  const exact = encodeURIComponent(name).replace(/['()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${isInline(contentType) ? "inline" : "attachment"}; filename="${fallback}"; filename*=UTF-8''${exact}`;
}

contentRoutes.openapi(
  createRoute({
    method: "get",
    path: "/files/{id}/content",
    operationId: "downloadFile",
    security: [],
    tags: ["Files"],
    summary: "Download a file through its signed URL (no Authorization header)",
    request: {
      params: FileParamsSchema,
      // Checked by the handler, so a missing or mangled signature is a 403 like a forged one.
      query: z.object({ exp: z.string().max(32).optional(), sig: z.string().max(128).optional() }),
    },
    responses: {
      200: {
        description: "The file's bytes",
        content: { "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) } },
      },
      206: { description: "The requested byte range" },
      ...problemResponses("invalid_signature", "url_expired", "file_not_found"),
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const { exp, sig } = c.req.valid("query");
    const s = filesScope(c);
    // The signature is checked before the database is touched: forged URLs cost one HMAC.
    const verdict = await verifyDownload(c.env.DB_ENCRYPTION_KEY, s.tenant.id, id, exp, sig);
    if (verdict === "invalid")
      throw new AppError("invalid_signature", "The download URL's signature is not valid for this file.");
    if (verdict === "expired")
      throw new AppError("url_expired", "The download URL has expired; fetch the file again for a fresh one.");
    const row = await findFile(s.db, id);
    if (!row || row.status !== "ready") throw new AppError("file_not_found", "No such file.");
    const range = parseRange(c.req.header("range"), row.size);
    const obj = await c.env.FILES.get(row.r2Key, range ? { range } : {});
    if (!obj) throw new AppError("file_not_found", "No such file.");
    const maxAge = Math.max(0, Number(exp) - Math.floor(Date.now() / 1000));
    const headers = new Headers({
      // Text was sniffed as valid UTF-8; saying so stops browsers from guessing a charset.
      "content-type": row.contentType === "text/plain" ? "text/plain; charset=utf-8" : row.contentType,
      "content-disposition": disposition(row.contentType, row.name),
      "x-content-type-options": "nosniff",
      // Even if a browser renders the file, it gets no script, no plugins and no same-origin access.
      "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
      // Bytes behind an id never change, and the URL is valid until exp: cache until then, privately.
      "cache-control": `private, max-age=${maxAge}, immutable`,
      "accept-ranges": "bytes",
      etag: obj.httpEtag,
      "content-length": String(range ? range.length : row.size),
    });
    if (range) headers.set("content-range", `bytes ${range.offset}-${range.offset + range.length - 1}/${row.size}`);
    return new Response(obj.body, { status: range ? 206 : 200, headers });
  },
);
