/** Small HTTP helpers: reading JSON bodies and writing JSON responses and errors. */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { z } from "zod";
import { HttpError } from "./errors.js";
import { describeZodError } from "./hrana.js";

/** Largest request body accepted (bulk inserts can be big, but not unbounded). */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** Read the whole request body as UTF-8 text; 413 when larger than MAX_BODY_BYTES. */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk instanceof Buffer ? chunk : Buffer.from(String(chunk));
    size += buf.length;
    if (size > MAX_BODY_BYTES)
      throw new HttpError(413, "PAYLOAD_TOO_LARGE", `Request body exceeds ${MAX_BODY_BYTES} bytes`);
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Read and validate a JSON request body. Protobuf is refused with 415 (the client only falls
 * back to it when probing `v3-protobuf`, which this server answers with 404).
 */
export async function readJson<T>(req: IncomingMessage, schema: z.ZodType<T>, { optional = false } = {}): Promise<T> {
  const type = (req.headers["content-type"] ?? "").toLowerCase();
  if (type.includes("protobuf")) {
    throw new HttpError(415, "UNSUPPORTED_ENCODING", "Protobuf encoding is not supported by this server; use JSON");
  }
  const text = await readBody(req);
  let json: unknown;
  if (text.trim() === "" && optional) {
    json = {};
  } else {
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new HttpError(
        400,
        "INVALID_JSON",
        `Could not parse JSON request body: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new HttpError(400, "PROTOCOL_ERROR", describeZodError(parsed.error));
  return parsed.data;
}

/** Write a JSON response. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(data) });
  res.end(data);
}

/** Write a plain-text response. */
export function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/**
 * Write an error as JSON `{ error, message, code }`: `error` is sqld's field; `message` + `code`
 * make `@libsql/client` raise a LibsqlError carrying `code` instead of a generic SERVER_ERROR.
 */
export function sendError(res: ServerResponse, err: HttpError): void {
  sendJson(res, err.status, { error: err.message, message: err.message, code: err.code });
}

/** Write newline-delimited JSON lines (Hrana cursor responses; sqld uses text/plain). */
export function sendLines(res: ServerResponse, lines: unknown[]): void {
  res.writeHead(200, { "content-type": "text/plain" });
  // Write in chunks so one huge string is never built for a large result.
  let buf = "";
  for (const line of lines) {
    buf += `${JSON.stringify(line)}\n`;
    if (buf.length >= 64 * 1024) {
      res.write(buf);
      buf = "";
    }
  }
  res.end(buf);
}
