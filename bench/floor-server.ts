/**
 * The HTTP plumbing the floors share (libsql-floor.ts, content/floor.ts, commerce/floor.ts): a
 * plain Node server on a free loopback port that announces itself with a line the benchmark waits
 * for (servers.ts' `startFloor`) and closes cleanly on SIGTERM or SIGINT.
 */
import { createServer, type IncomingMessage, type RequestListener } from "node:http";
import type { AddressInfo } from "node:net";

/** A request's whole body as UTF-8 text. */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/**
 * Serves `handler` on a free loopback port and prints `<name> floor listening on http://…`; on
 * SIGTERM or SIGINT closes the server and its connections, runs `close` (the databases) and exits 0.
 */
export function serveFloor(name: string, handler: RequestListener, close: () => void): void {
  const server = createServer(handler);
  // Longer than any pause between the benchmark's requests on a kept-alive connection.
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1", () => {
    const { port } = server.address() as AddressInfo;
    process.stdout.write(`${name} floor listening on http://127.0.0.1:${port}\n`);
  });
  const stop = (): void => {
    server.close();
    server.closeAllConnections();
    close();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
