/** Reading and checking REST requests: bearer auth and JSON command bodies. */
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

/** Largest request body accepted (Upstash's own limit is lower on most plans). */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** A request the adapter refuses before touching Redis; `status` is the HTTP status. */
export class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** True when the request carries `token` as `Authorization: Bearer …` or `?_token=` (both Upstash's). */
export function authorized(req: IncomingMessage, url: URL, token: string): boolean {
  const header = req.headers.authorization ?? "";
  const given = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim() ?? url.searchParams.get("_token") ?? "";
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw new RequestError(413, `ERR request body exceeds ${MAX_BODY_BYTES} bytes`);
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** One command: a non-empty array of strings, numbers or booleans (the client serialises the rest). */
function toCommand(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0)
    throw new RequestError(400, "ERR a command must be a non-empty JSON array");
  return value.map((arg: unknown) => {
    if (typeof arg === "string") return arg;
    if (typeof arg === "number" || typeof arg === "boolean") return String(arg);
    throw new RequestError(400, "ERR command arguments must be strings, numbers or booleans");
  });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const body = await readText(req);
  try {
    return JSON.parse(body);
  } catch {
    throw new RequestError(400, "ERR failed to parse the request body as JSON");
  }
}

/** `POST /` body: `["SET", "k", "v"]`. */
export async function readCommand(req: IncomingMessage): Promise<string[]> {
  return toCommand(await readJson(req));
}

/** `POST /pipeline` and `/multi-exec` body: `[["SET", "k", "v"], ["GET", "k"]]`. */
export async function readCommands(req: IncomingMessage): Promise<string[][]> {
  const value = await readJson(req);
  if (!Array.isArray(value) || value.length === 0)
    throw new RequestError(400, "ERR expected a non-empty JSON array of commands");
  return value.map(toCommand);
}
