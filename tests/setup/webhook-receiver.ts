/**
 * A webhook receiver for the tests: a real HTTP server outside the Worker, on 127.0.0.1, that
 * records every request (method, headers, raw body) per path and answers 200 unless told to
 * fail. Tests inside workerd drive it over fetch:
 * - `POST /__control/<path>` `{ "failNext": 3, "status": 503 }`: the next 3 requests to
 *   `/<path>` get 503 (a 3xx status also sends `Location: /<path>/redirected`);
 * - `GET /__requests/<path>`: `[{ method, headers, body, status, at }]` in arrival order.
 * Paths are per test (random), so tests running in parallel never see each other's traffic.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedRequest {
  method: string;
  headers: Record<string, string>;
  body: string;
  /** The status the receiver answered. */
  status: number;
  at: number;
}

interface PathState {
  requests: ReceivedRequest[];
  failNext: number;
  status: number;
}

const MAX_BODY = 1024 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

export async function startWebhookReceiver(): Promise<{ url: string; close: () => Promise<void> }> {
  const paths = new Map<string, PathState>();
  const stateOf = (path: string): PathState => {
    let s = paths.get(path);
    if (!s) paths.set(path, (s = { requests: [], failNext: 0, status: 500 }));
    return s;
  };

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://receiver");
      const body = await readBody(req);
      if (url.pathname.startsWith("/__control/")) {
        const path = url.pathname.slice("/__control".length);
        const cmd = JSON.parse(body || "{}") as { failNext?: number; status?: number };
        const s = stateOf(path);
        s.failNext = cmd.failNext ?? 0;
        s.status = cmd.status ?? 500;
        return json(res, 200, { path, failNext: s.failNext, status: s.status });
      }
      if (url.pathname.startsWith("/__requests/")) {
        return json(res, 200, paths.get(url.pathname.slice("/__requests".length))?.requests ?? []);
      }
      const s = stateOf(url.pathname);
      const status = s.failNext > 0 ? s.status : 200;
      if (s.failNext > 0) s.failNext--;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
      s.requests.push({ method: req.method ?? "", headers, body, status, at: Date.now() });
      if (status >= 300 && status < 400) res.setHeader("location", `${url.pathname}/redirected`);
      res
        .writeHead(status, { "content-type": "text/plain" })
        .end(status < 300 ? "ok" : `failing on purpose (${status})`);
    })().catch((err: unknown) => json(res, 500, { error: String(err) }));
  });

  // A failed listen rejects (it would otherwise leave the set-up waiting for ever).
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
