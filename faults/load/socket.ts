/**
 * Opening a WebSocket to `GET /v1/realtime` with the `ws` package, the upgrade's answer recorded
 * in the journal like any HTTP answer: a refused upgrade (401, 503 …) keeps its status and
 * Retry-After, a connection that fails (workerd down) is an answer-less outcome. The benchmark's
 * client (bench/realtime/ws-client.ts) hides the refusal's headers, which the 503 check needs.
 */
import WebSocket from "ws";
import type { Journal } from "../http";

let counter = 0;

/** Resolves with the open socket, or null when the upgrade was refused or failed (recorded). */
export function openSocket(
  url: string,
  headers: Record<string, string>,
  journal: Journal,
  op: string,
  timeoutMs = 10_000,
): Promise<WebSocket | null> {
  const requestId = `flt-ws-${++counter}-${op}`;
  const startedAt = Date.now();
  const base = { op, method: "GET", path: "/v1/realtime", requestId, startedAt };
  return new Promise((resolve) => {
    let settled = false;
    const settle = (
      ws: WebSocket | null,
      status: number | null,
      retryAfter: string | null,
      body: string,
      error: string | null,
      timedOut = false,
    ) => {
      if (settled) return;
      settled = true;
      journal.record({ ...base, status, retryAfter, body: body.slice(0, 300), error, timedOut, endedAt: Date.now() });
      resolve(ws);
    };
    const ws = new WebSocket(url, {
      headers: { ...headers, "x-request-id": requestId },
      perMessageDeflate: false,
      handshakeTimeout: timeoutMs,
    });
    ws.once("open", () => settle(ws, 101, null, "", null));
    ws.on("unexpected-response", (req, res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const ra = res.headers["retry-after"];
        settle(
          null,
          res.statusCode ?? null,
          typeof ra === "string" ? ra : null,
          Buffer.concat(chunks).toString("utf8"),
          null,
        );
      });
      res.on("error", (err) => settle(null, res.statusCode ?? null, null, "", err.message));
      req.destroy();
    });
    ws.on("error", (err) => {
      const timedOut = /timed? ?out/i.test(err.message);
      settle(null, null, null, "", err.message, timedOut);
    });
    ws.on("close", (code) => settle(null, null, null, "", `closed before opening (${code})`));
  });
}
