/**
 * The local mail catcher: an HTTP server that speaks the providers' send APIs, so Canopy's real
 * Resend and Postmark transports deliver to it in development (`npm run dev`) and in the tests,
 * and keeps what it receives in memory for people and tests to read.
 *
 *   POST /emails    Resend's shape; `Authorization: Bearer <token>` (none: 401, another: 403);
 *                   answers `{ id }`; an `Idempotency-Key` seen in the last 24 h answers the
 *                   first id and stores nothing (with another body: 409), as Resend does.
 *   POST /email     Postmark's shape; `X-Postmark-Server-Token: <token>` (else 401); answers
 *                   `{ To, SubmittedAt, MessageID, ErrorCode: 0, Message: "OK" }`.
 *   GET /messages?to=&limit=&before=   the inbox, newest first: `{ items }` (Bearer token).
 *   DELETE /messages?to=               empties the inbox, or one recipient's part of it.
 *
 * A malformed body is a 422 in the provider's error shape. Why not a real SMTP catcher
 * (Mailpit): Workers cannot speak SMTP to it, and the provider-shaped sink also proves the
 * transports' HTTP requests.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { bareAddress, linksIn, parsePostmark, parseResend, type CaughtMail, type Provider } from "./shapes";

export type { CaughtMail } from "./shapes";

/** Options of {@link startMailCatcher}. */
export interface MailCatcherOptions {
  /** Port to listen on; 0 takes a free one. */
  port: number;
  /** The API key clients present: Resend's bearer token, Postmark's server token, the inbox's bearer token. */
  token: string;
  /** Interface to listen on (default 127.0.0.1: the inbox holds sign-in links). */
  host?: string;
  /** Print one line per message (subject, recipient, links): `true` for the console, or a function. */
  log?: boolean | ((line: string) => void);
  /** Messages kept, oldest dropped first (default 1000). */
  max?: number;
}

/** A running catcher. */
export interface MailCatcher {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:8025`: MAIL_API_URL. */
  url: string;
  token: string;
  close(): Promise<void>;
  /** What was received, newest first. */
  messages(): CaughtMail[];
}

const MAX_BODY = 1024 * 1024;
const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
const MAX_KEYS = 10_000;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`HTTP ${status}`);
  }
}

const resendError = (status: number, name: string, message: string) =>
  new HttpError(status, { statusCode: status, name, message });
const postmarkError = (status: number, code: number, message: string) =>
  new HttpError(status, { ErrorCode: code, Message: message });

function reply(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(data) });
  res.end(data);
}

/** The body as text; past MAX_BODY the rest is drained and `tooLarge` set. */
function readBody(req: IncomingMessage): Promise<{ text: string; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on("end", () => resolve({ text: Buffer.concat(chunks).toString("utf8"), tooLarge: size > MAX_BODY }));
    req.on("error", reject);
  });
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/** Starts the catcher; resolves once it listens (a failed listen, such as a taken port, rejects). */
export async function startMailCatcher(options: MailCatcherOptions): Promise<MailCatcher> {
  const max = options.max ?? 1000;
  const stored: CaughtMail[] = []; // oldest first
  const keys = new Map<string, { fingerprint: string; id: string; at: number }>();
  const print =
    options.log === true ? (line: string) => console.log(line) : options.log === false ? undefined : options.log;

  const bearer = (req: IncomingMessage) => /^Bearer\s+(.+)$/i.exec(header(req, "authorization") ?? "")?.[1]?.trim();

  function store(provider: Provider, mail: Omit<CaughtMail, "id" | "provider" | "receivedAt">): CaughtMail {
    const caught: CaughtMail = { id: randomUUID(), provider, ...mail, receivedAt: new Date().toISOString() };
    stored.push(caught);
    if (stored.length > max) stored.splice(0, stored.length - max);
    if (print) {
      const links = linksIn(caught.text ?? caught.html ?? "");
      print(`mail  ${caught.to.join(", ")}  "${caught.subject}"${links.length ? `  ${links.join("  ")}` : ""}`);
    }
    return caught;
  }

  function readJson(text: string, malformed: () => HttpError): unknown {
    try {
      return JSON.parse(text);
    } catch {
      throw malformed();
    }
  }

  async function resend(req: IncomingMessage): Promise<unknown> {
    const token = bearer(req);
    if (!token) throw resendError(401, "missing_api_key", "Missing API key in the authorization header.");
    if (token !== options.token) throw resendError(403, "invalid_api_key", "API key is invalid");
    const { text, tooLarge } = await readBody(req);
    if (tooLarge) throw resendError(413, "validation_error", "The request body is too large.");
    const parsed = parseResend(readJson(text, () => resendError(422, "validation_error", "Invalid JSON body.")));
    if (!parsed.ok) throw resendError(422, "validation_error", parsed.message);
    const key = header(req, "idempotency-key");
    if (key === undefined) return { id: store("resend", parsed.mail).id };
    if (key.length < 1 || key.length > 256)
      throw resendError(400, "invalid_idempotency_key", "The key must be between 1-256 chars.");
    const fingerprint = JSON.stringify(parsed.mail);
    const seen = keys.get(key);
    if (seen && Date.now() - seen.at < IDEMPOTENCY_TTL_MS) {
      if (seen.fingerprint !== fingerprint)
        throw resendError(
          409,
          "invalid_idempotent_request",
          "Same idempotency key used with a different request payload. Change your idempotency key or payload.",
        );
      return { id: seen.id };
    }
    const id = store("resend", parsed.mail).id;
    keys.delete(key);
    keys.set(key, { fingerprint, id, at: Date.now() });
    if (keys.size > MAX_KEYS) keys.delete(keys.keys().next().value ?? "");
    return { id };
  }

  async function postmark(req: IncomingMessage): Promise<unknown> {
    const token = header(req, "x-postmark-server-token");
    if (!token) throw postmarkError(401, 10, "No Account or Server API tokens were supplied in the HTTP headers.");
    if (token !== options.token) throw postmarkError(401, 10, "Request does not contain a valid Server token.");
    const { text, tooLarge } = await readBody(req);
    if (tooLarge) throw postmarkError(422, 300, "The message is too large.");
    const parsed = parsePostmark(readJson(text, () => postmarkError(422, 402, "Received invalid JSON input.")));
    if (!parsed.ok) throw postmarkError(422, 300, parsed.message);
    const caught = store("postmark", parsed.mail);
    return {
      To: caught.to.join(", "),
      SubmittedAt: caught.receivedAt,
      MessageID: caught.id,
      ErrorCode: 0,
      Message: "OK",
    };
  }

  function inbox(req: IncomingMessage, url: URL): unknown {
    if (bearer(req) !== options.token) throw new HttpError(401, { error: "Authorization: Bearer <token> required" });
    const to = url.searchParams.get("to");
    const matches = (m: CaughtMail) => to === null || m.to.some((a) => bareAddress(a) === bareAddress(to));
    if (req.method === "DELETE") {
      const before = stored.length;
      for (let i = stored.length - 1; i >= 0; i--) if (matches(stored[i]!)) stored.splice(i, 1);
      return { deleted: before - stored.length };
    }
    const limit = Math.min(Math.max(Number(url.searchParams.get("limit") ?? 100) || 100, 1), max);
    const before = url.searchParams.get("before");
    let newest = stored.length - 1;
    if (before !== null) {
      // Paging on from a message that was dropped (max reached) or deleted ends the list.
      newest = stored.findIndex((m) => m.id === before) - 1;
      if (newest < 0) return { items: [] };
    }
    const items: CaughtMail[] = [];
    for (let i = newest; i >= 0 && items.length < limit; i--) if (matches(stored[i]!)) items.push(stored[i]!);
    return { items };
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://catcher.invalid");
    const path = url.pathname.replace(/\/+$/, "") || "/";
    const method = req.method ?? "GET";
    if (path === "/emails" && method === "POST") return reply(res, 200, await resend(req));
    if (path === "/email" && method === "POST") return reply(res, 200, await postmark(req));
    if (path === "/messages" && (method === "GET" || method === "DELETE")) return reply(res, 200, inbox(req, url));
    throw new HttpError(404, { error: `no route for ${method} ${path} in the mail catcher` });
  }

  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      if (err instanceof HttpError) return reply(res, err.status, err.body);
      reply(res, 500, { error: err instanceof Error ? err.message : String(err) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(":") ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}`,
    token: options.token,
    messages: () => [...stored].reverse(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
