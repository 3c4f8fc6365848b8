import type { Context, MiddlewareHandler, Next } from "hono";
import { AppError } from "../../../lib/errors";
import { jsonTextProblem } from "../../../lib/json-guard";
import type { TenantConfig } from "../../../lib/tenant-config";
import type { AppEnv } from "../context";

// The routes whose body is file bytes: `POST /v1/files` (multipart form) and the parts of a
// multipart upload. They get the tenant's upload limit instead of the JSON body limit; the files
// service then checks each file's exact size against its purpose.
const UPLOAD_ROUTE = /^\/v1\/files(\/uploads\/[^/]+\/parts\/[^/]+)?\/?$/;
// Room for the multipart/form-data framing around the file: boundaries, part headers, purpose.
const UPLOAD_FRAMING_BYTES = 16 * 1024;
/** A body whose next bytes do not arrive within this long is abandoned (slow-trickle clients). */
export const BODY_IDLE_TIMEOUT_MS = 10_000;
/** A JSON body must arrive whole within this long, however steadily it trickles. */
export const JSON_BODY_TIMEOUT_MS = 30_000;

const JSON_MEDIA = /^application\/([\w.-]+\+)?json$/i;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

function isUpload(method: string, path: string): boolean {
  return (method === "POST" || method === "PUT") && UPLOAD_ROUTE.test(path);
}

const tooLarge = (maxSize: number) =>
  new AppError("body_too_large", `The request body exceeds the limit of ${maxSize} bytes.`);
const timedOut = () => new AppError("body_timeout", "The request body arrived too slowly; send it whole and promptly.");

/**
 * The largest upload body any caller of the tenant may send, before it is known who calls: the
 * tenant's `maxUploadBytes`, or a VIP level's larger benefit (the files service then holds each
 * uploader to their own).
 */
function uploadLimit(config: TenantConfig): number {
  return Math.max(config.limits.maxUploadBytes, ...config.vip.levels.map((l) => l.benefits.maxUploadBytes ?? 0));
}

/**
 * Reads a body stream into memory, never past `maxSize` (the read stops and is cancelled at the
 * first byte beyond it) and never waiting more than the idle timeout for the next chunk or the
 * total timeout for all of it.
 */
export async function readBounded(
  body: ReadableStream<Uint8Array>,
  maxSize: number,
  expected: number,
  timeouts: { idleMs: number; totalMs: number | null },
): Promise<Uint8Array> {
  const reader = body.getReader();
  let buffer = new Uint8Array(Math.min(maxSize, Math.max(expected, 0)));
  let size = 0;
  const deadline = timeouts.totalMs === null ? Infinity : Date.now() + timeouts.totalMs;
  try {
    for (;;) {
      const wait = Math.min(timeouts.idleMs, deadline - Date.now());
      if (wait <= 0) throw timedOut();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const chunk = await Promise.race([
        reader.read(),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(timedOut()), wait))),
      ]).finally(() => clearTimeout(timer));
      if (chunk.done) break;
      const value = chunk.value;
      if (size + value.length > maxSize) throw tooLarge(maxSize);
      if (size + value.length > buffer.length) {
        const grown = new Uint8Array(Math.min(maxSize, Math.max(size + value.length, buffer.length * 2)));
        grown.set(buffer.subarray(0, size));
        buffer = grown;
      }
      buffer.set(value, size);
      size += value.length;
    }
  } catch (err) {
    // Stop the upload: nothing more of it is read or kept.
    reader.cancel().catch(() => undefined);
    throw err;
  }
  return buffer.subarray(0, size);
}

/**
 * Canopy's one reader of request bodies, before any route sees them:
 * - the size limit (`maxUploadBytes` on upload routes, else `maxBodyBytes`; MAX_BODY_BYTES before
 *   a tenant is known) on Content-Length and on the streamed bytes, 413 problem+json;
 * - slow bodies time out (408 `body_timeout`);
 * - JSON bodies must be strict UTF-8 and pass the JSON guard (depth, NUL, lone surrogates):
 *   400 `invalid_body`. The checked text is handed to the route's validator, so a route never
 *   parses a body this did not check.
 * Upload bodies with a Content-Length stream through to the files service unbuffered (the
 * runtime ends the stream at the declared length); other bodies are read here.
 */
export async function limitBody(c: Context<AppEnv>, next: Next): Promise<void> {
  const raw = c.req.raw;
  if (c.req.method === "GET" || c.req.method === "HEAD" || !raw.body) return next();
  const config = c.get("tenant")?.config;
  const limits = config?.limits;
  const maxSize = limits
    ? isUpload(c.req.method, c.req.path)
      ? uploadLimit(config) + UPLOAD_FRAMING_BYTES
      : limits.maxBodyBytes
    : Number(c.env.MAX_BODY_BYTES) || 1024 * 1024;
  const declaredHeader = raw.headers.get("content-length");
  const declared = declaredHeader === null ? -1 : Number(declaredHeader);
  if (declared > maxSize) throw tooLarge(maxSize);
  const json = JSON_MEDIA.test((raw.headers.get("content-type") ?? "").split(";")[0]!.trim());
  if (!json && declared >= 0 && !raw.headers.has("transfer-encoding")) return next();

  const bytes = await readBounded(raw.body, maxSize, declared, {
    idleMs: BODY_IDLE_TIMEOUT_MS,
    totalMs: json ? JSON_BODY_TIMEOUT_MS : null,
  });
  if (json) {
    let text: string;
    try {
      text = strictUtf8.decode(bytes);
    } catch {
      throw new AppError("invalid_body", "The JSON body is not valid UTF-8.");
    }
    const problem = jsonTextProblem(text);
    if (problem) throw new AppError("invalid_body", problem);
    // The validator's c.req.json() parses this cached text instead of reading the stream again
    // (Hono keeps the promise of each body reading there; its type names the resolved value).
    Object.assign(c.req.bodyCache, { text: Promise.resolve(text) });
  }
  c.req.raw = new Request(raw, { body: bytes });
  await next();
}

/** The body limit as a middleware, for routes outside a tenant (the platform admin API). */
export function bodyLimit(): MiddlewareHandler<AppEnv> {
  return async function bodyLimit(c, next) {
    await limitBody(c, next);
  };
}
