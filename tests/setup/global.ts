/**
 * Vitest global setup (Node): starts the real local libSQL server on a free port with a fresh
 * data folder, creates and migrates the platform database, and hands the Worker its URLs and
 * secrets through `provide` (read by vitest.config.ts for the Miniflare bindings and by tests
 * through `inject`).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { randomBytes } from "node:crypto";
import { bootstrapPlatform } from "../../tools/platform-bootstrap";
import { startServer } from "../../tools/libsql-server/server";

export default async function setup(project: TestProject) {
  const dataDir = mkdtempSync(join(tmpdir(), "canopy-test-"));
  const secret = randomBytes(24).toString("base64url");
  const server = await startServer({ port: 0, dataDir, secret, streamIdleTimeoutMs: 5000 });
  const platform = await bootstrapPlatform(server.origin, secret);

  project.provide("libsql", {
    origin: server.origin,
    secret,
    platformUrl: platform.url,
    platformToken: platform.token,
  });
  project.provide("secrets", {
    adminToken: randomBytes(24).toString("base64url"),
    encryptionKey: randomBytes(32).toString("base64url"),
  });

  return async () => {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    libsql: { origin: string; secret: string; platformUrl: string; platformToken: string };
    secrets: { adminToken: string; encryptionKey: string };
  }
}
