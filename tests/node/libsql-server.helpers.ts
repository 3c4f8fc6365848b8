/** Shared setup for the local libSQL server tests: a server on a free port over a fresh temp dir. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient as createNodeClient, type Client, type Config } from "@libsql/client";
import { createClient as createWebClient } from "@libsql/client/web";
import { startServer, type LibsqlServer } from "../../tools/libsql-server/server.js";

export const SECRET = "test-secret-please-ignore";

/** A started server plus its data directory; `stop()` closes it and removes the directory. */
export interface TestServer {
  server: LibsqlServer;
  dataDir: string;
  stop(): Promise<void>;
}

/** Start a server on port 0 with a fresh data directory. */
export async function startTestServer(streamIdleTimeoutMs?: number): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), "canopy-libsql-"));
  const server = await startServer({ port: 0, dataDir, secret: SECRET, streamIdleTimeoutMs });
  return {
    server,
    dataDir,
    stop: async () => {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Call the admin API with the master secret (or `token`). */
export async function admin(server: LibsqlServer, method: string, path: string, token = SECRET): Promise<Response> {
  return fetch(`${server.origin}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
}

/** Create a namespace through the admin API and return its `{ namespace, url, token }`. */
export async function createNamespace(
  server: LibsqlServer,
  ns: string,
): Promise<{ namespace: string; url: string; token: string }> {
  const res = await admin(server, "POST", `/v1/namespaces/${ns}/create`);
  if (res.status !== 200) throw new Error(`create ${ns}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as { namespace: string; url: string; token: string };
}

/** POST a raw JSON body (string or value) to a Hrana endpoint of a namespace. */
export async function postHrana(
  server: LibsqlServer,
  ns: string,
  endpoint: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${server.dbUrl(ns)}${endpoint}`, {
    method: "POST",
    headers: { authorization: `Bearer ${server.tokenFor(ns)}`, "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** The two builds of the client the Worker may use. */
export const clientBuilds = [
  { build: "node", create: (config: Config): Client => createNodeClient(config) },
  { build: "web", create: (config: Config): Client => createWebClient(config) },
] as const;

/** The `code` of a rejected LibsqlError (or undefined). */
export async function rejectionCode(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    return (err as { code?: string }).code;
  }
  throw new Error("expected the promise to reject");
}
