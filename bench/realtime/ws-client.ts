/**
 * WebSocket clients of the realtime benchmark: the `ws` package, no compression (neither side of
 * the comparison negotiates it), client sockets spread over 127.0.0.1–127.0.0.4 so that ten
 * thousand of them do not run out of ephemeral ports, and the server frames the benchmark reads,
 * validated by zod schemas.
 */
import WebSocket from "ws";
import { z } from "zod";

/** Source addresses of client sockets, used in turn. */
const LOCAL_ADDRESSES = ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"];
let nextLocal = 0;

export interface ConnectOptions {
  headers?: Record<string, string>;
  /** Opening handshake timeout. */
  timeoutMs?: number;
  /** Called for every frame with its arrival time (process.hrtime.bigint, taken first). */
  onFrame?: (data: Buffer, at: bigint) => void;
  onClose?: (code: number) => void;
}

/** Why a connection attempt failed: the HTTP status of a refused upgrade, or the socket error. */
export class ConnectError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** Opens a WebSocket; resolves once it is open, rejects (and cleans up) on refusal, error or timeout. */
export function connect(url: string, o: ConnectOptions = {}): Promise<WebSocket> {
  const localAddress = LOCAL_ADDRESSES[nextLocal++ % LOCAL_ADDRESSES.length]!;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {
      headers: o.headers ?? {},
      localAddress,
      perMessageDeflate: false,
      handshakeTimeout: o.timeoutMs ?? 10_000,
    });
    let opened = false;
    ws.on("message", (data: Buffer) => o.onFrame?.(data, process.hrtime.bigint()));
    ws.once("open", () => {
      opened = true;
      resolve(ws);
    });
    ws.on("unexpected-response", (req, res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        reject(
          new ConnectError(
            `upgrade refused: ${res.statusCode} ${Buffer.concat(chunks).toString("utf8").slice(0, 200)}`,
            res.statusCode,
          ),
        ),
      );
      res.on("error", (err) => reject(new ConnectError(err.message, res.statusCode)));
      req.destroy();
    });
    ws.on("error", (err) => {
      if (!opened) reject(new ConnectError(err.message));
    });
    ws.on("close", (code) => {
      if (!opened) reject(new ConnectError(`closed before opening (${code})`));
      else o.onClose?.(code);
    });
  });
}

/** Closes a socket and resolves once it is closed (or after `timeoutMs`, terminating it). */
export function closeSocket(ws: WebSocket, timeoutMs = 2000): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      ws.terminate();
      resolve();
    }, timeoutMs);
    ws.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
    if (ws.readyState !== WebSocket.CLOSING) ws.close(1000);
  });
}

/** Closes many sockets, `concurrency` at a time. */
export async function closeAll(sockets: WebSocket[], concurrency = 256): Promise<void> {
  for (let i = 0; i < sockets.length; i += concurrency)
    await Promise.all(sockets.slice(i, i + concurrency).map((ws) => closeSocket(ws)));
}

/** The server frames the benchmark reads (docs/realtime.md); others are ignored. */
export const MessageFrameSchema = z.object({
  type: z.literal("message"),
  conversationId: z.string(),
  seq: z.number().int().min(1),
  senderId: z.string(),
  kind: z.string(),
  body: z.unknown(),
});
const ServerFrameSchema = z.discriminatedUnion("type", [
  MessageFrameSchema,
  z.object({
    type: z.literal("ack"),
    clientId: z.string(),
    conversationId: z.string(),
    seq: z.number().int().min(1),
    messageId: z.string(),
  }),
  z.object({ type: z.literal("synced"), cursors: z.record(z.string(), z.number().int()) }),
  z.object({
    type: z.literal("sync_truncated"),
    conversationId: z.string(),
    fromSeq: z.number().int(),
    latestSeq: z.number().int(),
  }),
  z.object({ type: z.literal("error"), code: z.string(), message: z.string(), clientId: z.string().optional() }),
  z.object({ type: z.literal("closed"), reason: z.string() }),
]);
export type ServerFrame = z.infer<typeof ServerFrameSchema>;
export type MessageFrame = z.infer<typeof MessageFrameSchema>;
const KNOWN = new Set(["message", "ack", "synced", "sync_truncated", "error", "closed"]);

/** A frame of a type the benchmark reads, validated; `null` for other types (presence, pong, …). */
export function parseFrame(data: Buffer | string): ServerFrame | null {
  const value: unknown = JSON.parse(typeof data === "string" ? data : data.toString("utf8"));
  const type = typeof value === "object" && value !== null && "type" in value ? value.type : undefined;
  if (typeof type !== "string" || !KNOWN.has(type)) return null;
  return ServerFrameSchema.parse(value);
}
