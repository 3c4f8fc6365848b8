/**
 * Global setup of the browser tests (Node): the real local libSQL server with its platform
 * database, the local mail catcher, and the Worker itself from wrangler.toml under wrangler's
 * test harness (workerd, with its Durable Objects, Queues, R2 and the built web apps as static
 * assets) on a loopback port. Tests drive it with headless Chromium (chromium.ts) and Node
 * clients; they get its URL and admin token through `inject("stack")`.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { createTestHarness } from "wrangler";
import { startServer } from "../../tools/libsql-server/server";
import { startMailCatcher } from "../../tools/mail-catcher/server";
import { bootstrapPlatform } from "../../tools/platform-bootstrap";

declare module "vitest" {
  export interface ProvidedContext {
    stack: { url: string; adminToken: string };
  }
}

export default async function setup(project: TestProject) {
  const dataDir = mkdtempSync(join(tmpdir(), "canopy-browser-"));
  const secret = randomBytes(24).toString("base64url");
  const libsql = await startServer({ port: 0, dataDir, secret, streamIdleTimeoutMs: 5000 });
  const platform = await bootstrapPlatform(libsql.origin, secret);
  const mail = await startMailCatcher({ port: 0, token: randomBytes(24).toString("base64url") });
  const adminToken = randomBytes(24).toString("base64url");
  const server = createTestHarness({
    workers: [
      {
        configPath: "./wrangler.toml",
        vars: { MAIL_API_URL: mail.url, TENANT_CACHE_TTL_MS: "1000" },
        secrets: {
          ADMIN_TOKEN: adminToken,
          METRICS_TOKEN: randomBytes(24).toString("base64url"),
          DB_ENCRYPTION_KEY: randomBytes(32).toString("base64url"),
          PLATFORM_DB_URL: platform.url,
          PLATFORM_DB_TOKEN: platform.token,
          LIBSQL_ADMIN_URL: libsql.origin,
          LIBSQL_ADMIN_TOKEN: secret,
          MAIL_API_KEY: mail.token,
        },
      },
    ],
  });
  try {
    const { url } = await server.listen();
    project.provide("stack", { url: url.origin, adminToken });
  } catch (err) {
    await Promise.allSettled([server.close(), mail.close(), libsql.close()]);
    throw err;
  }
  return async () => {
    await server.close();
    await mail.close();
    await libsql.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
}
