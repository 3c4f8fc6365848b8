/**
 * Prometheus' own checker for the tests: a plain HTTP server on 127.0.0.1 that runs Debian's
 * `promtool check metrics` (installed by tools/system-deps.sh) on what it is sent and answers
 * `{ exitCode, output }`. Tests inside workerd cannot start processes; they fetch /metrics from
 * the Worker and post the exposition here, so the format is judged by Prometheus, not by us.
 */
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

const MAX_BODY = 8 * 1024 * 1024;

function promtool(args: string[], input: string): Promise<{ exitCode: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("promtool", args, { stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (output += c.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolve({ exitCode: code ?? -1, output }));
    child.stdin.end(input);
  });
}

export async function startPromtoolChecker(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/check/metrics" || size > MAX_BODY) {
        res.writeHead(404).end();
        return;
      }
      promtool(["check", "metrics"], Buffer.concat(chunks).toString("utf8")).then(
        (r) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(r)),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
