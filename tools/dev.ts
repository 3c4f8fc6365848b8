/**
 * `npm run dev`: the local libSQL server, the platform database, `wrangler dev` and a ready
 * `demo` tenant, with one Ctrl-C to stop everything. State lives in .canopy/ (npm run reset).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { writeVars } from "./dotenv";
import { startServer } from "./libsql-server/server";
import { devVarsPath, libsqlDir, localSecrets, root, wranglerDir } from "./local-state";
import { bootstrapPlatform } from "./platform-bootstrap";
import { answersOk, StopWaiting, waitUntil } from "./wait";

const port = Number(process.env.PORT ?? 8787);
const libsqlPort = Number(process.env.LIBSQL_PORT ?? 8081);
const api = `http://localhost:${port}`;

/** Waits until `url` answers 2xx; fails at once if wrangler exits, and after `ms` with the last error. */
async function waitForWrangler(url: string, ms: number, child: ChildProcess): Promise<void> {
  const ok = answersOk(url);
  await waitUntil(
    `wrangler dev at ${url}`,
    (signal) => {
      if (child.exitCode !== null)
        throw new StopWaiting(new Error(`wrangler dev exited with code ${child.exitCode} before ${url} answered`));
      return ok(signal);
    },
    // The first start bundles the Worker and starts workerd: minutes on a slow machine.
    { attemptMs: 5_000, deadlineMs: ms, intervalMs: 500 },
  );
}

async function ensureDemoTenant(adminToken: string): Promise<string> {
  const headers = { authorization: `Bearer ${adminToken}`, "content-type": "application/json" };
  const existing = await fetch(`${api}/admin/v1/tenants/demo`, { headers });
  if (existing.ok) return "exists";
  const res = await fetch(`${api}/admin/v1/tenants`, {
    method: "POST",
    headers: { ...headers, "idempotency-key": "npm-run-dev-demo-tenant" },
    body: JSON.stringify({ slug: "demo", name: "Demo", config: { allowedOrigins: ["*"], features: { chat: true } } }),
  });
  if (!res.ok) throw new Error(`creating the demo tenant failed: HTTP ${res.status} ${await res.text()}`);
  return "created";
}

async function main(): Promise<void> {
  const secrets = localSecrets();
  mkdirSync(libsqlDir, { recursive: true });
  const server = await startServer({ port: libsqlPort, dataDir: libsqlDir, secret: secrets.libsqlSecret });
  const platform = await bootstrapPlatform(server.origin, secrets.libsqlSecret);
  writeVars(
    devVarsPath,
    {
      ADMIN_TOKEN: secrets.adminToken,
      PLATFORM_DB_URL: platform.url,
      PLATFORM_DB_TOKEN: platform.token,
      DB_ENCRYPTION_KEY: secrets.encryptionKey,
      LIBSQL_ADMIN_URL: server.origin,
      LIBSQL_ADMIN_TOKEN: secrets.libsqlSecret,
      DB_PROVISIONER: "local",
    },
    "Written by `npm run dev` (git-ignored). Secrets persist in .canopy/secrets.json; `npm run reset` wipes both.",
  );

  // Own process group (detached), so stopping it also stops the workerd it spawns.
  const wrangler = spawn(
    "wrangler",
    [
      "dev",
      "--port",
      String(port),
      "--ip",
      "127.0.0.1",
      "--persist-to",
      wranglerDir,
      "--show-interactive-dev-session=false",
      "--test-scheduled",
    ],
    { cwd: root, stdio: ["ignore", "inherit", "inherit"], detached: true, env: { ...process.env, FORCE_COLOR: "1" } },
  );
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    if (wrangler.pid && wrangler.exitCode === null) {
      try {
        process.kill(-wrangler.pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
    await server.close();
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));
  wrangler.on("exit", (code) => void stop(code ?? 1));

  await waitForWrangler(`${api}/readyz`, 180_000, wrangler);
  // wrangler dev does not fire cron triggers by itself: fire the minute cron (outbox sweeper,
  // webhook retries, housekeeping) as production would.
  const cron = setInterval(() => void fetch(`${api}/__scheduled?cron=*+*+*+*+*`).catch(() => undefined), 60_000);
  cron.unref();
  const demo = await ensureDemoTenant(secrets.adminToken);
  console.log(`
  Canopy is running.
    API            ${api}   (reference: ${api}/docs, OpenAPI: ${api}/openapi.json)
    libSQL server  ${server.origin}   (data in .canopy/libsql; platform DB ${platform.url})
    demo tenant    ${demo}
    admin token    ${secrets.adminToken}   (also in .dev.vars as ADMIN_TOKEN)

  Try:
    curl -H 'X-Tenant: demo' ${api}/v1/tenant
    curl -H 'Authorization: Bearer ${secrets.adminToken}' ${api}/admin/v1/tenants
    curl -X POST -H 'Authorization: Bearer ${secrets.adminToken}' -H 'content-type: application/json' \\
         -d '{"slug":"acme","name":"Acme"}' ${api}/admin/v1/tenants

  Ctrl-C stops everything; state persists across restarts (npm run reset wipes it).
`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
